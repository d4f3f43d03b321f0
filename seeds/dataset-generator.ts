/**
 * Synthetic evidence shaped like the seized iSpoof call records.
 *
 * `generateDataset({ outDir, targets, calls, seed })` writes, into `outDir`:
 *
 *  - `calls.csv`     `call_id,started_at,duration_seconds,account_id,caller_id,target_number`
 *  - `contacts.csv`  `phone,email,full_name,source`
 *  - `manifest.json` (written last, so its presence means the set is complete): the
 *    counts a correct import and match of these files must produce.
 *
 * Deterministic: the same (targets, calls, seed) always gives byte-identical CSV
 * files (only `manifest.generatedAt` changes). The PRNG is sfc32 seeded through
 * splitmix32, one independent stream per phase; `Math.random` is never used.
 *
 * Streaming: rows are appended to ~64 KB string chunks that are written with
 * backpressure (await 'drain'); memory is O(targets), never O(calls).
 *
 * Shape:
 *  - `targets` distinct target numbers: ≈85 % UK mobiles, ≈8 % UK landlines, ≈5 %
 *    foreign numbers (all valid), ≈2 % junk that cannot be normalised.
 *  - every target gets ≥ 1 call, the rest follow a heavy-tailed (Lomax / Pareto II)
 *    distribution; the calls are in chronological order (2021-01-01 … 2022-12-31,
 *    ISO 8601 UTC, second precision) with the targets interleaved at random.
 *  - each call writes its target in one of the written forms (`07723 456789`,
 *    `+44 7723 456789`, `0044 7723-456-789`, `447723456789`, `+44 (0)7723 456789`,
 *    …): a target keeps a preferred form for ~75 % of its calls and uses a random
 *    one otherwise, so one person appears under several spellings.
 *  - ≈10 % of calls last 60 s or more (the "long call" rule is `duration_seconds >= 60`).
 *  - up to 3,000 fraudster accounts (fewer for small sets: one per 50 calls),
 *    heavy-tailed use; caller_id is an institution's caller id (≈85 %, written in
 *    E.164 as the spoofing service stored it) or a random UK mobile (≈15 %).
 *  - `contacts.csv`: ≈30 % of valid targets get a contact row (≈8 % of those a
 *    second one from the other source), plus a few contacts for numbers that are
 *    not in the evidence; ≈2 % have a junk phone, ≈3 % an invalid email, ≈5 % no
 *    email. Emails only use the reserved example.com / example.org / example.net
 *    domains. (Phone numbers are random: they may belong to real people. Never
 *    point a live SMS provider at a generated data set.)
 *
 * The manifest is computed from what was generated, without normalising each
 * row: every target is normalised once (with `normalisePhone`) when it is created
 * and every written form is known to normalise to the same E.164 (unit-tested).
 */
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { normalisePhone, type PhoneRejectReason, type PhoneType } from '../src/common/phone.js';

// ---------------------------------------------------------------------------
// Public types

export interface Institution {
  code: string;
  name: string;
  /** E.164 */
  callerIds: string[];
}

export interface GenerateProgress {
  phase: 'targets' | 'calls' | 'contacts';
  done: number;
  total: number;
}

export interface GenerateOptions {
  outDir: string;
  /** distinct target numbers (including the ≈2 % junk ones); ≥ 1 */
  targets: number;
  /** call rows; ≥ targets (every target is called at least once) */
  calls: number;
  /** PRNG seed, a whole number 0 … 2^53-1 */
  seed: number;
  onProgress?: (p: GenerateProgress) => void;
  /** defaults to `seeds/institutions.csv` */
  institutions?: Institution[];
  /** defaults to now; only used for `manifest.generatedAt` */
  generatedAt?: Date;
}

export const LONG_CALL_SECONDS = 60;

/**
 * `manifest.json`. Note: `calls` is the object of expected call-row counts
 * (`calls.rowsTotal` is the requested number of calls); the request itself is
 * repeated under `request`.
 */
export interface Manifest {
  seed: number;
  /** distinct target entries generated (valid and junk) */
  targets: number;
  generatedAt: string;
  request: { targets: number; calls: number; seed: number };
  generator: {
    name: 'ispoof-synthetic';
    version: 1;
    /** how `victims.withLongCall` and `calls.longCalls` were counted */
    longCallRule: 'duration_seconds >= 60';
    files: { calls: 'calls.csv'; contacts: 'contacts.csv' };
  };
  calls: {
    rowsTotal: number;
    /** target_number normalises (UK mobile, UK landline or foreign: all accepted) */
    rowsAccepted: number;
    /** target_number cannot be normalised */
    rowsRejected: number;
    /** rejected rows by `normalisePhone` reason */
    rejectedByReason: Partial<Record<PhoneRejectReason, number>>;
    /** accepted rows with duration_seconds >= 60 */
    longCalls: number;
  };
  victims: {
    /** distinct normalised (E.164) valid targets */
    distinct: number;
    /** distinct victims with at least one call of >= 60 s */
    withLongCall: number;
    /** victims whose number `normalisePhone` types as mobile (any country) */
    mobiles: number;
    /** of which UK (+44) mobiles */
    ukMobiles: number;
    fixedLines: number;
    other: number;
  };
  contacts: {
    rowsTotal: number;
    rowsAccepted: number;
    /** bad phone or invalid email */
    rowsRejected: number;
    /** phone does not normalise (counted here even if the email is bad too) */
    rejectedBadPhone: number;
    /** phone fine, email present but invalid */
    rejectedBadEmail: number;
    /** accepted rows with an empty email (phone-only contact: accepted) */
    acceptedWithoutEmail: number;
    /** accepted rows whose normalised phone is a victim's */
    matched: number;
    /** distinct victims with at least one accepted contact row */
    victimsMatched: number;
  };
  institutions: {
    /** accepted calls per institution code, attributed by caller_id (E.164) */
    callsByCode: Record<string, number>;
    /** distinct victims per institution code (victims called from one of its numbers) */
    victimsByCode: Record<string, number>;
    /** accepted calls whose caller_id is no institution's */
    callsUnattributed: number;
  };
  accounts: { distinct: number };
}

