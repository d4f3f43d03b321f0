import { describe, expect, it } from 'vitest';
import { maskEmail, maskPhone, scrubPii } from '../../src/common/pii.js';

describe('PII scrubbing for logs', () => {
  it.each([
    ['sent to +447723456789', 'sent to [phone]'],
    ['sent to 07723 456789 ok', 'sent to [phone] ok'],
    ['from 0044 7723-456-789', 'from [phone]'],
    ['mail jane.doe+x@example.co.uk now', 'mail [email] now'],
    ['/api/victims?phone=%2B447723456789&x=1', '/api/victims?phone=[phone]&x=1'],
  ])('%s', (input, output) => {
    expect(scrubPii(input)).toBe(output);
  });

  it('leaves ids, dates and amounts alone', () => {
    for (const s of [
      '/api/campaigns/3f1a2b3c-1234-5678-9abc-def012345678/stats',
      'at 2026-11-27T10:16:48.123Z',
      'amount 125000 pence',
      'job 1234567',
    ]) {
      expect(scrubPii(s)).toBe(s);
    }
  });

  it('masks for analysts', () => {
    expect(maskPhone('+447723456789')).toBe('+447******789');
    expect(maskEmail('jane.doe@example.co.uk')).toBe('j***@e***.uk');
  });
});
