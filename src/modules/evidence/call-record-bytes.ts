import { latin1 } from '../../common/bytes.js';
import type { CopyBuffer } from '../../common/csv-records.js';
import { normalisePhoneBytes, PhoneType } from '../../common/phone.js';
import { isoTimestampBytes } from '../../common/timestamps.js';
import type { LineRule } from './block-parser.js';
import { CallColumn, CallerLookup, MAX_DURATION, MAX_TEXT } from './call-record-row.js';

const TAB = 9;
const NL = 10;
const COMMA = 44;
const SPACE = 32;
const TYPE_BYTES: Record<PhoneType, Uint8Array> = { mobile: Buffer.from('mobile'), fixed_line: Buffer.from('fixed_line'), other: Buffer.from('other') };

/**
 * The call-record row rule read straight from a line's bytes, for the plain lines that
 * make up nearly all of an export (printable ASCII, no quotes or backslashes, every
 * field well formed). No strings are made except the target number, so a 10-million-row
 * import spends its time parsing rather than collecting garbage.
 *
 * It writes exactly what callRowToCopy would write for the same line, or writes nothing
 * and returns false: quoted, non-ASCII and rejected lines take the string path, which
 * gives the reasons. The unit tests hold the two paths to the same output.
 */
export function callLineRule(index: Record<CallColumn, number>, width: number, importNo: string, callers: CallerBytes): LineRule {
  const cuts = new Int32Array(width);
  const importBytes = Buffer.from(importNo + '\t', 'latin1');
  const iCall = index.call_id;
  const iStarted = index.started_at;
  const iDuration = index.duration_seconds;
  const iAccount = index.account_id;
  const iCaller = index.caller_id;
  const iTarget = index.target_number;

  return (src, start, end, line, out) => {
    // Field ends, and a check that the line is plain.
    let n = 0;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c === COMMA) {
        if (n === width - 1) return false;
        cuts[n++] = i;
      } else if (c < 32 || c > 126 || c === 34 || c === 92) {
        return false;
      }
    }
    if (n !== width - 1) return false;
    cuts[n] = end;
    const from = (f: number) => (f === 0 ? start : cuts[f - 1]! + 1);

    // The target number, untrimmed, as callRowToCopy hands it over.
    const target = normalisePhoneBytes(src, from(iTarget), cuts[iTarget]!);
    if (!target.ok) return false;

    let s = from(iStarted);
    let e = cuts[iStarted]!;
    while (s < e && src[s] === SPACE) s++;
    while (e > s && src[e - 1] === SPACE) e--;
    if (!isoTimestampBytes(src, s, e)) return false;
    const startedS = s;

    s = from(iDuration);
    e = cuts[iDuration]!;
    while (s < e && src[s] === SPACE) s++;
    while (e > s && src[e - 1] === SPACE) e--;
    if (e === s || e - s > 9) return false;
    let duration = 0;
    for (let i = s; i < e; i++) {
      const d = src[i]! - 48;
      if (d < 0 || d > 9) return false;
      duration = duration * 10 + d;
    }
    if (duration > MAX_DURATION) return false;
    const durationS = s;
    const durationE = e;

    let callS = from(iCall);
    let callE = cuts[iCall]!;
    while (callS < callE && src[callS] === SPACE) callS++;
    while (callE > callS && src[callE - 1] === SPACE) callE--;
    let accS = from(iAccount);
    let accE = cuts[iAccount]!;
    while (accS < accE && src[accS] === SPACE) accS++;
    while (accE > accS && src[accE - 1] === SPACE) accE--;
    s = from(iCaller);
    e = cuts[iCaller]!;
    while (s < e && src[s] === SPACE) s++;
    while (e > s && src[e - 1] === SPACE) e--;
    if (callE - callS > MAX_TEXT || accE - accS > MAX_TEXT || e - s > MAX_TEXT) return false;

    // Room for the line's bytes plus what the row adds: import and line numbers, the
    // target's E.164 and type, the caller's institution, tabs (at most 80 bytes).
    const buf = out.room(2 * (end - start) + 128);
    let p = out.used;
    for (let i = 0; i < importBytes.length; i++) buf[p++] = importBytes[i]!;
    p = writeDecimal(buf, p, line);
    buf[p++] = TAB;
    p = callS === callE ? writeNull(buf, p) : copy(src, callS, callE, buf, p);
    buf[p++] = TAB;
    p = copy(src, startedS, startedS + 20, buf, p);
    buf[p++] = TAB;
    p = copy(src, durationS, durationE, buf, p);
    buf[p++] = TAB;
    p = accS === accE ? writeNull(buf, p) : copy(src, accS, accE, buf, p);
    buf[p++] = TAB;
    p = callers.write(src, s, e, buf, p);
    buf[p++] = TAB;
    p = writeAscii(target.e164, buf, p);
    buf[p++] = TAB;
    const type = TYPE_BYTES[target.type];
    for (let i = 0; i < type.length; i++) buf[p++] = type[i]!;
    buf[p++] = NL;
    out.used = p;
    return true;
  };
}

function copy(src: Uint8Array, s: number, e: number, dst: Uint8Array, p: number): number {
  for (let i = s; i < e; i++) dst[p++] = src[i]!;
  return p;
}

/** An ASCII string's characters as bytes (a loop beats a native call for a dozen bytes). */
function writeAscii(s: string, dst: Uint8Array, p: number): number {
  for (let i = 0; i < s.length; i++) dst[p++] = s.charCodeAt(i);
  return p;
}

function writeNull(dst: Uint8Array, p: number): number {
  dst[p] = 92; // \N
  dst[p + 1] = 78;
  return p + 2;
}

function writeDecimal(dst: Uint8Array, p: number, value: number): number {
  let digits = 1;
  for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = p + digits - 1; i >= p; i--) {
    dst[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return p + digits;
}

/**
 * CallerLookup keyed by the caller id's bytes rather than a string: a hash of the bytes
 * finds the COPY fields "caller_id<TAB>institution_id" without making a string per row
 * (plain lines are ASCII, so the fields are written a character per byte). An open-
 * addressing table of the first 20,000 distinct ids; the rest are looked up each time.
 */
export class CallerBytes {
  private static readonly CAPACITY = 20_000;
  private readonly slots = new Int32Array(1 << 16).fill(-1);
  private readonly hashes = new Int32Array(CallerBytes.CAPACITY);
  private readonly keys: Uint8Array[] = [];
  private readonly outs: Uint8Array[] = [];

  constructor(private readonly callers: CallerLookup) {}

  /** Writes the COPY fields for the caller id in bytes [s, e) of src at dst[p…]; returns the end. */
  write(src: Buffer, s: number, e: number, dst: Buffer, p: number): number {
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (let k = this.slots[slot]!; k !== -1; k = this.slots[slot]!) {
      if (this.hashes[k] === h && sameBytes(this.keys[k]!, src, s, e)) {
        const out = this.outs[k]!;
        for (let i = 0; i < out.length; i++) dst[p++] = out[i]!;
        return p;
      }
      slot = (slot + 1) & mask;
    }
    const out = this.callers.lookup(latin1(src, s, e));
    const k = this.keys.length;
    if (k < CallerBytes.CAPACITY) {
      this.slots[slot] = k;
      this.hashes[k] = h;
      this.keys.push(Buffer.from(src.subarray(s, e)));
      this.outs.push(Buffer.from(out, 'latin1'));
    }
    return writeAscii(out, dst, p);
  }
}

function sameBytes(key: Uint8Array, src: Uint8Array, s: number, e: number): boolean {
  if (key.length !== e - s) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== src[s + i]) return false;
  return true;
}