export class DatasetArgsError extends Error {
  override name = 'DatasetArgsError';
}

export const DEFAULT_TARGETS = 200_000;
export const DEFAULT_CALLS_PER_TARGET = 10;
export const DEFAULT_SEED = 1;
const MAX_CALLS = 2 ** 31 - 1;

// ---------------------------------------------------------------------------
// Arguments

/**
 * Parses `--out DIR [--targets N] [--calls N] [--seed N]` (also `--out=DIR`).
 * Numbers may be written `10000000`, `10_000_000`, `10,000,000`, `10M` or `200k`.
 * Defaults: 200,000 targets; calls = 10 × targets; targets = min(200,000, calls / 10)
 * when only --calls is given; seed 1. Throws `DatasetArgsError` with a message a
 * person can act on.
 */
export function parseGenerateArgs(argv: readonly string[]): Omit<GenerateOptions, 'onProgress' | 'institutions'> {
  const values: Record<string, string> = {};
  const known = new Set(['out', 'targets', 'calls', 'seed']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new DatasetArgsError(`unexpected argument '${arg}' (usage: --out DIR [--targets N] [--calls N] [--seed N])`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!known.has(name)) throw new DatasetArgsError(`unknown option '--${name}' (usage: --out DIR [--targets N] [--calls N] [--seed N])`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new DatasetArgsError(`option '--${name}' needs a value`);
      i++;
    }
    if (name in values) throw new DatasetArgsError(`option '--${name}' given twice`);
    values[name] = value;
  }
  if (values.out === undefined || values.out.trim() === '') throw new DatasetArgsError('--out DIR is required (the directory to write calls.csv, contacts.csv and manifest.json to)');
  const targetsGiven = values.targets !== undefined ? parseCount('--targets', values.targets) : undefined;
  const callsGiven = values.calls !== undefined ? parseCount('--calls', values.calls) : undefined;
  const targets = targetsGiven ?? (callsGiven !== undefined ? Math.max(1, Math.min(DEFAULT_TARGETS, Math.floor(callsGiven / DEFAULT_CALLS_PER_TARGET))) : DEFAULT_TARGETS);
  const calls = callsGiven ?? targets * DEFAULT_CALLS_PER_TARGET;
  const seed = values.seed !== undefined ? parseCount('--seed', values.seed, 0) : DEFAULT_SEED;
  const options = { outDir: values.out, targets, calls, seed };
  validateGenerateOptions(options);
  return options;
}

function parseCount(flag: string, raw: string, min = 1): number {
  const m = /^(\d+(?:[_,]\d+)*)([kKmM]?)$/.exec(raw.trim());
  if (!m) throw new DatasetArgsError(`${flag} must be a whole number${min > 0 ? ' ≥ 1' : ' ≥ 0'} (e.g. 10000, 10_000, 10k, 2M), got '${raw}'`);
  const base = Number(m[1].replace(/[_,]/g, ''));
  const mult = m[2] === 'k' || m[2] === 'K' ? 1_000 : m[2] === 'm' || m[2] === 'M' ? 1_000_000 : 1;
  const n = base * mult;
  if (!Number.isSafeInteger(n) || n < min) throw new DatasetArgsError(`${flag} must be a whole number${min > 0 ? ' ≥ 1' : ' ≥ 0'}, got '${raw}'`);
  return n;
}

/** Throws `DatasetArgsError` unless the options can be generated. */
export function validateGenerateOptions(o: Pick<GenerateOptions, 'outDir' | 'targets' | 'calls' | 'seed'>): void {
  if (typeof o.outDir !== 'string' || o.outDir.trim() === '') throw new DatasetArgsError('outDir is required');
  if (!Number.isSafeInteger(o.targets) || o.targets < 1) throw new DatasetArgsError(`targets must be a whole number ≥ 1, got ${String(o.targets)}`);
  if (!Number.isSafeInteger(o.calls) || o.calls < 1) throw new DatasetArgsError(`calls must be a whole number ≥ 1, got ${String(o.calls)}`);
  if (o.calls < o.targets) {
    throw new DatasetArgsError(`calls (${o.calls}) must be at least targets (${o.targets}): every target is called at least once`);
  }
  if (o.calls > MAX_CALLS) throw new DatasetArgsError(`calls must be at most ${MAX_CALLS}, got ${o.calls}`);
  if (o.targets > 50_000_000) throw new DatasetArgsError(`targets must be at most 50,000,000, got ${o.targets}`);
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new DatasetArgsError(`seed must be a whole number ≥ 0, got ${String(o.seed)}`);
}

// ---------------------------------------------------------------------------
// Institutions

/** `seeds/institutions.csv`, found next to this file or from the project root (also when run from `dist/`). */
export function defaultInstitutionsPath(): string {
  const here = typeof __dirname === 'string' ? __dirname : path.join(process.cwd(), 'seeds');
  const candidates = [
    path.join(here, 'institutions.csv'),
    path.join(here, '..', '..', 'seeds', 'institutions.csv'),
    path.join(process.cwd(), 'seeds', 'institutions.csv'),
  ];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(`seeds/institutions.csv not found (looked in: ${candidates.join(', ')})`);
}

/**
 * Reads `code,name,caller_ids` (caller_ids `;`-separated E.164). Throws on a bad
 * header, an empty code or name, a duplicate code, or a caller id that is not
 * in E.164 form or belongs to two institutions.
 */
