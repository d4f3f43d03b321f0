const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Strict ISO 8601 date-time check (JavaScript's Date.parse rolls 30 February over to
 * 2 March; Postgres would reject it and abort a whole COPY). A time without an offset
 * is read as UTC: seized server logs are kept in UTC. Returns the value to hand to
 * Postgres, or null.
 */
export function isoTimestamp(value: string): string | null {
  // Fast path for the shape seized logs use, "2021-01-01T00:36:09Z": the date part is
  // checked once per distinct day, the time part by character codes.
  if (value.length === 20 && value.charCodeAt(10) === 84 && value.charCodeAt(19) === 90 && value.charCodeAt(13) === 58 && value.charCodeAt(16) === 58) {
    const day = value.slice(0, 10);
    let ok = validDays.get(day);
    if (ok === undefined) {
      ok = isoTimestampSlow(day + 'T00:00:00Z') !== null;
      if (validDays.size < 100_000) validDays.set(day, ok);
    }
    if (ok && clock(value, 11) <= 23 && clock(value, 14) <= 59 && clock(value, 17) <= 59) return value;
    return null;
  }
  return isoTimestampSlow(value);
}

const validDays = new Map<string, boolean>();

/**
 * isoTimestamp's fast shape read straight from bytes, for importers that never make
 * strings of the lines they can read themselves: when bytes [start, end) are a valid
 * "2021-01-01T00:36:09Z", the instant in microseconds since 2000-01-01T00:00:00Z (the
 * value Postgres's binary COPY takes for a timestamptz). NaN is not a verdict: the
 * caller hands the value to isoTimestamp.
 */
export function isoTimestampMicros(b: Buffer, start: number, end: number): number {
  const s = start;
  if (end - s !== 20 || b[s + 10] !== 84 || b[s + 19] !== 90 || b[s + 13] !== 58 || b[s + 16] !== 58 || b[s + 4] !== 45 || b[s + 7] !== 45) return NaN;
  const y = digitsAt(b, s, 4);
  const m = digitsAt(b, s + 5, 2);
  const d = digitsAt(b, s + 8, 2);
  if (y < 0 || m < 0 || d < 0) return NaN;
  const key = y * 10_000 + m * 100 + d;
  let days = pgDays.get(key);
  if (days === undefined) {
    days = validDate(y, m, d) ? Date.UTC(y, m - 1, d) / 86_400_000 - PG_EPOCH_DAYS : NaN;
    if (pgDays.size < 100_000) pgDays.set(key, days);
  }
  const hh = digitsAt(b, s + 11, 2);
  const mm = digitsAt(b, s + 14, 2);
  const ss = digitsAt(b, s + 17, 2);
  if (!(hh >= 0 && hh <= 23 && mm >= 0 && mm <= 59 && ss >= 0 && ss <= 59)) return NaN;
  return (days * 86_400 + hh * 3_600 + mm * 60 + ss) * 1_000_000;
}

/** 2000-01-01, Postgres's epoch, in days since 1970-01-01. */
const PG_EPOCH_DAYS = 10_957;
/** Valid days (YYYYMMDD) → days since 2000-01-01; NaN for a day that does not exist. */
const pgDays = new Map<number, number>();

/** n ASCII digits at i as a number, or -1 when one is not a digit. */
function digitsAt(b: Buffer, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = b[k] - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Two digits at i as a number, or 99 when either is not a digit. */
function clock(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : 99;
}

/** A day that exists, in the years seized logs can hold (1970–2100). */
function validDate(year: number, month: number, day: number): boolean {
  if (year < 1970 || year > 2100 || month < 1 || month > 12 || day < 1) return false;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS[month - 1] + (leap ? 1 : 0);
}

function isoTimestampSlow(value: string): string | null {
  const m = ISO.exec(value);
  if (!m) return null;
  if (!validDate(+m[1], +m[2], +m[3])) return null;
  if (+m[4] > 23 || +m[5] > 59 || (m[6] !== undefined && +m[6] > 59)) return null;
  if (m[8] && m[8].length > 1) {
    const oh = +m[8].slice(1, 3);
    // Postgres refuses offset minutes above 59 and would abort the whole COPY.
    const om = m[8].length > 3 ? +m[8].slice(-2) : 0;
    if (oh > 14 || om > 59) return null;
  }
  return m[8] ? value : value + 'Z';
}
