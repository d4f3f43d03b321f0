import {
  writeAsciiField, writeBytesField, writeInt16, writeInt2Field, writeInt4Field, writeInt8Field, writeNullField,
} from '../../common/copy-binary.js';
import { normalisePhoneBytes } from '../../common/phone.js';
import { isoTimestampMicros } from '../../common/timestamps.js';
import type { LineRule } from './block-parser.js';
import { CALL_COPY_COLUMNS, CallColumn, CallerLookup, MAX_DURATION, MAX_TEXT } from './call-record-row.js';

const COMMA = 44;
const SPACE = 32;

/**
 * The call-record row rule read straight from a line's bytes, for the plain lines that
 * make up nearly all of an export (printable ASCII, no quotes or backslashes, every
 * field well formed). It writes the row in COPY's binary format (CALL_COPY_COLUMNS), so
 * no strings are made except the target number and Postgres parses no dates or numbers.
 *
 * It stores exactly what callRowToCopy's text line would store for the same line, or
 * writes nothing and returns false: quoted, non-ASCII and rejected lines take the
 * string path, which gives the reasons. The unit tests hold the two paths to the same
 * rows, and the import tests to the same values in Postgres.
 */
export function callLineRule(index: Record<CallColumn, number>, width: number, importNo: string, callers: CallerBytes): LineRule {
  const cuts = new Int32Array(width);
  const importNumber = Number(importNo);
  if (!Number.isInteger(importNumber)) throw new Error('call records are keyed by the import number');
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
      const c = src[i];
      if (c === COMMA) {
        if (n === width - 1) return false;
        cuts[n++] = i;
      } else if (c < 32 || c > 126 || c === 34 || c === 92) {
        return false;
      }
    }
    if (n !== width - 1) return false;
    cuts[n] = end;
    const from = (f: number) => (f === 0 ? start : cuts[f - 1] + 1);

    // The target number, untrimmed, as callRowToCopy hands it over.
    const target = normalisePhoneBytes(src, from(iTarget), cuts[iTarget]);
    if (!target.ok) return false;

    let s = from(iStarted);
    let e = cuts[iStarted];
    while (s < e && src[s] === SPACE) s++;
    while (e > s && src[e - 1] === SPACE) e--;
    const started = isoTimestampMicros(src, s, e);
    if (Number.isNaN(started)) return false;

    s = from(iDuration);
    e = cuts[iDuration]!;
    while (s < e && src[s] === SPACE) s++;
    while (e > s && src[e - 1] === SPACE) e--;
    if (e === s || e - s > 9) return false;
    let duration = 0;
    for (let i = s; i < e; i++) {
      const d = src[i] - 48;
      if (d < 0 || d > 9) return false;
      duration = duration * 10 + d;
    }
    if (duration > MAX_DURATION) return false;

    let callS = from(iCall);
    let callE = cuts[iCall];
    while (callS < callE && src[callS] === SPACE) callS++;
    while (callE > callS && src[callE - 1] === SPACE) callE--;
    let accS = from(iAccount);
    let accE = cuts[iAccount];
    while (accS < accE && src[accS] === SPACE) accS++;
    while (accE > accS && src[accE - 1] === SPACE) accE--;
    s = from(iCaller);
    e = cuts[iCaller]!;
    while (s < e && src[s] === SPACE) s++;
    while (e > s && src[e - 1] === SPACE) e--;
    if (callE - callS > MAX_TEXT || accE - accS > MAX_TEXT || e - s > MAX_TEXT) return false;

    // Room for the line's bytes plus what the row adds: lengths, numbers, the target's
    // E.164 and type, the caller's institution (under 160 bytes).
    const buf = out.room(2 * (end - start) + 256);
    let p = writeInt16(buf, out.used, CALL_COPY_COLUMNS.length);
    p = writeInt4Field(buf, p, importNumber);
    p = writeInt4Field(buf, p, line);
    p = callS === callE ? writeNullField(buf, p) : writeBytesField(buf, p, src, callS, callE);
    p = writeInt8Field(buf, p, started);
    p = writeInt4Field(buf, p, duration);
    p = accS === accE ? writeNullField(buf, p) : writeBytesField(buf, p, src, accS, accE);
    p = callers.write(src, s, e, buf, p);
    p = writeAsciiField(buf, p, target.e164);
    p = writeAsciiField(buf, p, target.type);
    out.used = p;
    return true;
  };
}

/**
 * CallerLookup keyed by the caller id's bytes rather than a string: a hash of the bytes
 * finds the binary COPY fields caller_id and institution_id, ready to copy, without
 * making a string per row. An open-addressing table of the first 20,000 distinct ids;
 * the rest are resolved each time.
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
    for (let i = s; i < e; i++) h = Math.imul(h ^ src[i], 0x01000193);
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (let k = this.slots[slot]; k !== -1; k = this.slots[slot]!) {
      if (this.hashes[k] === h && sameBytes(this.keys[k], src, s, e)) {
        const out = this.outs[k];
        for (let i = 0; i < out.length; i++) dst[p++] = out[i]!;
        return p;
      }
      slot = (slot + 1) & mask;
    }
    // As CallerLookup.resolve, from the bytes: the E.164 when the id reads as a number
    // (plain lines are ASCII, as normalisePhoneBytes needs), else the id as written.
    const start = p;
    const phone = s === e ? null : normalisePhoneBytes(src, s, e);
    if (phone === null) {
      p = writeNullField(dst, writeNullField(dst, p));
    } else if (phone.ok) {
      p = writeAsciiField(dst, p, phone.e164);
      const institution = this.callers.institutionOf(phone.e164);
      p = institution === null ? writeNullField(dst, p) : writeInt2Field(dst, p, institution);
    } else {
      p = writeNullField(dst, writeBytesField(dst, p, src, s, e));
    }
    const k = this.keys.length;
    if (k < CallerBytes.CAPACITY) {
      this.slots[slot] = k;
      this.hashes[k] = h;
      this.keys.push(Buffer.from(src.subarray(s, e)));
      this.outs.push(Buffer.from(dst.subarray(start, p)));
    }
    return p;
  }
}

function sameBytes(key: Uint8Array, src: Uint8Array, s: number, e: number): boolean {
  if (key.length !== e - s) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== src[s + i]) return false;
  return true;
}
