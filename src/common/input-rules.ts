/**
 * Rules every piece of caller input obeys, whatever the route: the checks behind the
 * global pipe, the DTOs' date and id validators and the cursor codec.
 *
 * Decisions:
 * - Text may not hold NUL (Postgres cannot store it in text and aborts the statement)
 *   or a lone UTF-16 surrogate (it cannot be encoded as UTF-8, so it is either
 *   mangled or refused further down). Either answers 400 naming the field.
 * - `__proto__`, `constructor` and `prototype` are refused as keys: no DTO has such a
 *   field, and a copy that honours them changes every object's prototype.
 * - Input nests at most 20 levels deep: no body here nests more than 3.
 * - An id is a UUID in its canonical 8-4-4-4-12 hexadecimal form (any version, nil
 *   included, as Postgres's uuid type holds it); 36 dashes are not an id.
 * - A date is `YYYY-MM-DD` or an RFC 3339 date-time with an offset
 *   (`2024-01-31T09:00:00Z`, `…+01:00`), on a day that exists, years 1900–9999. ISO
 *   8601's week dates (`2024-W01-1`), ordinal dates (`2024-001`) and a time without an
 *   offset are refused: they are easy to misread and Postgres reads some differently.
 */

export const INT4_MAX = 2_147_483_647;
export const MAX_INPUT_DEPTH = 20;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** A positive bigint id (messages, suppressions, removal requests), as a string of at most 18 digits. */
export function isBigintId(value: unknown): value is string {
  return typeof value === 'string' && /^[1-9]\d{0,17}$/.test(value);
}

/** A whole number Postgres's integer column holds. */
export function isInt4(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= -INT4_MAX - 1 && value <= INT4_MAX;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/** `YYYY-MM-DD` on a real day. */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value);
  return m !== null && realDay(+m[1], +m[2], +m[3]);
}

/** An RFC 3339 date-time with an offset, on a real day and a real time of it. */
export function isRfc3339DateTime(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_TIME.exec(value);
  if (m === null || !realDay(+m[1], +m[2], +m[3])) return false;
  if (+m[4] > 23 || +m[5] > 59 || +m[6] > 59) return false;
  return m[9] === undefined || (+m[9] <= 23 && +m[10] <= 59);
}

/** What a date filter accepts: a calendar date or an RFC 3339 date-time. */
export function isDateOrDateTime(value: unknown): value is string {
  return isCalendarDate(value) || isRfc3339DateTime(value);
}

function realDay(year: number, month: number, day: number): boolean {
  if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/** True when `text` holds a UTF-16 surrogate without its other half. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The first problem in a value taken from a request (a body, a query, a path
 * parameter), with the path of the field it is in (`audience.institution`,
 * `channels[1]`), or null when there is none.
 */
export function unsafeInputProblem(value: unknown, path: string): string | null {
  return walk(value, path, 0);
}

function walk(value: unknown, path: string, depth: number): string | null {
  if (typeof value === 'string') return textProblem(value, path);
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_INPUT_DEPTH) return `${path || 'the input'} nests more than ${MAX_INPUT_DEPTH} levels deep; send a flatter value`;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const problem = walk(item, `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const field = path ? `${path}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return `${field} is not a field anything here takes; remove it`;
    const keyProblem = textProblem(key, path ? `a field name in ${path}` : 'a field name');
    if (keyProblem) return keyProblem;
    const problem = walk((value as Record<string, unknown>)[key], field, depth + 1);
    if (problem) return problem;
  }
  return null;
}

function textProblem(text: string, field: string): string | null {
  const name = field || 'the input';
  if (text.includes('\u0000')) return `${name} contains a NUL character (U+0000); remove it`;
  if (hasLoneSurrogate(text)) return `${name} contains a lone UTF-16 surrogate, which is not valid text; send it as valid UTF-8`;
  return null;
}
