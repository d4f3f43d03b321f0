/**
 * Phone number normalisation (E.164) for seized call records, contact lists and
 * replies. Pure functions: no Nest, no TypeORM.
 *
 * Built on `libphonenumber-js` with the `max` metadata (the only build that can
 * tell mobiles from landlines). libphonenumber alone manages ~30k numbers/s,
 * far too slow for a 10-million-row import, so `normalisePhone` has two layers
 * in front of it:
 *
 *  1. a fast path for the shapes that make up almost all of the evidence (UK
 *     mobiles and UK geographic numbers in any of their written forms, default
 *     region GB). It strips separators, recognises `+44` / `0044` / `44` / `0`
 *     prefixes (and the trunk `0` in `+44 (0)…`), and checks the national number
 *     against libphonenumber's own GB mobile / fixed-line patterns, read from the
 *     same metadata at start-up. It never says "yes" where libphonenumber would
 *     say "no" (the unit tests compare both on random numbers of every prefix).
 *  2. a bounded two-generation cache (≈100k entries) in front of libphonenumber
 *     for everything else (foreign numbers, 0800/03xx numbers, junk, …).
 *
 * Letters and any character other than digits, a leading `+`, spaces, dashes,
 * dots, slashes and parentheses are rejected up front: libphonenumber would
 * otherwise happily extract a number from `call 07723 456789 now` or
 * `tel:+44…`, which we do not want from evidence or from a form.
 */
import type { CountryCode, MetadataJson } from 'libphonenumber-js';
import { Metadata } from 'libphonenumber-js/core';
import { ParseError, parsePhoneNumberWithError, validatePhoneNumberLength } from 'libphonenumber-js/max';
import maxMetadata from 'libphonenumber-js/max/metadata';
import { latin1 } from './bytes.js';

export type PhoneType = 'mobile' | 'fixed_line' | 'other';

/** Every reason string `normalisePhone` can return. */
export const PHONE_REJECT_REASONS = [
  'empty',
  'not a phone number',
  'too short',
  'too long',
  'invalid country code',
  'invalid number',
] as const;
export type PhoneRejectReason = (typeof PHONE_REJECT_REASONS)[number];

export type PhoneOk = { readonly ok: true; readonly e164: string; readonly type: PhoneType };
export type PhoneRejected = { readonly ok: false; readonly reason: PhoneRejectReason };
export type NormalisedPhone = PhoneOk | PhoneRejected;

/**
 * Fictional numbers the sandbox SMS provider uses to simulate outcomes (as GOV.UK
 * Notify's test numbers do).
 *
 * Choice: they are in Ofcom's drama range 07700 900000–900999, which is reserved
 * for fiction and will never be allocated to a subscriber, so a "simulate a
 * failure" message can never reach a real person even if a live provider is
 * configured by mistake. libphonenumber rejects that range as invalid, so exactly
 * these numbers (not the whole range) are allow-listed below: `normalisePhone`
 * accepts them in every written form as UK mobiles, and `isUkMobile` returns true.
 * Every other drama-range number stays "invalid number".
 */
export const RESERVED_TEST_NUMBERS = {
  /** the sandbox reports `delivered` */
  delivered: '+447700900000',
  /** the sandbox reports a permanent failure (number does not exist) */
  permanentFailure: '+447700900001',
  /** the sandbox reports a temporary failure (phone off / out of coverage) */
  temporaryFailure: '+447700900002',
  /** the sandbox rejects the send as Twilio does with error 21610 (recipient opted out) */
  optedOut: '+447700900003',
  /** the sandbox fails the request itself (provider 5xx) → technical failure */
  technicalFailure: '+447700900004',
} as const;

export type ReservedTestOutcome = keyof typeof RESERVED_TEST_NUMBERS;

const RESERVED_BY_E164: ReadonlyMap<string, ReservedTestOutcome> = new Map(
  (Object.entries(RESERVED_TEST_NUMBERS) as [ReservedTestOutcome, string][]).map(([k, v]) => [v, k]),
);

/** The simulated outcome for a reserved test number, or undefined for any other number. */
export function reservedTestOutcome(e164: string): ReservedTestOutcome | undefined {
  return RESERVED_BY_E164.get(e164);
}

export function isReservedTestNumber(e164: string): boolean {
  return RESERVED_BY_E164.has(e164);
}

// ---------------------------------------------------------------------------
// GB patterns from libphonenumber's own metadata (so the fast path follows the
// library when its metadata is updated). If the metadata API ever changes, the
// fast path switches itself off and everything goes through libphonenumber.

type NumberingPlanWithTypes = {
  selectNumberingPlan(country: string): void;
  numberingPlan?: { type(t: string): { pattern(): string } | undefined };
};

