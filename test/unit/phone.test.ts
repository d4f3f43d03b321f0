import { describe, expect, it } from 'vitest';
import {
  clearPhoneCache,
  isReservedTestNumber,
  isUkMobile,
  normalisePhone,
  normalisePhoneReference,
  PHONE_FAST_PATH_ENABLED,
  PHONE_REJECT_REASONS,
  RESERVED_TEST_NUMBERS,
  reservedTestOutcome,
} from '../../src/common/phone.js';

const ok = (e164: string, type: 'mobile' | 'fixed_line' | 'other') => ({ ok: true, e164, type });
const rejected = (reason: string) => ({ ok: false, reason });

describe('normalisePhone: UK mobiles in every written form', () => {
  const forms = [
    '07723 456789',
    '+44 7723 456789',
    '0044 7723-456-789',
    '447723456789',
    '+44 (0)7723 456789',
    '07723456789',
    '+447723456789',
    '07723-456-789',
    '07723.456.789',
    '(07723) 456789',
    '+44(0)7723456789',
    '0044 (0)7723 456789',
    '+44 0 7723 456 789',
    '44 7723 456789',
    '  07723 456789  ',
    '07723\t456789',
    '07723\u00a0456789',
    '07723 456 789\r',
  ];
  it.each(forms)('%j → +447723456789 (mobile)', (raw) => {
    expect(normalisePhone(raw)).toEqual(ok('+447723456789', 'mobile'));
    expect(normalisePhoneReference(raw)).toEqual(ok('+447723456789', 'mobile'));
  });

  it('treats GB as the default region and accepts an explicit one', () => {
    expect(normalisePhone('07723 456789', 'GB')).toEqual(ok('+447723456789', 'mobile'));
    // A French default region reads 06… as a French mobile.
    expect(normalisePhone('06 12 34 56 78', 'FR')).toEqual(ok('+33612345678', 'mobile'));
    expect(normalisePhone('+44 7723 456789', 'FR')).toEqual(ok('+447723456789', 'mobile'));
  });

  it('recognises Crown Dependency mobiles sharing +44 as mobiles', () => {
    expect(normalisePhone('07624 123456')).toEqual(ok('+447624123456', 'mobile')); // Isle of Man
    expect(normalisePhone('+44 7911 123456')).toEqual(ok('+447911123456', 'mobile')); // Guernsey
  });
});

describe('normalisePhone: landlines and other UK numbers', () => {
  it.each([
    ['020 7946 0123', '+442079460123'],
    ['+44 20 7946 0123', '+442079460123'],
    ['0207 946 0123', '+442079460123'],
    ['(020) 7946-0123', '+442079460123'],
    ['+44 (0)20 7946 0123', '+442079460123'],
    ['0161 496 0000', '+441614960000'],
    ['0044 161 496 0000', '+441614960000'],
    ['441614960000', '+441614960000'],
    ['0121 496 0123', '+441214960123'],
  ])('%j → %s (fixed_line)', (raw, e164) => {
    expect(normalisePhone(raw)).toEqual(ok(e164, 'fixed_line'));
  });

  it('types freephone and 03 numbers as other', () => {
    expect(normalisePhone('0800 123 4567')).toEqual(ok('+448001234567', 'other'));
    expect(normalisePhone('0345 123 4567')).toEqual(ok('+443451234567', 'other'));
  });
});

describe('normalisePhone: foreign numbers', () => {
  it.each([
    ['+1 212 555 0123', '+12125550123', 'other'], // NANP: fixed or mobile cannot be told apart
    ['001 212 555 0123', '+12125550123', 'other'],
    ['+1 (212) 555-0123', '+12125550123', 'other'],
    ['+33 6 12 34 56 78', '+33612345678', 'mobile'],
    ['0033 6 12 34 56 78', '+33612345678', 'mobile'],
    ['+33 (0)6 12 34 56 78', '+33612345678', 'mobile'],
    ['+33 1 42 68 53 00', '+33142685300', 'fixed_line'],
    ['+91 98765 43210', '+919876543210', 'mobile'],
    ['0091 98765 43210', '+919876543210', 'mobile'],
    ['+353 85 123 4567', '+353851234567', 'mobile'],
  ] as const)('%j → %s (%s)', (raw, e164, type) => {
    const r = normalisePhone(raw);
    expect(r).toEqual(ok(e164, type));
    expect(r.ok && isUkMobile(r.e164)).toBe(false);
  });

  it('does not read a foreign number written without + or 00 as foreign', () => {
    // Without an international prefix this is a (too long) UK national number.
    expect(normalisePhone('1 212 555 0123').ok).toBe(false);
  });
});

