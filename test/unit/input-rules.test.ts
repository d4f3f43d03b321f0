import { describe, expect, it } from 'vitest';
import { BadRequestException } from '@nestjs/common';
import {
  hasLoneSurrogate, isCalendarDate, isDateOrDateTime, isInt4, isRfc3339DateTime, isUuid, unsafeInputProblem,
} from '../../src/common/input-rules.js';
import { decodeCursorAs, encodeCursor } from '../../src/common/paging.js';

const ID = '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b';

describe('ids', () => {
  it.each([
    [ID, true], [ID.toUpperCase(), true], ['00000000-0000-0000-0000-000000000000', true],
    ['-'.repeat(36), false], ['3f2b8c1e9a4d4e2f8b1a0c9d8e7f6a5b', false], [`{${ID}}`, false], [`${ID} `, false],
    ['3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5g', false], ['', false], [123, false], [null, false],
  ])('isUuid(%j) is %s', (value, ok) => expect(isUuid(value)).toBe(ok));
});

describe('dates', () => {
  it.each([
    ['2024-01-31', true], ['2024-02-29', true], ['2000-02-29', true],
    ['2023-02-29', false], ['1900-02-29', false], ['2024-02-30', false], ['2024-04-31', false], ['2024-13-01', false], ['2024-00-10', false],
    ['2024-W01-1', false], ['2024-W01', false], ['2024-001', false], ['20240131', false], ['2024-1-31', false], ['yesterday', false],
    ['1899-12-31', false], ['+002024-01-01', false], ['', false],
  ])('isCalendarDate(%j) is %s', (value, ok) => expect(isCalendarDate(value)).toBe(ok));

  it.each([
    ['2024-01-31T09:00:00Z', true], ['2024-01-31T09:00:00.123Z', true], ['2024-01-31t09:00:00z', true], ['2024-01-31T23:59:59+01:00', true],
    ['2024-01-31T09:00:00-05:30', true],
    ['2024-01-31T09:00:00', false], ['2024-01-31T09:00Z', false], ['2024-01-31 09:00:00Z', false], ['2024-01-31T24:00:00Z', false],
    ['2024-01-31T09:60:00Z', false], ['2024-01-31T09:00:60Z', false], ['2024-01-31T09:00:00+24:00', false], ['2024-01-31T09:00:00+0100', false],
    ['2024-02-30T09:00:00Z', false], ['2024-W01-1T09:00:00Z', false], ['2024-01-31T09:00:00.1234567Z', false],
  ])('isRfc3339DateTime(%j) is %s', (value, ok) => expect(isRfc3339DateTime(value)).toBe(ok));

  it('takes either as a filter', () => {
    expect(isDateOrDateTime('2024-01-31')).toBe(true);
    expect(isDateOrDateTime('2024-01-31T00:00:00Z')).toBe(true);
    expect(isDateOrDateTime(20240131)).toBe(false);
  });
});

describe('whole numbers', () => {
  it.each([[0, true], [2147483647, true], [-2147483648, true], [2147483648, false], [3e9, false], [1e300, false], [1.5, false], [NaN, false], ['1', false]])(
    'isInt4(%j) is %s', (value, ok) => expect(isInt4(value)).toBe(ok),
  );
});

describe('unsafe input', () => {
  it.each([
    [{ name: 'ok', nested: { list: ['a', 'b'] } }, null],
    [{ name: 'a\u0000b' }, 'name contains a NUL character'],
    [{ audience: { institution: 'x\u0000' } }, 'audience.institution contains a NUL'],
    [{ channels: ['sms', 'em\u0000ail'] }, 'channels[1] contains a NUL'],
    [{ note: 'a\ud800b' }, 'note contains a lone UTF-16 surrogate'],
    [{ note: 'a\udc00' }, 'note contains a lone UTF-16 surrogate'],
    [{ note: 'emoji \ud83d\ude00 is fine' }, null],
    [JSON.parse('{"__proto__": {"admin": true}}'), '__proto__ is not a field'],
    [{ a: { constructor: { prototype: 1 } } }, 'a.constructor is not a field'],
    [{ ['k\u0000']: 1 }, 'a field name contains a NUL'],
    [JSON.parse('['.repeat(30) + ']'.repeat(30)), 'nests more than 20 levels'],
    [42, null],
    [null, null],
  ])('%j → %s', (value, problem) => {
    const found = unsafeInputProblem(value, '');
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });

  it('names a path parameter', () => {
    expect(unsafeInputProblem('\u0000', 'id')).toContain('id contains a NUL');
    expect(hasLoneSurrogate('\ud800')).toBe(true);
    expect(hasLoneSurrogate('\ud83d\ude00')).toBe(false);
  });
});

describe('cursors', () => {
  const bad = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

  it('returns the parts of a good cursor', () => {
    expect(decodeCursorAs(encodeCursor([42, ID]), ['int4', 'uuid'])).toEqual([42, ID]);
    expect(decodeCursorAs(encodeCursor(['2024-01-31T09:00:00.000Z', ID]), ['timestamp', 'uuid'])).toEqual(['2024-01-31T09:00:00.000Z', ID]);
    expect(decodeCursorAs(encodeCursor(['17']), ['id8'])).toEqual(['17']);
  });

  it.each([
    [[1e300, ID], ['int4', 'uuid']], [[3e9, ID], ['int4', 'uuid']], [[1.5, ID], ['int4', 'uuid']], [['1', ID], ['int4', 'uuid']],
    [[1, '-'.repeat(36)], ['int4', 'uuid']], [[1], ['int4', 'uuid']], [[1, ID, 3], ['int4', 'uuid']], [{ a: 1 }, ['int4', 'uuid']],
    [['2024-W01-1', ID], ['timestamp', 'uuid']], [['2024-02-30T00:00:00Z', ID], ['timestamp', 'uuid']], [['March 7', ID], ['timestamp', 'uuid']],
    [['1e300'], ['id8']], [['-1'], ['id8']], [[5], ['id8']], [['9'.repeat(19)], ['id8']], [['0'], ['id8']],
  ] as const)('refuses %j as %j', (key, parts) => {
    expect(() => decodeCursorAs(bad(key), parts)).toThrow(BadRequestException);
  });

  it('refuses what is not base64 JSON', () => {
    expect(() => decodeCursorAs('!!!', ['id8'])).toThrow(BadRequestException);
    expect(() => decodeCursorAs(Buffer.from('[1,').toString('base64url'), ['id8'])).toThrow(BadRequestException);
  });
});