function gbPattern(type: 'MOBILE' | 'FIXED_LINE'): string | undefined {
  try {
    const m = new Metadata(maxMetadata as unknown as MetadataJson) as unknown as NumberingPlanWithTypes;
    m.selectNumberingPlan('GB');
    return m.numberingPlan?.type(type)?.pattern() || undefined;
  } catch {
    return undefined;
  }
}

const GB_MOBILE = gbPattern('MOBILE');
const GB_FIXED = gbPattern('FIXED_LINE');
/** The patterns for a national significant number, and for it written in E.164 (+44…). */
const GB_MOBILE_RE = GB_MOBILE === undefined ? undefined : new RegExp(`^(?:${GB_MOBILE})$`);
const GB_MOBILE_E164_RE = GB_MOBILE === undefined ? undefined : new RegExp(`^\\+44(?:${GB_MOBILE})$`);
const GB_FIXED_E164_RE = GB_FIXED === undefined ? undefined : new RegExp(`^\\+44(?:${GB_FIXED})$`);

/** True when the GB fast path is active (libphonenumber metadata was readable). */
export const PHONE_FAST_PATH_ENABLED = GB_MOBILE !== undefined && GB_FIXED !== undefined;

// ---------------------------------------------------------------------------
// Cache for the slow path.

const CACHE_GENERATION_SIZE = 50_000;
const CACHE_MAX_KEY_LENGTH = 40;
let cacheCurrent = new Map<string, NormalisedPhone>();
let cacheOld = new Map<string, NormalisedPhone>();

function cacheGet(key: string): NormalisedPhone | undefined {
  let v = cacheCurrent.get(key);
  if (v !== undefined) return v;
  v = cacheOld.get(key);
  if (v !== undefined) cacheSet(key, v);
  return v;
}

function cacheSet(key: string, value: NormalisedPhone): void {
  if (key.length > CACHE_MAX_KEY_LENGTH) return;
  // A copy of the key: the caller's string may be a view into a whole chunk of a file
  // (V8 substrings keep their parent alive), and the cache outlives that chunk.
  cacheCurrent.set((' ' + key).slice(1), value);
  if (cacheCurrent.size >= CACHE_GENERATION_SIZE) {
    cacheOld = cacheCurrent;
    cacheCurrent = new Map();
  }
}

/** Empties the slow-path cache (benchmarks and tests). */
export function clearPhoneCache(): void {
  cacheCurrent = new Map();
  cacheOld = new Map();
}

// ---------------------------------------------------------------------------

const REJECT: { readonly [R in PhoneRejectReason]: PhoneRejected } = {
  empty: Object.freeze({ ok: false, reason: 'empty' }),
  'not a phone number': Object.freeze({ ok: false, reason: 'not a phone number' }),
  'too short': Object.freeze({ ok: false, reason: 'too short' }),
  'too long': Object.freeze({ ok: false, reason: 'too long' }),
  'invalid country code': Object.freeze({ ok: false, reason: 'invalid country code' }),
  'invalid number': Object.freeze({ ok: false, reason: 'invalid number' }),
};

/** More than this many digits can never be a phone number (E.164 allows 15, plus `00` and a trunk `0`). */
const MAX_DIGITS = 18;
/** Longer raw strings (only phone characters) are 'too long' (libphonenumber itself stops at 250). */
const MAX_RAW_LENGTH = 64;

/**
 * Normalise a phone number as written (`07723 456789`, `+44 (0)7723 456789`,
 * `0044 7723-456-789`, `447723456789`, `+1 212 555 0123`, …) to E.164.
 *
 * Returns `{ ok: true, e164, type }` where type is `mobile`, `fixed_line` or
 * `other` (toll-free, 03xx, VoIP, personal numbers, pagers, and numbers such as
 * North American ones where the metadata cannot tell mobile from fixed), or
 * `{ ok: false, reason }` with one of `PHONE_REJECT_REASONS`.
 */
export function normalisePhone(raw: string, defaultRegion: CountryCode = 'GB'): NormalisedPhone {
  const scanned = scan(raw);
  return typeof scanned === 'string' ? normaliseScanned(scanned, defaultRegion) : scanned;
}

/**
 * normalisePhone for a number written in ASCII bytes [start, end) (a field of an
 * importer's line), default region GB: the characters are checked on the bytes, so
 * the only string made before the fast path is the digits themselves.
 */
export function normalisePhoneBytes(bytes: Uint8Array, start: number, end: number): NormalisedPhone {
  const scanned = scanBytes(bytes, start, end);
  if (typeof scanned !== 'number') return scanned;
  const plus = scanned >= PLUS;
  const n = plus ? scanned - PLUS : scanned;
  if (PHONE_FAST_PATH_ENABLED) {
    const fast = fastGb(n, plus);
    if (fast !== undefined) return fast;
  }
  return normaliseSlow(latin1(scratch, plus ? 0 : 1, n + 1), 'GB');
}

