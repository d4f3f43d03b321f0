const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Strict ISO 8601 date-time check (JavaScript's Date.parse rolls 30 February over to
 * 2 March; Postgres would reject it and abort a whole COPY). A time without an offset
 * is read as UTC: seized server logs are kept in UTC. Returns the value to hand to
 * Postgres, or null.
 */
export function isoTimestamp(value: string): string | null {
  const m = ISO.exec(value);
  if (!m) return null;
  const year = +m[1]!;
  const month = +m[2]!;
  const day = +m[3]!;
  if (year < 1970 || year > 2100 || month < 1 || month > 12 || day < 1) return null;
  const leap = month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0));
  if (day > DAYS[month - 1]! + (leap ? 1 : 0)) return null;
  if (+m[4]! > 23 || +m[5]! > 59 || (m[6] !== undefined && +m[6] > 59)) return null;
  if (m[8] && m[8].length > 1) {
    const oh = +m[8].slice(1, 3);
    if (oh > 14) return null;
  }
  return m[8] ? value : value + 'Z';
}