export function loadInstitutions(file: string = defaultInstitutionsPath()): Institution[] {
  const rows = parse<Record<string, string>>(readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true });
  if (rows.length === 0) throw new Error(`${file}: no institutions`);
  const header = Object.keys(rows[0]);
  if (header.join(',') !== 'code,name,caller_ids') throw new Error(`${file}: header must be 'code,name,caller_ids', got '${header.join(',')}'`);
  const codes = new Set<string>();
  const ids = new Map<string, string>();
  return rows.map((r, i) => {
    const line = i + 2;
    const code = r.code ?? '';
    const name = r.name ?? '';
    if (!/^[a-z0-9_]+$/.test(code)) throw new Error(`${file}:${line}: code must be lower-case letters, digits and '_', got '${code}'`);
    if (codes.has(code)) throw new Error(`${file}:${line}: duplicate code '${code}'`);
    codes.add(code);
    if (name === '') throw new Error(`${file}:${line}: name is empty`);
    const callerIds = (r.caller_ids ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
    if (callerIds.length === 0) throw new Error(`${file}:${line}: no caller_ids`);
    for (const id of callerIds) {
      const n = normalisePhone(id);
      if (!n.ok || n.e164 !== id) throw new Error(`${file}:${line}: caller id '${id}' is not a valid E.164 number`);
      const other = ids.get(id);
      if (other !== undefined) throw new Error(`${file}:${line}: caller id '${id}' also belongs to '${other}'`);
      ids.set(id, code);
    }
    return { code, name, callerIds };
  });
}

// ---------------------------------------------------------------------------
// PRNG: sfc32 seeded by splitmix32 (fast, 32-bit state words, period ≥ 2^32).

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream: number) {
    let s = (Math.floor(seed / 2 ** 32) ^ Math.imul(stream + 1, 0x9e3779b9) ^ (seed >>> 0)) >>> 0;
    const mix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    // Fold all of the seed (up to 53 bits) and the stream id into the state.
    this.a = mix() ^ (seed >>> 0);
    this.b = mix() ^ (Math.floor(seed / 2 ** 32) >>> 0);
    this.c = mix() ^ stream;
    this.d = 1;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1) */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += DIGITS[this.u32() % 10];
    return s;
  }
}

const DIGITS = '0123456789';
const PAD2: string[] = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

// ---------------------------------------------------------------------------
// Numbers and their written forms

const enum Kind {
  Mobile = 0,
  Landline = 1,
  Foreign = 2,
  Junk = 3,
}

/** Mobile prefixes after the `7` that are valid in full in libphonenumber's GB metadata. */
const MOBILE_PREFIXES = [
  ...range(100, 399), // 071xx … 073xx
  ...[40, 41, 42, 43, 44, 46, 47, 48, 49].flatMap((p) => range(p * 10, p * 10 + 9)),
  ...[51, 53, 54, 55, 56, 57, 58, 59].flatMap((p) => range(p * 10, p * 10 + 9)),
  ...[71, 72, 73, 74, 75, 76, 77].flatMap((p) => range(p * 10, p * 10 + 9)),
  ...[80, 81, 84, 85, 86, 87, 88, 89].flatMap((p) => range(p * 10, p * 10 + 9)),
  ...[90, 92, 94, 95, 96, 97, 98, 99].flatMap((p) => range(p * 10, p * 10 + 9)),
].map((n) => '7' + String(n).padStart(3, '0'));

/** UK geographic area codes (national number prefix) with the local number length. */
const LANDLINE_AREAS: { area: string; local: number; weight: number }[] = [
  { area: '20', local: 8, weight: 30 }, // London: 020 3xxx/7xxx/8xxx xxxx
  { area: '161', local: 7, weight: 8 },
  { area: '121', local: 7, weight: 8 },
  { area: '113', local: 7, weight: 4 },
  { area: '114', local: 7, weight: 3 },
  { area: '115', local: 7, weight: 3 },
  { area: '116', local: 7, weight: 3 },
  { area: '117', local: 7, weight: 4 },
  { area: '118', local: 7, weight: 3 },
  { area: '131', local: 7, weight: 4 },
  { area: '141', local: 7, weight: 5 },
  { area: '151', local: 7, weight: 4 },
  { area: '191', local: 7, weight: 3 },
  { area: '29', local: 8, weight: 3 }, // Cardiff 029 20xx xxxx
  { area: '28', local: 8, weight: 3 }, // Belfast 028 90xx xxxx
];

/** Foreign numbers: country calling code, national number prefixes, national number length. */
const FOREIGN: { cc: string; prefixes: string[]; length: number; weight: number }[] = [
  { cc: '1', prefixes: ['212', '646', '415', '202', '312', '617', '305', '213', '416', '604'], length: 10, weight: 20 },
  { cc: '33', prefixes: ['6', '7'], length: 9, weight: 15 },
  { cc: '353', prefixes: ['83', '85', '86', '87', '89'], length: 9, weight: 15 },
  { cc: '91', prefixes: ['98', '97', '96', '90', '88', '70'], length: 10, weight: 15 },
  { cc: '34', prefixes: ['6'], length: 9, weight: 10 },
  { cc: '49', prefixes: ['151', '152', '157', '160', '170', '171', '176'], length: 11, weight: 10 },
  { cc: '61', prefixes: ['4'], length: 9, weight: 5 },
  { cc: '48', prefixes: ['50', '51', '60', '66', '69', '72', '78', '79', '88'], length: 9, weight: 5 },
  { cc: '234', prefixes: ['803', '806', '813', '816', '703', '706'], length: 10, weight: 5 },
];

/**
 * Forms for UK numbers. Index → builder over the national number split in
 * groups (mobile: 4+6 spaced, 4+3+3 dashed/dotted; London 2+4+4; others 3+3+4).
 */