/** The rest of normalisePhone, from the checked digits ('+' and digits only). */
function normaliseScanned(scanned: string, defaultRegion: CountryCode): NormalisedPhone {
  if (defaultRegion === 'GB' && PHONE_FAST_PATH_ENABLED) {
    // The fast path reads the digits from the scratch buffer, as scanBytes leaves them.
    const plus = scanned.charCodeAt(0) === 43;
    let n = 0;
    for (let i = plus ? 1 : 0; i < scanned.length; i++) scratch[1 + n++] = scanned.charCodeAt(i);
    const fast = fastGb(n, plus);
    if (fast !== undefined) return fast;
  }
  return normaliseSlow(scanned, defaultRegion);
}

/** libphonenumber behind a cache, for what the GB fast path leaves. */
function normaliseSlow(scanned: string, defaultRegion: CountryCode): NormalisedPhone {
  const key = defaultRegion === 'GB' ? scanned : defaultRegion + ':' + scanned;
  const cached = cacheGet(key);
  if (cached !== undefined) return cached;
  // The reference reads the same digits: separators carry nothing once checked.
  const result = normalisePhoneReference(scanned, defaultRegion);
  cacheSet(key, result);
  return result;
}

/**
 * Character check shared by both paths: returns the digits (with a leading '+'
 * if one was written) or the rejection. Allowed: digits, one '+' before the
 * first digit, and separators (spaces, tabs, line breaks, dashes, dots, slashes,
 * parentheses).
 */
function scan(raw: string): string | PhoneRejected {
  if (typeof raw !== 'string') return REJECT.empty;
  // Fast path (one allocation instead of one per digit): drop the separators with a
  // regular expression; anything left that is not '+digits' takes the exact loop below.
  const compact = raw.replace(SEPARATORS, '');
  if (PLUS_DIGITS.test(compact)) {
    const digitCount = compact.charCodeAt(0) === 43 ? compact.length - 1 : compact.length;
    if (digitCount > MAX_DIGITS || raw.length > MAX_RAW_LENGTH) return REJECT['too long'];
    return compact;
  }
  return scanExact(raw);
}

const SEPARATORS = /[ \-.()/\t\n\r\u00a0\u2010\u2011\u2012\u2013]/g;
const PLUS_DIGITS = /^\+?\d+$/;

function scanExact(raw: string): string | PhoneRejected {
  const len = raw.length;
  let digits = '';
  let plus = false;
  for (let i = 0; i < len; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits += raw[i];
    } else if (c === 43 /* + */) {
      if (plus || digits.length > 0) return REJECT['not a phone number'];
      plus = true;
    } else if (!isSeparator(c)) {
      return REJECT['not a phone number'];
    }
  }
  if (digits.length === 0) return plus ? REJECT['not a phone number'] : REJECT.empty;
  if (digits.length > MAX_DIGITS || len > MAX_RAW_LENGTH) return REJECT['too long'];
  return plus ? '+' + digits : digits;
}

/**
 * Digits of the number being read: scratch[1…n], with a '+' in scratch[0] so that
 * "+digits" is one slice. Written by scanBytes (and normaliseScanned), read by fastGb.
 */
const scratch = Buffer.alloc(MAX_RAW_LENGTH + 2);
scratch[0] = 43;
/** Added to scanBytes's digit count when a '+' was written. */
const PLUS = 1 << 10;
/** '+44' and a national significant number, made into the E.164 string at once. */
const e164Scratch = Buffer.from('+44' + '0'.repeat(16), 'latin1');

/** scanExact over ASCII bytes: the number of digits (plus PLUS after a '+'), left in scratch. */
function scanBytes(b: Uint8Array, start: number, end: number): number | PhoneRejected {
  let n = 0;
  let plus = false;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c >= 48 && c <= 57) {
      if (n <= MAX_RAW_LENGTH) scratch[1 + n] = c;
      n++;
    } else if (c === 43 /* + */) {
      if (plus || n > 0) return REJECT['not a phone number'];
      plus = true;
    } else if (!isSeparator(c)) {
      return REJECT['not a phone number'];
    }
  }
  if (n === 0) return plus ? REJECT['not a phone number'] : REJECT.empty;
  if (n > MAX_DIGITS || end - start > MAX_RAW_LENGTH) return REJECT['too long'];
  return plus ? n + PLUS : n;
}

function isSeparator(c: number): boolean {
  return (
    c === 32 || // space
    c === 45 || // -
    c === 46 || // .
    c === 40 || // (
    c === 41 || // )
    c === 47 || // /
    c === 9 || // tab
    c === 10 || // LF
    c === 13 || // CR
    c === 0xa0 || // no-break space
    c === 0x2010 || // hyphen
    c === 0x2011 || // non-breaking hyphen
    c === 0x2012 || // figure dash
    c === 0x2013 // en dash
  );
}

