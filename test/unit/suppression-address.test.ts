import { describe, expect, it } from 'vitest';
import { normaliseSuppressionAddress } from '../../src/modules/suppressions/suppression-address.js';

describe('normaliseSuppressionAddress: sms', () => {
  it.each(['07723 456789', '+44 7723 456789', '0044 7723-456-789', '447723456789', '+44 (0)7723 456789', ' 07723456789 '])(
    '%s → +447723456789',
    (raw) => {
      expect(normaliseSuppressionAddress('sms', raw)).toEqual({ ok: true, address: '+447723456789' });
    },
  );

  it('accepts landlines and foreign numbers (suppressing them is harmless)', () => {
    expect(normaliseSuppressionAddress('sms', '0118 496 0502')).toEqual({ ok: true, address: '+441184960502' });
    expect(normaliseSuppressionAddress('sms', '+353 85 123 4502')).toEqual({ ok: true, address: '+353851234502' });
  });

  it.each([
    ['', 'address is empty'],
    ['   ', 'address is empty'],
    ['0772', 'address is not a phone number (too short)'],
    ['077234567890123456789', 'address is not a phone number (too long)'],
    ['07723 45678O', 'address is not a phone number'],
    ['call 07723 456789', 'address is not a phone number'],
    ['jane@example.com', 'address is not a phone number'],
    ['07700 900999', 'address is not a phone number (invalid number)'],
    ['x'.repeat(400), 'address is too long (over 320 characters)'],
  ])('%j is refused: %s', (raw, reason) => {
    expect(normaliseSuppressionAddress('sms', raw)).toEqual({ ok: false, reason });
  });
});

describe('normaliseSuppressionAddress: email', () => {
  it.each([
    ['Jane.Doe@Example.COM', 'jane.doe@example.com'],
    ['  jane@example.org\t', 'jane@example.org'],
    ['a+tag@mail.example.co.uk', 'a+tag@mail.example.co.uk'],
  ])('%j → %s', (raw, address) => {
    expect(normaliseSuppressionAddress('email', raw)).toEqual({ ok: true, address });
  });

  it.each([
    ['', 'address is empty'],
    ['not-an-email', 'address is not a valid email address'],
    ['jane@example', 'address is not a valid email address'],
    ['jane doe@example.com', 'address is not a valid email address'],
    ['jane@@example.com', 'address is not a valid email address'],
    ['ja\u0000ne@example.com', 'address is not a valid email address'],
    ['07723 456789', 'address is not a valid email address'],
    [`${'a'.repeat(250)}@example.com`, 'address is too long for an email address (over 254 characters)'],
  ])('%j is refused: %s', (raw, reason) => {
    expect(normaliseSuppressionAddress('email', raw)).toEqual({ ok: false, reason });
  });
});

describe('normaliseSuppressionAddress: anything else', () => {
  it('refuses an unknown channel and a non-string address', () => {
    expect(normaliseSuppressionAddress('fax' as 'sms', '07723 456789')).toEqual({ ok: false, reason: 'channel must be sms or email' });
    expect(normaliseSuppressionAddress('sms', undefined as unknown as string)).toEqual({ ok: false, reason: 'address is empty' });
  });
});
