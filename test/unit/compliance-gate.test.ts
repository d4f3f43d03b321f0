import { describe, expect, it } from 'vitest';

import {
  addressProblem,
  ComplianceConfigError,
  decide,
  isPlausibleEmail,
  isWithinWindow,
  nextWindowStart,
  validateCompliancePolicy,
  validateFrequencyCap,
  validateSendWindow,
  WEEKDAYS,
  type CompliancePolicy,
  type GateRecipient,
  type SendWindow,
  type Weekday,
} from '../../src/common/compliance-gate.js';

const EVERY_DAY: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAYS_ONLY: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

function londonWindow(overrides: Partial<SendWindow> = {}): SendWindow {
  return { start: '09:00', end: '20:00', timezone: 'Europe/London', days: EVERY_DAY, ...overrides };
}

function policy(overrides: Partial<CompliancePolicy> = {}): CompliancePolicy {
  return { sendWindow: londonWindow(), frequencyCap: { max: 2, days: 7 }, ...overrides };
}

function smsRecipient(overrides: Partial<GateRecipient> = {}): GateRecipient {
  return {
    channel: 'sms',
    address: '+447700900123',
    phoneType: 'mobile',
    suppressed: null,
    victimStatus: 'identified',
    recentMessageTimes: [],
    ...overrides,
  };
}

const at = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString();
const RUNNING = { campaignStatus: 'running' };
/** Tuesday 2026-06-16 12:00 BST: inside the default window. */
const MIDDAY = at('2026-06-16T11:00:00Z');
/** Tuesday 2026-06-16 22:00 BST: outside the default window. */
const NIGHT = at('2026-06-16T21:00:00Z');

describe('validateSendWindow', () => {
  it('accepts a valid window', () => {
    expect(validateSendWindow(londonWindow())).toEqual([]);
    expect(validateSendWindow(londonWindow({ start: '20:00', end: '08:00', timezone: 'America/New_York' }))).toEqual([]);
    expect(validateSendWindow(londonWindow({ start: '00:00', end: '23:59', days: ['sun'] }))).toEqual([]);
  });

  it('rejects a window that starts and ends at the same time', () => {
    expect(validateSendWindow(londonWindow({ start: '09:00', end: '09:00' }))).toEqual([
      'The window starts and ends at the same time (09:00); give an end time different from the start.',
    ]);
  });

  it.each(['9:00', '24:00', '12:60', '0900', '09:00:00', '', 'noon'])('rejects the time %j', (time) => {
    const errors = validateSendWindow(londonWindow({ start: time }));
    expect(errors).toEqual([`The window start "${time}" must be a 24-hour time such as 09:00.`]);
  });

  it('rejects an unknown time zone', () => {
    expect(validateSendWindow(londonWindow({ timezone: 'Europe/Lodnon' }))).toEqual([
      '"Europe/Lodnon" is not a known time zone; use an IANA name such as Europe/London.',
    ]);
  });

  it('rejects an empty or unknown list of days', () => {
    expect(validateSendWindow(londonWindow({ days: [] }))).toEqual([
      'The window has no days; list at least one day it opens on.',
    ]);
    expect(validateSendWindow(londonWindow({ days: ['mon', 'Tuesday' as Weekday] }))).toEqual([
      'Unknown day(s) Tuesday; use sun, mon, tue, wed, thu, fri, sat.',
    ]);
  });

  it('reports every problem at once', () => {
    const errors = validateSendWindow({ start: '25:00', end: 'x', timezone: 'Mars/Base', days: [] });
    expect(errors).toHaveLength(4);
  });
});