/**
 * UK national significant number from the n digits in scratch[1…n], when the written
 * form is one of the GB shapes; then the GB mobile / fixed-line patterns decide.
 * Anything it is not sure about returns undefined and goes to libphonenumber.
 */
function fastGb(n: number, plus: boolean): NormalisedPhone | undefined {
  const d = (i: number) => (i <= n ? scratch[i] : -1); // the i-th digit (1-based), as scanned into scratch
  let first: number; // position of the national significant number's first digit
  if (plus) {
    if (d(1) !== 52 || d(2) !== 52) return undefined; // not +44
    first = 3;
  } else if (d(1) === 48 /* 0 */) {
    if (d(2) === 48) {
      if (d(3) !== 52 || d(4) !== 52) return undefined; // 00 + another country
      first = 5;
    } else {
      first = 2;
    }
  } else if (d(1) === 52 && d(2) === 52 && n >= 11) {
    first = 3; // 447723456789: country code without '+'
  } else {
    return undefined;
  }
  // Trunk '0' written after the country code: +44 (0)7723 456789, 0044 07723…
  // (After a national '0' the next digit is never '0': '00…' took the branch above.)
  if (d(first) === 48) first++;
  const length = n - first + 1;
  const lead = d(first);
  const mobile = lead === 55 /* 7 */ && length === 10;
  if (!mobile && !((lead === 49 || lead === 50) /* 1, 2 */ && (length === 10 || length === 9))) return undefined;
  for (let i = 0; i < length; i++) e164Scratch[3 + i] = scratch[first + i]!;
  const e164 = latin1(e164Scratch, 0, 3 + length);
  if (mobile) {
    if (GB_MOBILE_E164_RE!.test(e164) || RESERVED_BY_E164.has(e164)) return { ok: true, e164, type: 'mobile' };
    return undefined;
  }
  if (GB_FIXED_E164_RE!.test(e164)) return { ok: true, e164, type: 'fixed_line' };
  return undefined;
}

/**
 * The slow, uncached path: libphonenumber on its own (after the same character
 * check). `normalisePhone` must always agree with it; exported for tests and
 * for anyone who wants a second opinion.
 */
export function normalisePhoneReference(raw: string, defaultRegion: CountryCode = 'GB'): NormalisedPhone {
  const scanned = scan(raw);
  if (typeof scanned !== 'string') return scanned;
  let parsed;
  try {
    // The compact form: separators carry no information once the characters are
    // known to be valid, and libphonenumber is faster without them.
    parsed = parsePhoneNumberWithError(scanned, defaultRegion);
  } catch (err) {
    if (err instanceof ParseError) return rejectFor(err.message);
    return REJECT['not a phone number'];
  }
  if (!parsed.isValid()) {
    const e164 = parsed.number;
    if (RESERVED_BY_E164.has(e164)) return Object.freeze({ ok: true, e164, type: 'mobile' });
    const length = validatePhoneNumberLength(scanned, defaultRegion);
    return length === 'TOO_SHORT' || length === 'TOO_LONG' ? rejectFor(length) : REJECT['invalid number'];
  }
  const t = parsed.getType();
  const type: PhoneType = t === 'MOBILE' ? 'mobile' : t === 'FIXED_LINE' ? 'fixed_line' : 'other';
  return Object.freeze({ ok: true, e164: parsed.number, type });
}

function rejectFor(code: string): PhoneRejected {
  switch (code) {
    case 'TOO_SHORT':
      return REJECT['too short'];
    case 'TOO_LONG':
      return REJECT['too long'];
    case 'INVALID_COUNTRY':
      return REJECT['invalid country code'];
    case 'NOT_A_NUMBER':
      return REJECT['not a phone number'];
    default:
      return REJECT['invalid number'];
  }
}

/**
 * True for a UK (+44) mobile number in E.164 form, including the Crown
 * Dependencies that share the UK numbering plan (Jersey, Guernsey, Isle of Man)
 * and the reserved sandbox test numbers. Expects E.164 (use `normalisePhone` first);
 * anything else is false.
 */
export function isUkMobile(e164: string): boolean {
  if (typeof e164 !== 'string' || e164.length !== 13 || !e164.startsWith('+447')) return false;
  const nsn = e164.slice(3);
  for (let i = 0; i < nsn.length; i++) {
    const c = nsn.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  if (GB_MOBILE_RE !== undefined && GB_MOBILE_RE.test(nsn)) return true;
  if (RESERVED_BY_E164.has(e164)) return true;
  const r = normalisePhone(e164);
  return r.ok && r.type === 'mobile' && r.e164 === e164;
}