const UK_FORMS = [
  'e164', // +447723456789
  'national', // 07723456789
  'nationalSpaced', // 07723 456789
  'intlSpaced', // +44 7723 456789
  'doubleZeroDashed', // 0044 7723-456-789
  'bareCountryCode', // 447723456789
  'intlTrunk', // +44 (0)7723 456789
  'nationalDotted', // 07723.456.789
  'nationalParen', // (07723) 456789
  'nationalDashed', // 07723-456-789
] as const;
const UK_FORM_WEIGHTS = [25, 20, 15, 10, 5, 10, 5, 3, 3, 4];

const FOREIGN_FORMS = ['e164', 'intlSpaced', 'doubleZero', 'doubleZeroSpaced', 'intlDashed'] as const;
const FOREIGN_FORM_WEIGHTS = [40, 25, 10, 15, 10];

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}

/** 0..len-1 lookup table of 1024 entries for weighted picks with one `int()` call. */
function weightTable(weights: readonly number[]): Uint8Array {
  const total = weights.reduce((a, b) => a + b, 0);
  const t = new Uint8Array(1024);
  let acc = 0;
  let k = 0;
  for (let i = 0; i < 1024; i++) {
    while (k < weights.length - 1 && (i + 0.5) / 1024 >= (acc + weights[k]) / total) acc += weights[k++];
    t[i] = k;
  }
  return t;
}

const UK_FORM_TABLE = weightTable(UK_FORM_WEIGHTS);
const FOREIGN_FORM_TABLE = weightTable(FOREIGN_FORM_WEIGHTS);

function ukGroups(nsn: string, dashed: boolean): string[] {
  if (nsn.charCodeAt(0) === 55 /* 7 */) return dashed ? [nsn.slice(0, 4), nsn.slice(4, 7), nsn.slice(7)] : [nsn.slice(0, 4), nsn.slice(4)];
  if (nsn.length === 10 && (nsn.startsWith('2'))) return [nsn.slice(0, 2), nsn.slice(2, 6), nsn.slice(6)];
  return [nsn.slice(0, 3), nsn.slice(3, 6), nsn.slice(6)];
}

function ukForm(nsn: string, form: number): string {
  switch (form) {
    case 0:
      return '+44' + nsn;
    case 1:
      return '0' + nsn;
    case 2:
      return '0' + ukGroups(nsn, false).join(' ');
    case 3:
      return '+44 ' + ukGroups(nsn, false).join(' ');
    case 4:
      return '0044 ' + ukGroups(nsn, true).join('-');
    case 5:
      return '44' + nsn;
    case 6:
      return '+44 (0)' + ukGroups(nsn, false).join(' ');
    case 7:
      return '0' + ukGroups(nsn, true).join('.');
    case 8: {
      const g = ukGroups(nsn, false);
      return '(0' + g[0] + ') ' + g.slice(1).join(' ');
    }
    default:
      return '0' + ukGroups(nsn, true).join('-');
  }
}

function groupsOf3(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i += 3) out += (i ? ' ' : '') + s.slice(i, i + 3);
  return out;
}

function foreignForm(cc: string, nsn: string, form: number): string {
  switch (form) {
    case 0:
      return '+' + cc + nsn;
    case 1:
      return '+' + cc + ' ' + groupsOf3(nsn);
    case 2:
      return '00' + cc + nsn;
    case 3:
      return '00' + cc + ' ' + groupsOf3(nsn);
    default:
      return '+' + cc + '-' + groupsOf3(nsn).replace(/ /g, '-');
  }
}

/**
 * Every written form the generator uses for a number (E.164 in; UK numbers and the
 * foreign countries the generator draws from). All of them must normalise back
 * to the same E.164; exported for tests.
 */
export function writtenForms(e164: string): string[] {
  if (e164.startsWith('+44')) return UK_FORMS.map((_, i) => ukForm(e164.slice(3), i));
  const f = FOREIGN.find((c) => e164.startsWith('+' + c.cc));
  if (!f) throw new Error(`writtenForms: ${e164} is not a UK number nor one of the generator's foreign countries`);
  return FOREIGN_FORMS.map((_, i) => foreignForm(f.cc, e164.slice(1 + f.cc.length), i));
}

/** Junk seen in seized evidence; each must fail `normalisePhone` (checked at generation). */
const JUNK_BUILDERS: ((r: Rng) => string)[] = [
  () => '',
  () => 'unknown',
  () => 'withheld',
  () => 'Anonymous',
  () => 'N/A',
  () => 'NULL',
  () => '0',
  (r) => r.digits(1 + r.int(5)), // 1-5 digits: too short
  (r) => '07' + r.digits(3 + r.int(3)), // truncated mobile
  (r) => '07' + r.digits(13 + r.int(4)), // too long
  (r) => '+44 7700 900' + String(100 + r.int(900)), // Ofcom drama range (not a reserved test number)
  (r) => '+999 ' + r.digits(8), // no such country code
  (r) => '0' + r.digits(4) + ' ' + r.digits(6) + ' ext ' + r.digits(3),
  (r) => '#31#07' + r.digits(9),
  (r) => '07' + r.digits(3) + ',' + r.digits(6), // needs CSV quoting
  (r) => '"07' + r.digits(9) + '"', // needs CSV quoting
  () => "'; DROP TABLE calls; --",
  () => '1 OR 1=1',
  (r) => 'sip:' + r.digits(6) + '@10.0.0.' + String(1 + r.int(254)),
];

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

// ---------------------------------------------------------------------------
// Names and emails for contacts

