import { describe, expect, it } from 'vitest';

import {
  analyseSms,
  gsmReplacementFor,
  isGsmCharacter,
  SMS_LIMITS,
  suggestGsmReplacement,
} from '../../src/common/sms-segments.js';

const CURLY_APOSTROPHE = '\u2019';

describe('GSM 03.38 character set', () => {
  it.each([
    ...'@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà',
    '\n',
    '\r',
    ...'0123456789',
    ...'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
    ...'abcdefghijklmnopqrstuvwxyz',
  ])('%j is in the basic set', (char) => {
    expect(isGsmCharacter(char)).toBe(true);
    expect(analyseSms(char)).toMatchObject({ encoding: 'GSM-7', characters: 1, segments: 1 });
  });

  it.each([...'^{}\\[~]|€', '\f'])('%j is in the extension table and counts two', (char) => {
    expect(isGsmCharacter(char)).toBe(true);
    expect(analyseSms(char)).toMatchObject({ encoding: 'GSM-7', characters: 2, segments: 1 });
  });

  it.each([CURLY_APOSTROPHE, '“', '–', '…', '\u00A0', 'ç', 'á', 'ł', '😀', '\t', '`', 'Ё'])(
    '%j is not GSM-7',
    (char) => expect(isGsmCharacter(char)).toBe(false),
  );

  it('counts the whole basic set as 127 characters (128 minus the escape)', () => {
    const basic =
      '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
      '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
    expect(basic).toHaveLength(127);
    expect(analyseSms(basic)).toMatchObject({ encoding: 'GSM-7', characters: 127, segments: 1 });
  });
});

describe('analyseSms: GSM-7', () => {
  it('reports empty text as 0 characters and 0 segments', () => {
    expect(analyseSms('')).toEqual({ encoding: 'GSM-7', characters: 0, segments: 0, nonGsmCharacters: [] });
  });

  it.each([
    [1, 1],
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
    [459, 3],
    [460, 4],
  ])('%i characters make %i segment(s)', (length, segments) => {
    expect(analyseSms('a'.repeat(length))).toEqual({
      encoding: 'GSM-7',
      characters: length,
      segments,
      nonGsmCharacters: [],
    });
  });

  it('counts an extension character as two septets at the single-segment boundary', () => {
    expect(analyseSms(`${'a'.repeat(158)}€`)).toMatchObject({ characters: 160, segments: 1 });
    expect(analyseSms(`${'a'.repeat(159)}€`)).toMatchObject({ characters: 161, segments: 2 });
  });

  it('counts every extension character as two', () => {
    expect(analyseSms('^{}\\[~]|€')).toMatchObject({ encoding: 'GSM-7', characters: 18 });
  });

  it('never splits an escape sequence across two segments', () => {
    // 152 + 2 + 152 = 306 septets, but the € cannot start in the last septet of part one.
    const text = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
    expect(analyseSms(text)).toMatchObject({ characters: 306, segments: 3 });
    expect(analyseSms(`${'a'.repeat(151)}€${'a'.repeat(153)}`)).toMatchObject({ characters: 306, segments: 2 });
  });

  it('counts line breaks as one septet each', () => {
    expect(analyseSms('a\r\nb')).toMatchObject({ encoding: 'GSM-7', characters: 4 });
  });

  it('exposes the per-encoding limits', () => {
    expect(SMS_LIMITS).toEqual({ 'GSM-7': { single: 160, perPart: 153 }, 'UCS-2': { single: 70, perPart: 67 } });
  });
});