describe('validateFrequencyCap and validateCompliancePolicy', () => {
  it('accepts a valid cap', () => {
    expect(validateFrequencyCap({ max: 1, days: 0.5 })).toEqual([]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a maximum of %s', (max) => {
    expect(validateFrequencyCap({ max, days: 7 })).toHaveLength(1);
  });

  it.each([0, -3, Number.POSITIVE_INFINITY, Number.NaN])('rejects a period of %s days', (days) => {
    expect(validateFrequencyCap({ max: 2, days })).toHaveLength(1);
  });

  it('combines window and cap errors', () => {
    const errors = validateCompliancePolicy({
      sendWindow: londonWindow({ end: '09:00' }),
      frequencyCap: { max: 0, days: 7 },
    });
    expect(errors).toEqual([
      'The window starts and ends at the same time (09:00); give an end time different from the start.',
      'The frequency cap maximum (0) must be a whole number of at least 1.',
    ]);
  });
});

describe('decide: rules in order', () => {
  it('sends when every rule passes', () => {
    expect(decide(smsRecipient(), RUNNING, MIDDAY, policy())).toEqual({ action: 'send' });
  });

  it.each(['approved', 'scheduled', 'running'])('sends for a %s campaign', (campaignStatus) => {
    expect(decide(smsRecipient(), { campaignStatus }, MIDDAY, policy())).toEqual({ action: 'send' });
  });

  it('blocks a cancelled campaign before anything else', () => {
    const recipient = smsRecipient({ victimStatus: 'opted_out', suppressed: { reason: 'opt_out' }, address: 'x' });
    expect(decide(recipient, { campaignStatus: 'cancelled' }, NIGHT, policy())).toEqual({
      action: 'block',
      reason: 'campaign_cancelled',
    });
  });

  it.each(['draft', 'pending_approval', 'completed', 'something_new'])(
    'blocks a %s campaign as not sendable',
    (campaignStatus) => {
      expect(decide(smsRecipient(), { campaignStatus }, MIDDAY, policy())).toEqual({
        action: 'block',
        reason: 'campaign_not_sendable',
        detail: campaignStatus,
      });
    },
  );

  it.each(['opted_out', 'do_not_contact'] as const)('blocks a victim whose status is %s', (victimStatus) => {
    const recipient = smsRecipient({ victimStatus, suppressed: { reason: 'bounce' } });
    expect(decide(recipient, RUNNING, MIDDAY, policy())).toEqual({ action: 'block', reason: victimStatus });
  });

  it.each(['identified', 'notified', 'responded', 'loss_confirmed', 'no_loss'])(
    'does not block a victim whose status is %s',
    (victimStatus) => {
      expect(decide(smsRecipient({ victimStatus }), RUNNING, MIDDAY, policy())).toEqual({ action: 'send' });
    },
  );

  it('blocks a channel the victim opted out of, whatever the address, and leaves the other channel open', () => {
    const optedOutOfSms = { optedOutChannels: ['sms'] };
    expect(decide(smsRecipient(optedOutOfSms), RUNNING, MIDDAY, policy())).toEqual({ action: 'block', reason: 'opted_out', detail: 'sms' });
    // before the suppression: a new number on the opted-out channel is not a way back in
    const suppressed = smsRecipient({ ...optedOutOfSms, suppressed: { reason: 'hard_bounce' } });
    expect(decide(suppressed, RUNNING, MIDDAY, policy())).toEqual({ action: 'block', reason: 'opted_out', detail: 'sms' });
    const email = smsRecipient({ ...optedOutOfSms, channel: 'email', address: 'jane@example.com', phoneType: null });
    expect(decide(email, RUNNING, MIDDAY, policy())).toEqual({ action: 'send' });
    expect(decide(smsRecipient({ optedOutChannels: [] }), RUNNING, MIDDAY, policy())).toEqual({ action: 'send' });
    expect(decide(smsRecipient({ optedOutChannels: null }), RUNNING, MIDDAY, policy())).toEqual({ action: 'send' });
  });

  it('blocks a suppressed address with the suppression reason, before checking the address', () => {
    const recipient = smsRecipient({ suppressed: { reason: 'hard_bounce' }, phoneType: 'fixed_line' });
    expect(decide(recipient, RUNNING, MIDDAY, policy())).toEqual({
      action: 'block',
      reason: 'suppressed',
      detail: 'hard_bounce',
    });
  });

  it.each([
    [{ phoneType: 'fixed_line' as const }, 'not_a_mobile'],
    [{ phoneType: 'other' as const }, 'not_a_mobile'],
    [{ phoneType: null }, 'not_a_mobile'],
    [{ phoneType: undefined }, 'not_a_mobile'],
    [{ address: '07700900123' }, 'invalid_phone_number'],
    [{ address: '+44 7700 900123' }, 'invalid_phone_number'],
    [{ address: '+0447700900123' }, 'invalid_phone_number'],
    [{ address: '' }, 'invalid_phone_number'],
    [{ address: 'victim@example.com' }, 'invalid_phone_number'],
  ])('blocks an SMS to %j as address_unusable (%s)', (overrides, detail) => {
    expect(decide(smsRecipient(overrides), RUNNING, MIDDAY, policy())).toEqual({
      action: 'block',
      reason: 'address_unusable',
      detail,
    });
  });

  it('blocks an email to an unusable address', () => {
    const recipient = smsRecipient({ channel: 'email', address: 'no-at-sign.example.com', phoneType: null });
    expect(decide(recipient, RUNNING, MIDDAY, policy())).toEqual({
      action: 'block',
      reason: 'address_unusable',
      detail: 'invalid_email_address',
    });
  });

  it('sends an email whatever the phone type', () => {
    const recipient = smsRecipient({ channel: 'email', address: 'victim@example.co.uk', phoneType: null });
    expect(decide(recipient, RUNNING, MIDDAY, policy())).toEqual({ action: 'send' });
  });

  it('blocks when the frequency cap is reached within the rolling window', () => {
    const recipient = smsRecipient({
      recentMessageTimes: [at('2026-06-15T11:00:00Z'), at('2026-06-10T11:00:00Z')],
    });
    expect(decide(recipient, RUNNING, MIDDAY, policy())).toEqual({
      action: 'block',
      reason: 'frequency_cap',
      detail: '2 in 7 days',
    });
  });

  it('does not count messages older than the rolling window', () => {
    const recipient = smsRecipient({
      // Exactly 7 x 24 hours before MIDDAY: outside the window.
      recentMessageTimes: [at('2026-06-15T11:00:00Z'), at('2026-06-09T11:00:00Z'), at('2026-05-01T00:00:00Z')],
    });
    expect(decide(recipient, RUNNING, MIDDAY, policy())).toEqual({ action: 'send' });
    const justInside = smsRecipient({
      recentMessageTimes: [at('2026-06-15T11:00:00Z'), at('2026-06-09T11:00:00.001Z')],
    });
    expect(decide(justInside, RUNNING, MIDDAY, policy())).toMatchObject({ reason: 'frequency_cap' });
  });

  it('applies the frequency cap at launch only, not again just before sending', () => {
    const recipient = smsRecipient({ recentMessageTimes: [at('2026-06-16T10:59:00Z'), at('2026-06-16T10:58:00Z')] });
    expect(decide(recipient, { campaignStatus: 'running', stage: 'launch' }, MIDDAY, policy())).toMatchObject({
      reason: 'frequency_cap',
    });
    expect(decide(recipient, { campaignStatus: 'running', stage: 'send' }, MIDDAY, policy())).toEqual({
      action: 'send',
    });
  });

  it('holds a paused campaign, after the blocking rules and before the window', () => {
    expect(decide(smsRecipient(), { campaignStatus: 'paused' }, NIGHT, policy())).toEqual({
      action: 'hold',
      reason: 'campaign_paused',
    });
    expect(decide(smsRecipient({ victimStatus: 'opted_out' }), { campaignStatus: 'paused' }, MIDDAY, policy())).toEqual({
      action: 'block',
      reason: 'opted_out',
    });
  });

  it('defers outside the window until the next opening', () => {
    expect(decide(smsRecipient(), RUNNING, NIGHT, policy())).toEqual({
      action: 'defer',
      until: at('2026-06-17T08:00:00Z'),
      reason: 'outside_send_window',
    });
  });

  it('throws on an invalid policy rather than guessing', () => {
    const bad = policy({ sendWindow: londonWindow({ end: '09:00' }) });
    expect(() => decide(smsRecipient(), RUNNING, MIDDAY, bad)).toThrow(ComplianceConfigError);
    expect(() => decide(smsRecipient(), RUNNING, MIDDAY, policy({ frequencyCap: { max: 0, days: 1 } }))).toThrow(
      /frequency cap maximum/,
    );
  });
});

describe('addresses', () => {
  it.each([
    'victim@example.com',
    'first.last+tag@mail.example.co.uk',
    'o\'brien@example.ie',
    'user@xn--bcher-kva.de',
    'josé@exämple.de',
  ])('accepts the email %s', (address) => {
    expect(isPlausibleEmail(address)).toBe(true);
  });

  it.each([
    '',
    'no-at-sign',
    '@example.com',
    'user@',
    'user@example',
    'user@example.c',
    'user@@example.com',
    'user@exa mple.com',
    ' user@example.com',
    '.user@example.com',
    'user.@example.com',
    'us..er@example.com',
    'user@-example.com',
    'user@example..com',
    'user@example.123',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(250)}.com`,
  ])('rejects the email %j', (address) => {
    expect(isPlausibleEmail(address)).toBe(false);
  });

  it('explains why an address is unusable', () => {
    expect(addressProblem({ channel: 'sms', address: '+447700900123', phoneType: 'mobile' })).toBeUndefined();
    expect(addressProblem({ channel: 'sms', address: '+442079460000', phoneType: 'fixed_line' })).toBe('not_a_mobile');
  });
});

describe('isWithinWindow', () => {
  const window = londonWindow();

  it.each([
    // Saturday 28 March 2026: GMT (UTC+0)
    ['2026-03-28T08:59:59Z', false],
    ['2026-03-28T09:00:00Z', true],
    ['2026-03-28T19:59:59Z', true],
    ['2026-03-28T20:00:00Z', false],
    // Sunday 29 March 2026: clocks go forward at 01:00 UTC, BST (UTC+1) from then on
    ['2026-03-29T07:59:59Z', false],
    ['2026-03-29T08:00:00Z', true],
    ['2026-03-29T08:30:00Z', true],
    ['2026-03-29T18:59:59Z', true],
    ['2026-03-29T19:00:00Z', false],
    // Saturday 24 October 2026: BST
    ['2026-10-24T07:59:59Z', false],
    ['2026-10-24T08:00:00Z', true],
    ['2026-10-24T18:59:59Z', true],
    ['2026-10-24T19:00:00Z', false],
    // Sunday 25 October 2026: clocks go back at 01:00 UTC, GMT from then on
    ['2026-10-25T08:00:00Z', false],
    ['2026-10-25T08:59:59Z', false],
    ['2026-10-25T09:00:00Z', true],
    ['2026-10-25T19:59:59Z', true],
    ['2026-10-25T20:00:00Z', false],
  ])('09:00-20:00 Europe/London at %s: %s', (instant, expected) => {
    expect(isWithinWindow(at(instant), window)).toBe(expected);
  });

  it('excludes days that are not listed', () => {
    const weekdays = londonWindow({ days: WEEKDAYS_ONLY });
    expect(isWithinWindow(at('2026-03-27T12:00:00Z'), weekdays)).toBe(true); // Friday
    expect(isWithinWindow(at('2026-03-28T12:00:00Z'), weekdays)).toBe(false); // Saturday
    expect(isWithinWindow(at('2026-03-29T12:00:00Z'), weekdays)).toBe(false); // Sunday
    expect(isWithinWindow(at('2026-03-30T12:00:00Z'), weekdays)).toBe(true); // Monday
  });

  it('uses the local date, not the UTC date, to pick the day', () => {
    // Saturday 23:30 UTC is Sunday 09:30 in Sydney.
    const sydneySundays = { start: '09:00', end: '17:00', timezone: 'Australia/Sydney', days: ['sun'] as Weekday[] };
    expect(isWithinWindow(at('2026-06-20T23:30:00Z'), sydneySundays)).toBe(true);
    expect(isWithinWindow(at('2026-06-21T23:30:00Z'), sydneySundays)).toBe(false);
  });

  describe('a window crossing midnight (20:00-08:00)', () => {
    const overnight = londonWindow({ start: '20:00', end: '08:00' });

    it.each([
      ['2026-06-16T18:59:00Z', false], // 19:59 BST
      ['2026-06-16T19:00:00Z', true], // 20:00 BST
      ['2026-06-16T22:59:00Z', true], // 23:59 BST
      ['2026-06-16T23:00:00Z', true], // 00:00 BST
      ['2026-06-17T02:00:00Z', true], // 03:00 BST
      ['2026-06-17T06:59:59Z', true], // 07:59 BST
      ['2026-06-17T07:00:00Z', false], // 08:00 BST
      ['2026-06-17T11:00:00Z', false], // 12:00 BST
    ])('at %s: %s', (instant, expected) => {
      expect(isWithinWindow(at(instant), overnight)).toBe(expected);
    });

    it('runs through the night the clocks go forward', () => {
      expect(isWithinWindow(at('2026-03-28T20:00:00Z'), overnight)).toBe(true); // Sat 20:00 GMT
      expect(isWithinWindow(at('2026-03-29T00:59:00Z'), overnight)).toBe(true); // 00:59 GMT
      expect(isWithinWindow(at('2026-03-29T01:00:00Z'), overnight)).toBe(true); // 02:00 BST
      expect(isWithinWindow(at('2026-03-29T06:59:00Z'), overnight)).toBe(true); // 07:59 BST
      expect(isWithinWindow(at('2026-03-29T07:00:00Z'), overnight)).toBe(false); // 08:00 BST
    });

    it('runs through the night the clocks go back', () => {
      expect(isWithinWindow(at('2026-10-24T19:00:00Z'), overnight)).toBe(true); // Sat 20:00 BST
      expect(isWithinWindow(at('2026-10-25T07:59:00Z'), overnight)).toBe(true); // 07:59 GMT
      expect(isWithinWindow(at('2026-10-25T08:00:00Z'), overnight)).toBe(false); // 08:00 GMT
    });

    it('belongs to the day it opens on', () => {
      const fridayNights = londonWindow({ start: '20:00', end: '08:00', days: ['fri'] });
      expect(isWithinWindow(at('2026-06-19T21:00:00Z'), fridayNights)).toBe(true); // Fri 22:00
      expect(isWithinWindow(at('2026-06-20T06:00:00Z'), fridayNights)).toBe(true); // Sat 07:00
      expect(isWithinWindow(at('2026-06-20T20:00:00Z'), fridayNights)).toBe(false); // Sat 21:00
      expect(isWithinWindow(at('2026-06-19T02:00:00Z'), fridayNights)).toBe(false); // Fri 03:00, opened Thursday
      expect(isWithinWindow(at('2026-06-18T21:00:00Z'), fridayNights)).toBe(false); // Thu 22:00
    });
  });

  it('throws on an invalid window', () => {
    expect(() => isWithinWindow(MIDDAY, londonWindow({ timezone: 'Nowhere/Town' }))).toThrow(ComplianceConfigError);
  });
});

describe('nextWindowStart', () => {
  const window = londonWindow();

  it.each([
    // Saturday 21:00 GMT -> Sunday 09:00 BST, the morning the clocks go forward
    ['2026-03-28T21:00:00Z', '2026-03-29T08:00:00Z'],
    ['2026-03-29T00:30:00Z', '2026-03-29T08:00:00Z'],
    ['2026-03-29T01:30:00Z', '2026-03-29T08:00:00Z'],
    // Sunday 20:30 BST -> Monday 09:00 BST
    ['2026-03-29T19:30:00Z', '2026-03-30T08:00:00Z'],
    // Saturday 21:30 BST -> Sunday 09:00 GMT, the morning the clocks go back
    ['2026-10-24T20:30:00Z', '2026-10-25T09:00:00Z'],
    ['2026-10-25T00:30:00Z', '2026-10-25T09:00:00Z'],
    ['2026-10-25T01:30:00Z', '2026-10-25T09:00:00Z'],
    ['2026-10-25T08:30:00Z', '2026-10-25T09:00:00Z'],
  ])('09:00-20:00 Europe/London from %s opens at %s', (now, expected) => {
    expect(nextWindowStart(at(now), window)).toEqual(at(expected));
  });

  it('returns now when now is exactly an opening', () => {
    expect(iso(nextWindowStart(at('2026-03-30T08:00:00Z'), window))).toBe('2026-03-30T08:00:00.000Z');
  });

  it('returns the following opening when now is inside a window', () => {
    expect(iso(nextWindowStart(at('2026-03-30T10:00:00Z'), window))).toBe('2026-03-31T08:00:00.000Z');
  });

  it('defers from Friday 21:00 to Monday 09:00 when weekends are excluded', () => {
    const weekdays = londonWindow({ days: WEEKDAYS_ONLY });
    expect(iso(nextWindowStart(at('2026-01-16T21:00:00Z'), weekdays))).toBe('2026-01-19T09:00:00.000Z');
    // The same weekend the clocks go forward: Monday 09:00 is BST.
    expect(iso(nextWindowStart(at('2026-03-27T21:00:00Z'), weekdays))).toBe('2026-03-30T08:00:00.000Z');
    // Saturday and Sunday are skipped too.
    expect(iso(nextWindowStart(at('2026-01-17T12:00:00Z'), weekdays))).toBe('2026-01-19T09:00:00.000Z');
    expect(iso(nextWindowStart(at('2026-01-18T23:59:00Z'), weekdays))).toBe('2026-01-19T09:00:00.000Z');
  });

  it('skips days the window does not open on', () => {
    const monWed = londonWindow({ days: ['mon', 'wed'] });
    // Monday 21:00 -> Wednesday 09:00
    expect(iso(nextWindowStart(at('2026-01-19T21:00:00Z'), monWed))).toBe('2026-01-21T09:00:00.000Z');
  });

  it('waits a whole week when the only day has just closed', () => {
    const mondays = londonWindow({ days: ['mon'] });
    expect(iso(nextWindowStart(at('2026-01-19T21:00:00Z'), mondays))).toBe('2026-01-26T09:00:00.000Z');
    expect(iso(nextWindowStart(at('2026-01-19T10:00:00Z'), mondays))).toBe('2026-01-26T09:00:00.000Z');
  });

  describe('a window crossing midnight (20:00-08:00)', () => {
    const overnight = londonWindow({ start: '20:00', end: '08:00' });

    it('opens at 20:00 the same evening after the morning close', () => {
      expect(iso(nextWindowStart(at('2026-06-17T07:00:00Z'), overnight))).toBe('2026-06-17T19:00:00.000Z');
    });

    it('opens at 20:00 BST on the day the clocks go forward', () => {
      expect(iso(nextWindowStart(at('2026-03-29T07:00:00Z'), overnight))).toBe('2026-03-29T19:00:00.000Z');
    });

    it('opens at 20:00 GMT on the day the clocks go back', () => {
      expect(iso(nextWindowStart(at('2026-10-25T08:00:00Z'), overnight))).toBe('2026-10-25T20:00:00.000Z');
    });

    it('skips to the next listed evening', () => {
      const fridayNights = londonWindow({ start: '20:00', end: '08:00', days: ['fri'] });
      // Saturday 08:00 BST, as the Friday night window closes -> next Friday 20:00 BST
      expect(iso(nextWindowStart(at('2026-06-20T07:00:00Z'), fridayNights))).toBe('2026-06-26T19:00:00.000Z');
    });
  });

  describe('America/New_York', () => {
    const ny = { start: '09:00', end: '17:00', timezone: 'America/New_York', days: EVERY_DAY };

    it.each([
      // Saturday 18:00 EST -> Sunday 09:00 EDT (clocks go forward 8 March 2026)
      ['2026-03-07T23:00:00Z', '2026-03-08T13:00:00.000Z'],
      // Saturday 18:00 EDT -> Sunday 09:00 EST (clocks go back 1 November 2026)
      ['2026-10-31T22:00:00Z', '2026-11-01T14:00:00.000Z'],
      // Friday 08:00 EST -> 09:00 EST the same day
      ['2026-01-16T13:00:00Z', '2026-01-16T14:00:00.000Z'],
    ])('from %s opens at %s', (now, expected) => {
      expect(iso(nextWindowStart(at(now), ny))).toBe(expected);
    });

    it('is within the window by the local clock on either side of a change', () => {
      expect(isWithinWindow(at('2026-03-08T12:59:00Z'), ny)).toBe(false); // 08:59 EDT
      expect(isWithinWindow(at('2026-03-08T13:00:00Z'), ny)).toBe(true); // 09:00 EDT
      expect(isWithinWindow(at('2026-11-01T13:30:00Z'), ny)).toBe(false); // 08:30 EST
      expect(isWithinWindow(at('2026-11-01T14:00:00Z'), ny)).toBe(true); // 09:00 EST
      expect(isWithinWindow(at('2026-11-01T21:59:00Z'), ny)).toBe(true); // 16:59 EST
      expect(isWithinWindow(at('2026-11-01T22:00:00Z'), ny)).toBe(false); // 17:00 EST
    });

    it('defers a Friday-evening message to Monday morning', () => {
      const weekdays = { ...ny, days: WEEKDAYS_ONLY };
      expect(iso(nextWindowStart(at('2026-03-07T02:00:00Z'), weekdays))).toBe('2026-03-09T13:00:00.000Z');
    });
  });

  it('handles a zone with a half-hour offset', () => {
    const kolkata = { start: '09:00', end: '20:00', timezone: 'Asia/Kolkata', days: EVERY_DAY };
    expect(iso(nextWindowStart(at('2026-06-16T00:00:00Z'), kolkata))).toBe('2026-06-16T03:30:00.000Z');
  });

  describe('an opening time the clocks skip or repeat', () => {
    it('opens at the change when the start time does not exist that day', () => {
      // 01:30 does not exist in London on 29 March 2026: 00:59:59 GMT is followed by 02:00 BST.
      const early = londonWindow({ start: '01:30', end: '05:00' });
      expect(iso(nextWindowStart(at('2026-03-29T00:30:00Z'), early))).toBe('2026-03-29T01:00:00.000Z');
      // 02:30 does not exist in New York on 8 March 2026.
      const ny = { start: '02:30', end: '05:00', timezone: 'America/New_York', days: EVERY_DAY };
      expect(iso(nextWindowStart(at('2026-03-08T05:00:00Z'), ny))).toBe('2026-03-08T07:00:00.000Z');
    });

    it('skips a day whose whole window falls in the skipped hour', () => {
      const vanished = londonWindow({ start: '01:10', end: '01:50' });
      expect(iso(nextWindowStart(at('2026-03-29T00:30:00Z'), vanished))).toBe('2026-03-30T00:10:00.000Z');
    });

    it('opens at the first occurrence still ahead when the start time happens twice', () => {
      // 01:30 happens at 00:30 UTC (BST) and again at 01:30 UTC (GMT) on 25 October 2026.
      const early = londonWindow({ start: '01:30', end: '05:00' });
      expect(iso(nextWindowStart(at('2026-10-25T00:00:00Z'), early))).toBe('2026-10-25T00:30:00.000Z');
      // At 01:00 UTC the clock reads 01:00 again, outside the window, until 01:30 comes round once more.
      expect(isWithinWindow(at('2026-10-25T01:00:00Z'), early)).toBe(false);
      expect(iso(nextWindowStart(at('2026-10-25T01:00:00Z'), early))).toBe('2026-10-25T01:30:00.000Z');
    });
  });
});

describe('nextWindowStart agrees with isWithinWindow (sampled)', () => {
  // A small deterministic generator, so a failure can be reproduced.
  function random(seed: number): () => number {
    let state = seed;
    return () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
  }

  const zones = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'];
  const aroundChanges = ['2026-03-08', '2026-03-29', '2026-04-05', '2026-10-04', '2026-10-25', '2026-11-01'];
  const STEP = 5 * 60_000;
  const next = random(20_260_329);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const hhmm = (minutes: number): string =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

  const cases = Array.from({ length: 120 }, () => {
    const start = Math.floor(next() * 288) * 5;
    let end = Math.floor(next() * 288) * 5;
    if (end === start) end = (start + 60) % 1440;
    const days = WEEKDAYS.filter(() => next() < 0.5);
    const window: SendWindow = {
      start: hhmm(start),
      end: hhmm(end),
      timezone: pick(zones),
      days: days.length > 0 ? days : [pick(WEEKDAYS)],
    };
    const now = new Date(Date.parse(`${pick(aroundChanges)}T00:00:00Z`) + (next() - 0.5) * 3 * 86_400_000);
    return { window, now };
  });

  it.each(cases)('%j', ({ window, now }) => {
    const opening = nextWindowStart(now, window);
    expect(opening.getTime()).toBeGreaterThanOrEqual(now.getTime());
    expect(isWithinWindow(opening, window)).toBe(true);
    if (opening.getTime() > now.getTime()) {
      expect(isWithinWindow(new Date(opening.getTime() - 60_000), window)).toBe(false);
    }
    if (isWithinWindow(now, window)) return;
    // Nothing between now and the opening may be inside the window.
    for (let t = Math.ceil(now.getTime() / STEP) * STEP; t < opening.getTime(); t += STEP) {
      expect(isWithinWindow(new Date(t), window)).toBe(false);
    }
  });
});