const FIRST_NAMES: [string, string][] = [
  ['Margaret', 'margaret'], ['John', 'john'], ['Susan', 'susan'], ['David', 'david'], ['Patricia', 'patricia'],
  ['Michael', 'michael'], ['Linda', 'linda'], ['Robert', 'robert'], ['Elizabeth', 'elizabeth'], ['James', 'james'],
  ['Barbara', 'barbara'], ['Peter', 'peter'], ['Janet', 'janet'], ['Alan', 'alan'], ['Christine', 'christine'],
  ['Brian', 'brian'], ['Sarah', 'sarah'], ['Mohammed', 'mohammed'], ['Priya', 'priya'], ['Oluwaseun', 'oluwaseun'],
  ['Siân', 'sian'], ['Zoë', 'zoe'], ['Chloé', 'chloe'], ['Aoife', 'aoife'], ['Łukasz', 'lukasz'],
  ['Emma', 'emma'], ['Thomas', 'thomas'], ['Olivia', 'olivia'], ['Harry', 'harry'], ['Amelia', 'amelia'],
  ['George', 'george'], ['Fatima', 'fatima'], ['Wei', 'wei'], ['Gareth', 'gareth'], ['Eilidh', 'eilidh'],
];
const LAST_NAMES: [string, string][] = [
  ['Smith', 'smith'], ['Jones', 'jones'], ['Williams', 'williams'], ['Taylor', 'taylor'], ['Brown', 'brown'],
  ['Davies', 'davies'], ['Evans', 'evans'], ['Wilson', 'wilson'], ['Thomas', 'thomas'], ['Johnson', 'johnson'],
  ['Roberts', 'roberts'], ['Robinson', 'robinson'], ['Thompson', 'thompson'], ['Wright', 'wright'], ['Walker', 'walker'],
  ['White', 'white'], ['Edwards', 'edwards'], ['Hughes', 'hughes'], ['Green', 'green'], ['Hall', 'hall'],
  ["O'Brien", 'obrien'], ['Smith-Jones', 'smithjones'], ['MacDonald', 'macdonald'], ['Patel', 'patel'], ['Khan', 'khan'],
  ['Okafor', 'okafor'], ['Nowak', 'nowak'], ['Ng', 'ng'], ['Müller', 'muller'], ['Ó Súilleabháin', 'osuilleabhain'],
  ['Singh', 'singh'], ['Ahmed', 'ahmed'], ['Campbell', 'campbell'], ['Murphy', 'murphy'], ['Lewis', 'lewis'],
];
const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net', 'mail.example.com', 'post.example.org'];

function mixCase(s: string, r: Rng): string {
  const k = r.int(10);
  if (k < 6) return s; // lower case
  if (k < 8) return s.replace(/(^|[.\-_])([a-z])/g, (_, p: string, c: string) => p + c.toUpperCase()); // John.Smith
  if (k < 9) return s.toUpperCase();
  let out = '';
  for (let i = 0; i < s.length; i++) out += r.int(2) ? s[i].toUpperCase() : s[i];
  return out;
}

/** Emails no validator accepts: no '@', nothing before or after it, two of them, a space. */
const INVALID_EMAIL_BUILDERS: ((local: string, domain: string) => string)[] = [
  (l, d) => `${l}.${d}`,
  (l) => `${l}@`,
  (_l, d) => `@${d}`,
  (l, d) => `${l}@@${d}`,
  (l, d) => `${l.slice(0, 2)} ${l.slice(2)}@${d}`,
  () => 'not given',
];

// ---------------------------------------------------------------------------
// Chunked writer with backpressure

const CHUNK_CHARS = 64 * 1024;

class ChunkWriter {
  private buf = '';
  private failure: Error | undefined;
  readonly stream: WriteStream;

  constructor(file: string) {
    this.stream = createWriteStream(file, { highWaterMark: 1024 * 1024 });
    this.stream.on('error', (err) => {
      this.failure ??= err;
    });
  }

  /** Appends; true when a chunk is ready and `flush()` should be awaited. */
  push(s: string): boolean {
    this.buf += s;
    return this.buf.length >= CHUNK_CHARS;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const b = this.buf;
    this.buf = '';
    if (b.length > 0 && !this.stream.write(b)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
    if (this.failure) throw this.failure;
  }

  destroy(): void {
    this.stream.destroy();
  }
}

// ---------------------------------------------------------------------------
// Urn of remaining calls per target (Fenwick tree): draws targets without
// replacement, so every target gets exactly its count, in random order.

class Urn {
  private readonly tree: Float64Array;
  private readonly n: number;
  private readonly top: number;

  constructor(counts: Uint32Array) {
    this.n = counts.length;
    this.tree = new Float64Array(this.n + 1);
    for (let i = 0; i < this.n; i++) this.tree[i + 1] = counts[i]!;
    for (let i = 1; i <= this.n; i++) {
      const j = i + (i & -i);
      if (j <= this.n) this.tree[j] += this.tree[i];
    }
    let top = 1;
    while (top * 2 <= this.n) top *= 2;
    this.top = top;
  }

  /** Index whose cumulative range holds r (0 ≤ r < remaining), removing one from it. */
  take(r: number): number {
    const tree = this.tree;
    const n = this.n;
    let pos = 0;
    let rem = r;
    for (let step = this.top; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && tree[next] <= rem) {
        pos = next;
        rem -= tree[next];
      }
    }
    for (let i = pos + 1; i <= n; i += i & -i) tree[i]--;
    return pos;
  }
}

// ---------------------------------------------------------------------------

const START_SECONDS = Date.UTC(2021, 0, 1) / 1000;
const SPAN_SECONDS = (Date.UTC(2023, 0, 1) - Date.UTC(2021, 0, 1)) / 1000;

const enum Stream {
  Targets = 1,
  Weights = 2,
  Calls = 3,
  Contacts = 4,
  Accounts = 5,
}

const PROGRESS_EVERY = 100_000;

/**
 * Generates the data set into `outDir` (created if missing) and resolves with the
 * manifest (also written as `manifest.json`, last). On failure the partial files
 * are left but no manifest is.
 */