describe('normalisePhone: rejections', () => {
  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['--', 'empty'],
    ['()', 'empty'],
    ['+', 'not a phone number'],
    ['abc', 'not a phone number'],
    ['unknown', 'not a phone number'],
    ['withheld', 'not a phone number'],
    ['N/A', 'not a phone number'],
    ['07723 456789 ext 12', 'not a phone number'],
    ['tel:+447723456789', 'not a phone number'],
    ['call 07723456789', 'not a phone number'],
    ['07723 45678O', 'not a phone number'], // letter O
    ['++447723456789', 'not a phone number'],
    ['07723+456789', 'not a phone number'],
    ['#31#07723456789', 'not a phone number'],
    ['07723456789,07723456780', 'not a phone number'],
    ['０７７２３４５６７８９', 'not a phone number'], // full-width digits
  ])('%j → %s', (raw, reason) => {
    expect(normalisePhone(raw)).toEqual(rejected(reason));
    expect(normalisePhoneReference(raw)).toEqual(rejected(reason));
  });

  it.each([
    "'; DROP TABLE victims; --",
    '1 OR 1=1',
    "07723456789' OR '1'='1",
    '07723456789; --',
    '07723456789); DELETE FROM calls; --',
    'SELECT * FROM users',
    '<script>alert(1)</script>',
  ])('SQL / markup text %j is not a phone number', (raw) => {
    expect(normalisePhone(raw)).toEqual(rejected('not a phone number'));
  });

  it.each(['0', '1', '123', '999', '0772', '+44 7723'])('%j is too short', (raw) => {
    expect(normalisePhone(raw)).toEqual(rejected('too short'));
  });

  it.each([
    '0772345678901234',
    '+447723456789123',
    '0'.repeat(30),
    '+1'.padEnd(25, '1'),
    '07723 456789 '.repeat(6),
  ])('%j is too long', (raw) => {
    expect(normalisePhone(raw)).toEqual(rejected('too long'));
  });

  it.each([
    ['+44 7700 900123', 'invalid number'], // Ofcom drama range, not a reserved test number
    ['07700 900999', 'invalid number'],
    ['07723 45678', 'invalid number'], // a digit missing: a possible length, but no such number
    ['+999 123 456', 'invalid country code'],
  ])('%j → %s', (raw, reason) => {
    expect(normalisePhone(raw)).toEqual(rejected(reason));
  });

  it('uses only the documented reason strings', () => {
    const inputs = ['', 'x', '1', '0'.repeat(40), '+999 1', '07700900999', '+44 1', '+1 555', '00', '44'];
    for (const raw of inputs) {
      const r = normalisePhone(raw);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(PHONE_REJECT_REASONS).toContain(r.reason);
    }
  });

  it('survives non-string input from untyped callers', () => {
    expect(normalisePhone(undefined as unknown as string)).toEqual(rejected('empty'));
    expect(normalisePhone(null as unknown as string)).toEqual(rejected('empty'));
  });
});

describe('reserved test numbers', () => {
  const entries = Object.entries(RESERVED_TEST_NUMBERS);

  it('are drama-range numbers libphonenumber itself would reject', () => {
    for (const [, e164] of entries) expect(e164).toMatch(/^\+447700900\d{3}$/);
  });

  it.each(entries)('%s (%s) is accepted as a UK mobile in every written form', (outcome, e164) => {
    const national = '0' + e164.slice(3);
    for (const raw of [e164, national, `${national.slice(0, 5)} ${national.slice(5)}`, `+44 (0)${e164.slice(3)}`, `0044${e164.slice(3)}`]) {
      expect(normalisePhone(raw)).toEqual(ok(e164, 'mobile'));
      expect(normalisePhoneReference(raw)).toEqual(ok(e164, 'mobile'));
    }
    expect(isUkMobile(e164)).toBe(true);
    expect(isReservedTestNumber(e164)).toBe(true);
    expect(reservedTestOutcome(e164)).toBe(outcome);
  });

  it('maps the documented outcomes', () => {
    expect(reservedTestOutcome('+447700900000')).toBe('delivered');
    expect(reservedTestOutcome('+447700900001')).toBe('permanentFailure');
    expect(reservedTestOutcome('+447700900002')).toBe('temporaryFailure');
    expect(reservedTestOutcome('+447700900003')).toBe('optedOut');
    expect(reservedTestOutcome('+447723456789')).toBeUndefined();
    expect(isReservedTestNumber('+447700900999')).toBe(false);
  });
});

describe('isUkMobile', () => {
  it.each([
    ['+447723456789', true],
    ['+447400123456', true],
    ['+447624123456', true], // Isle of Man
    ['+442079460123', false],
    ['+448001234567', false],
    ['+447700900123', false], // drama range, not reserved
    ['+33612345678', false],
    ['+12125550123', false],
    ['07723456789', false], // not E.164
    ['+44 7723 456789', false], // not E.164
    ['', false],
  ])('%j → %s', (e164, expected) => {
    expect(isUkMobile(e164)).toBe(expected);
  });
});

describe('fast path agrees with libphonenumber', () => {
  it('is active', () => {
    expect(PHONE_FAST_PATH_ENABLED).toBe(true);
  });

  it('gives the same answer as the reference path for random UK numbers of every prefix', () => {
    let x = 0x9e3779b9;
    const next = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    const digits = (n: number) => {
      let s = '';
      for (let i = 0; i < n; i++) s += String(next() % 10);
      return s;
    };
    const mismatches: string[] = [];
    // Every 3-digit prefix (1xx, 2xx, 7xx … and the rest), national lengths 9-11.
    for (let p = 0; p < 1000; p++) {
      for (const restLength of [6, 7, 8]) {
        const nsn = String(p).padStart(3, '0') + digits(restLength);
        for (const raw of ['0' + nsn, '+44' + nsn, '0044 ' + nsn, '44' + nsn, '+44 (0)' + nsn, `0${nsn.slice(0, 4)} ${nsn.slice(4)}`]) {
          clearPhoneCache();
          const a = normalisePhone(raw);
          const b = normalisePhoneReference(raw);
          if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push(`${raw}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('returns the same (cached) answer on repeated calls', () => {
    clearPhoneCache();
    const first = normalisePhone('+33 6 12 34 56 78');
    expect(normalisePhone('+33 6 12 34 56 78')).toEqual(first);
    expect(normalisePhone('+33612345678')).toEqual(first);
  });
});