describe('analyseSms: UCS-2', () => {
  const ucs2 = (length: number): string => `${'a'.repeat(length - 1)}${CURLY_APOSTROPHE}`;

  it('switches the whole message to UCS-2 for a single non-GSM character', () => {
    const text = `Don${CURLY_APOSTROPHE}t reply`;
    expect(analyseSms(text)).toEqual({
      encoding: 'UCS-2',
      characters: 11,
      segments: 1,
      nonGsmCharacters: [{ char: CURLY_APOSTROPHE, count: 1, suggestion: "'" }],
    });
  });

  it.each([
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [201, 3],
    [202, 4],
  ])('%i UTF-16 units make %i segment(s)', (length, segments) => {
    expect(analyseSms(ucs2(length))).toMatchObject({ encoding: 'UCS-2', characters: length, segments });
  });

  it('counts an emoji as two UTF-16 code units', () => {
    expect(analyseSms('😀')).toEqual({
      encoding: 'UCS-2',
      characters: 2,
      segments: 1,
      nonGsmCharacters: [{ char: '😀', count: 1 }],
    });
    expect(analyseSms('😀'.repeat(35))).toMatchObject({ characters: 70, segments: 1 });
    expect(analyseSms('😀'.repeat(36))).toMatchObject({ characters: 72, segments: 2 });
  });

  it('never splits a surrogate pair across two segments', () => {
    expect(analyseSms(`${'a'.repeat(66)}😀${'a'.repeat(66)}`)).toMatchObject({ characters: 134, segments: 3 });
    expect(analyseSms(`${'a'.repeat(65)}😀${'a'.repeat(67)}`)).toMatchObject({ characters: 134, segments: 2 });
  });

  it('counts extension characters once in UCS-2', () => {
    expect(analyseSms(`€${CURLY_APOSTROPHE}`)).toMatchObject({ encoding: 'UCS-2', characters: 2 });
  });

  it('lists each non-GSM character once, with its count and a suggestion where there is one', () => {
    const { nonGsmCharacters } = analyseSms('“Hi” — it’s ok… 😀 “again” cafés façade Łódź');
    expect(nonGsmCharacters).toEqual([
      { char: '“', count: 2, suggestion: '"' },
      { char: '”', count: 2, suggestion: '"' },
      { char: '—', count: 1, suggestion: '-' },
      { char: '’', count: 1, suggestion: "'" },
      { char: '…', count: 1, suggestion: '...' },
      { char: '😀', count: 1 },
      { char: 'ç', count: 1, suggestion: 'c' },
      { char: 'Ł', count: 1 },
      { char: 'ó', count: 1, suggestion: 'o' },
      { char: 'ź', count: 1, suggestion: 'z' },
    ]);
  });
});

describe('suggestGsmReplacement', () => {
  it.each([
    ['‘single’', "'single'"],
    ['“double”', '"double"'],
    ['„low“', '"low"'],
    ['a – b — c', 'a - b - c'],
    ['wait…', 'wait...'],
    ['£1\u00A0250', '£1 250'],
    ['a\u202Fb\u2009c', 'a b c'],
    ['zero\u200Bwidth\uFEFF', 'zerowidth'],
    ['soft\u00ADhyphen', 'softhyphen'],
    ['tab\there', 'tab here'],
    ['«quoted»', '"quoted"'],
    ['• item', '- item'],
    ['Ça coûte', 'Ça coute'],
    ['Zoë and José', 'Zoe and José'],
  ])('%j becomes %j', (input, expected) => {
    expect(suggestGsmReplacement(input)).toBe(expected);
    expect(analyseSms(expected).encoding).toBe('GSM-7');
  });

  it('leaves GSM-7 text unchanged', () => {
    const text = 'Metropolitan Police: £50 {ref} [x] ~ | € ^ \\ é ñ Ø\r\n';
    expect(suggestGsmReplacement(text)).toBe(text);
  });

  it('keeps characters that have no GSM-7 stand-in', () => {
    expect(suggestGsmReplacement('Hi 😀 “there” Łukasz')).toBe('Hi 😀 "there" Łukasz');
  });

  it('can turn a two-segment UCS-2 message into a single GSM-7 segment', () => {
    const text = `${'Don’t share your PIN – we won’t ask… '.repeat(3)}`;
    expect(analyseSms(text)).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(analyseSms(suggestGsmReplacement(text))).toMatchObject({ encoding: 'GSM-7', segments: 1 });
  });

  it('suggests nothing for characters already in GSM-7 or without a plain form', () => {
    expect(gsmReplacementFor('😀')).toBeUndefined();
    expect(gsmReplacementFor('Ł')).toBeUndefined();
    expect(gsmReplacementFor('\u200B')).toBe('');
  });
});