export async function generateDataset(options: GenerateOptions): Promise<Manifest> {
  validateGenerateOptions(options);
  const { outDir, targets: T, calls: N, seed } = options;
  const onProgress = options.onProgress;
  const institutions = options.institutions ?? loadInstitutions();
  if (institutions.length === 0) throw new DatasetArgsError('at least one institution is needed');

  await mkdir(outDir, { recursive: true });
  const manifestPath = path.join(outDir, 'manifest.json');
  await rm(manifestPath, { force: true });

  // ---- targets -------------------------------------------------------------
  const rt = new Rng(seed, Stream.Targets);
  const kind = new Uint8Array(T);
  const ccOf: string[] = new Array<string>(T); // foreign: country code
  const nsnOf: string[] = new Array<string>(T); // national number (UK / foreign) or the junk text, CSV-escaped
  const typeOf = new Uint8Array(T); // 0 mobile, 1 fixed_line, 2 other
  const ukMobile = new Uint8Array(T);
  const preferred: string[] = new Array<string>(T);
  const junkReason: PhoneRejectReason[] = [];
  const junkReasonIdx = new Int32Array(T).fill(-1);
  const seen = new Set<number>();
  const institutionIds = new Map<string, number>();
  institutions.forEach((inst, k) => inst.callerIds.forEach((id) => institutionIds.set(id, k)));
  for (const id of institutionIds.keys()) seen.add(Number(id.slice(1)));

  const landWeights = weightTable(LANDLINE_AREAS.map((a) => a.weight));
  const foreignWeights = weightTable(FOREIGN.map((f) => f.weight));
  const typeCode = (t: PhoneType) => (t === 'mobile' ? 0 : t === 'fixed_line' ? 1 : 2);

  for (let i = 0; i < T; i++) {
    const u = rt.next();
    const k = u < 0.85 ? Kind.Mobile : u < 0.93 ? Kind.Landline : u < 0.98 ? Kind.Foreign : Kind.Junk;
    kind[i] = k;
    if (k === Kind.Junk) {
      for (;;) {
        const raw = JUNK_BUILDERS[rt.int(JUNK_BUILDERS.length)](rt);
        const n = normalisePhone(raw);
        if (n.ok) continue;
        nsnOf[i] = csvField(raw);
        preferred[i] = nsnOf[i]!;
        let idx = junkReason.indexOf(n.reason);
        if (idx < 0) idx = junkReason.push(n.reason) - 1;
        junkReasonIdx[i] = idx;
        break;
      }
      continue;
    }
    for (let attempt = 0; ; attempt++) {
      if (attempt > 1000) throw new Error('could not generate a distinct valid number: too many targets for the number ranges');
      let cc = '44';
      let nsn: string;
      if (k === Kind.Mobile) {
        nsn = MOBILE_PREFIXES[rt.int(MOBILE_PREFIXES.length)] + rt.digits(6);
      } else if (k === Kind.Landline) {
        const a = LANDLINE_AREAS[landWeights[rt.int(1024)]];
        let local: string;
        if (a.area === '20') local = '378'[rt.int(3)] + rt.digits(7);
        else if (a.area === '29') local = '20' + rt.digits(6);
        else if (a.area === '28') local = '90' + rt.digits(6);
        else local = String(2 + rt.int(7)) + rt.digits(6);
        // keep clear of Ofcom's drama ranges (the institutions' fictional numbers live there)
        if (local.startsWith('496') || local.startsWith('498') || local.startsWith('7946') || local.startsWith('2018') || local.startsWith('9018')) continue;
        nsn = a.area + local;
      } else {
        const f = FOREIGN[foreignWeights[rt.int(1024)]];
        const p = f.prefixes[rt.int(f.prefixes.length)];
        cc = f.cc;
        nsn = p + (cc === '1' ? String(2 + rt.int(8)) + rt.digits(f.length - p.length - 1) : rt.digits(f.length - p.length));
      }
      const e164 = '+' + cc + nsn;
      const key = Number(e164.slice(1));
      if (seen.has(key)) continue;
      const n = normalisePhone(e164);
      if (!n.ok || n.e164 !== e164) continue;
      if (k === Kind.Mobile && n.type !== 'mobile') continue;
      if (k === Kind.Landline && n.type !== 'fixed_line') continue;
      seen.add(key);
      nsnOf[i] = nsn;
      ccOf[i] = cc;
      typeOf[i] = typeCode(n.type);
      ukMobile[i] = cc === '44' && n.type === 'mobile' ? 1 : 0;
      preferred[i] = cc === '44' ? ukForm(nsn, UK_FORM_TABLE[rt.int(1024)]) : foreignForm(cc, nsn, FOREIGN_FORM_TABLE[rt.int(1024)]);
      break;
    }
    if ((i + 1) % PROGRESS_EVERY === 0) onProgress?.({ phase: 'targets', done: i + 1, total: T });
  }
  onProgress?.({ phase: 'targets', done: T, total: T });

  // ---- calls per target: 1 + heavy-tailed share of the rest ----------------
  const rw = new Rng(seed, Stream.Weights);
  const counts = new Uint32Array(T);
  {
    const w = new Float64Array(T);
    let W = 0;
    // Lomax (Pareto II), alpha 1.4: most targets get a handful of calls, a few get thousands.
    for (let i = 0; i < T; i++) {
      const x = Math.min(2000, Math.pow(1 - rw.next(), -1 / 1.4) - 1);
      w[i] = x;
      W += x;
    }
    const extra = N - T;
    let assigned = 0;
    for (let i = 0; i < T; i++) {
      const c = W > 0 ? Math.floor((extra * w[i]) / W) : 0;
      counts[i] = 1 + c;
      assigned += c;
    }
    for (let left = extra - assigned; left > 0; left--) counts[rw.int(T)]++;
  }

  // ---- accounts and institutions ------------------------------------------
  const ra = new Rng(seed, Stream.Accounts);
  const A = Math.max(1, Math.min(3000, Math.ceil(N / 50)));
  const accountIds: string[] = [];
  {
    const used = new Set<number>();
    while (accountIds.length < A) {
      const id = 100_000 + ra.int(900_000);
      if (used.has(id)) continue;
      used.add(id);
      accountIds.push('acct_' + id);
    }
  }
  const I = institutions.length;
  const instWeights = weightTable(institutions.map((_, k) => 1 / Math.pow(k + 1, 0.7)));
  const accountFavourite = new Uint16Array(A);
  for (let a = 0; a < A; a++) accountFavourite[a] = instWeights[ra.int(1024)]!;
  const accountUsed = new Uint8Array(A);

  // ---- calls.csv -----------------------------------------------------------
  const rc = new Rng(seed, Stream.Calls);
  const urn = new Urn(counts);
  const words = Math.ceil(I / 32);
  const instMask = new Uint32Array(T * words);
  const longCall = new Uint8Array(T);
  const callsByInst = new Float64Array(I);
  let rowsAccepted = 0;
  let longCalls = 0;
  let unattributed = 0;
  const rejectedByReasonIdx = new Float64Array(Math.max(1, junkReason.length));

  const callsFile = path.join(outDir, 'calls.csv');
  const calls = new ChunkWriter(callsFile);
  try {
    calls.push('call_id,started_at,duration_seconds,account_id,caller_id,target_number\n');
    let cur = 0; // sorted uniform order statistics in [0, 1)
    let lastDay = -1;
    let dayPrefix = '';
    let remaining = N;
    let nextProgress = PROGRESS_EVERY;
    for (let row = 0; row < N; row++) {
      // target: drawn without replacement from the remaining calls
      const t = urn.take(Math.floor(rc.next() * remaining));
      remaining--;
      // time: next order statistic of N uniforms, i.e. chronological
      cur += (1 - cur) * (1 - Math.pow(rc.next(), 1 / (N - row)));
      const sec = START_SECONDS + Math.min(SPAN_SECONDS - 1, Math.floor(cur * SPAN_SECONDS));
      const day = Math.floor(sec / 86400);
      if (day !== lastDay) {
        lastDay = day;
        dayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
      }
      const s = sec - day * 86400;
      const started = dayPrefix + PAD2[(s / 3600) | 0] + ':' + PAD2[((s % 3600) / 60) | 0] + ':' + PAD2[s % 60] + 'Z';
      // duration: ≈10 % of calls ≥ 60 s
      const d = rc.next();
      const duration = d < 0.1 ? 60 + Math.min(7140, Math.floor(-Math.log(1 - rc.next()) * 420)) : d < 0.4 ? 0 : 1 + Math.floor(((d - 0.4) / 0.6) * 59);
      // account: heavy-tailed
      const acct = Math.floor(Math.pow(rc.next(), 2.5) * A);
      accountUsed[acct] = 1;
      // caller id: an institution's (the account's favourite half the time) or a random mobile
      let inst = -1;
      let caller: string;
      const c = rc.next();
      if (c < 0.85) {
        inst = c < 0.425 ? accountFavourite[acct] : instWeights[rc.int(1024)];
        const ids = institutions[inst].callerIds;
        caller = ids.length === 1 ? ids[0] : ids[rc.int(ids.length)];
      } else {
        caller = '+44' + MOBILE_PREFIXES[rc.int(MOBILE_PREFIXES.length)] + rc.digits(6);
      }
      // target as written
      const k = kind[t] as Kind;
      let target: string;
      if (k === Kind.Junk) target = nsnOf[t]!;
      else if (rc.next() < 0.75) target = preferred[t]!;
      else if (k === Kind.Foreign) target = foreignForm(ccOf[t], nsnOf[t], FOREIGN_FORM_TABLE[rc.int(1024)]);
      else target = ukForm(nsnOf[t], UK_FORM_TABLE[rc.int(1024)]);

      if (k === Kind.Junk) {
        rejectedByReasonIdx[junkReasonIdx[t]]++;
      } else {
        rowsAccepted++;
        if (duration >= LONG_CALL_SECONDS) {
          longCalls++;
          longCall[t] = 1;
        }
        if (inst >= 0) {
          callsByInst[inst]++;
          instMask[t * words + (inst >>> 5)] |= 1 << (inst & 31);
        } else unattributed++;
      }

      if (calls.push(row + 1 + ',' + started + ',' + duration + ',' + accountIds[acct] + ',' + caller + ',' + target + '\n')) {
        await calls.flush();
        if (onProgress && row + 1 >= nextProgress) {
          onProgress({ phase: 'calls', done: row + 1, total: N });
          nextProgress += PROGRESS_EVERY;
        }
      }
    }
    await calls.close();
  } catch (err) {
    calls.destroy();
    throw err;
  }
  onProgress?.({ phase: 'calls', done: N, total: N });

  // ---- contacts.csv --------------------------------------------------------
  const rk = new Rng(seed, Stream.Contacts);
  const contacts = new ChunkWriter(path.join(outDir, 'contacts.csv'));
  const hasContact = new Uint8Array(T);
  const cs = { rowsTotal: 0, rowsAccepted: 0, rejectedBadPhone: 0, rejectedBadEmail: 0, acceptedWithoutEmail: 0, matched: 0 };

  type Person = { first: [string, string]; last: [string, string] };
  const person = (): Person => ({ first: FIRST_NAMES[rk.int(FIRST_NAMES.length)], last: LAST_NAMES[rk.int(LAST_NAMES.length)] });
  type Source = 'action_fraud' | 'bank';
  const randomSource = (): Source => (rk.next() < 0.6 ? 'action_fraud' : 'bank');
  const writeContact = async (phone: string, phoneOk: boolean, victim: number, who: Person, source: Source): Promise<void> => {
    const [first, firstAscii] = who.first;
    const [last, lastAscii] = who.last;
    const e = rk.next();
    const sep = ['.', '_', '', '-'][rk.int(4)];
    const local = firstAscii + sep + lastAscii + (rk.int(3) === 0 ? String(rk.int(100)) : '');
    const domain = EMAIL_DOMAINS[rk.int(EMAIL_DOMAINS.length)];
    let email: string;
    let emailOk = true;
    if (e < 0.05) email = '';
    else if (e < 0.08) {
      email = INVALID_EMAIL_BUILDERS[rk.int(INVALID_EMAIL_BUILDERS.length)](local, domain);
      emailOk = false;
    } else email = mixCase(local + '@' + domain, rk);
    cs.rowsTotal++;
    if (!phoneOk) cs.rejectedBadPhone++;
    else if (!emailOk) cs.rejectedBadEmail++;
    else {
      cs.rowsAccepted++;
      if (email === '') cs.acceptedWithoutEmail++;
      if (victim >= 0) {
        cs.matched++;
        hasContact[victim] = 1;
      }
    }
    if (contacts.push(csvField(phone) + ',' + csvField(email) + ',' + csvField(first + ' ' + last) + ',' + source + '\n')) await contacts.flush();
  };

  try {
    contacts.push('phone,email,full_name,source\n');
    for (let i = 0; i < T; i++) {
      if (i > 0 && i % PROGRESS_EVERY === 0) onProgress?.({ phase: 'contacts', done: i, total: T });
      // a contact for someone who is not in the evidence
      if (rk.next() < 0.015) {
        let nsn: string;
        do nsn = MOBILE_PREFIXES[rk.int(MOBILE_PREFIXES.length)] + rk.digits(6);
        while (seen.has(Number('44' + nsn)));
        await writeContact(ukForm(nsn, UK_FORM_TABLE[rk.int(1024)]), true, -1, person(), randomSource());
      }
      const k = kind[i] as Kind;
      if (k === Kind.Junk || rk.next() >= 0.3) continue;
      // ≈8 %: the same person reported by both sources (other spelling of the number, maybe another email)
      const rows = rk.next() < 0.08 ? 2 : 1;
      const who = person();
      const firstSource = randomSource();
      for (let r = 0; r < rows; r++) {
        const source: Source = r === 0 ? firstSource : firstSource === 'bank' ? 'action_fraud' : 'bank';
        if (rk.next() < 0.02) {
          let junk: string;
          do junk = JUNK_BUILDERS[rk.int(JUNK_BUILDERS.length)](rk);
          while (normalisePhone(junk).ok);
          await writeContact(junk, false, -1, who, source);
        } else {
          const phone = k === Kind.Foreign ? foreignForm(ccOf[i], nsnOf[i], FOREIGN_FORM_TABLE[rk.int(1024)]) : ukForm(nsnOf[i], UK_FORM_TABLE[rk.int(1024)]);
          await writeContact(phone, true, i, who, source);
        }
      }
    }
    await contacts.close();
  } catch (err) {
    contacts.destroy();
    throw err;
  }
  onProgress?.({ phase: 'contacts', done: T, total: T });

  // ---- manifest ------------------------------------------------------------
  let distinct = 0;
  let withLongCall = 0;
  let mobiles = 0;
  let ukMobiles = 0;
  let fixedLines = 0;
  let other = 0;
  let victimsMatched = 0;
  const victimsByInst = new Float64Array(I);
  for (let i = 0; i < T; i++) {
    if ((kind[i] as Kind) === Kind.Junk) continue;
    distinct++;
    if (longCall[i]) withLongCall++;
    const ty = typeOf[i];
    if (ty === 0) mobiles++;
    else if (ty === 1) fixedLines++;
    else other++;
    if (ukMobile[i]) ukMobiles++;
    if (hasContact[i]) victimsMatched++;
    for (let k = 0; k < I; k++) if (instMask[i * words + (k >>> 5)] & (1 << (k & 31))) victimsByInst[k]++;
  }
  const rejectedByReason: Partial<Record<PhoneRejectReason, number>> = {};
  junkReason
    .map((reason, idx) => [reason, rejectedByReasonIdx[idx]] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1))
    .forEach(([reason, n]) => {
      if (n > 0) rejectedByReason[reason] = n;
    });
  const callsByCode: Record<string, number> = {};
  const victimsByCode: Record<string, number> = {};
  institutions.forEach((inst, k) => {
    callsByCode[inst.code] = callsByInst[k]!;
    victimsByCode[inst.code] = victimsByInst[k]!;
  });

  const manifest: Manifest = {
    seed,
    targets: T,
    generatedAt: (options.generatedAt ?? new Date()).toISOString(),
    generator: {
      name: 'ispoof-synthetic',
      version: 1,
      longCallRule: 'duration_seconds >= 60',
      files: { calls: 'calls.csv', contacts: 'contacts.csv' },
    },
    request: { targets: T, calls: N, seed },
    calls: { rowsTotal: N, rowsAccepted, rowsRejected: N - rowsAccepted, rejectedByReason, longCalls },
    victims: { distinct, withLongCall, mobiles, ukMobiles, fixedLines, other },
    contacts: {
      rowsTotal: cs.rowsTotal,
      rowsAccepted: cs.rowsAccepted,
      rowsRejected: cs.rowsTotal - cs.rowsAccepted,
      rejectedBadPhone: cs.rejectedBadPhone,
      rejectedBadEmail: cs.rejectedBadEmail,
      acceptedWithoutEmail: cs.acceptedWithoutEmail,
      matched: cs.matched,
      victimsMatched,
    },
    institutions: { callsByCode, victimsByCode, callsUnattributed: unattributed },
    accounts: { distinct: accountUsed.reduce((a, b) => a + b, 0) },
  };
  const tmp = manifestPath + '.tmp';
  await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
  await rename(tmp, manifestPath);
  return manifest;
}
