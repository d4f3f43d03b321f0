import { describe, expect, it } from 'vitest';

import type { SendWindow, Weekday } from '../../src/common/compliance-gate.js';
import { drain, estimateFinish, formatLocal, type EtaInput } from '../../src/modules/campaigns/eta.js';

/*
 * All instants are fixed. Calendar used (checked by hand):
 *   2026-12-01 Tue, 12-04 Fri, 12-07 Mon, 12-11 Fri  (London = GMT = UTC in December)
 *   2026-03-28 Sat, 03-29 Sun (clocks go forward at 01:00Z: GMT → BST)
 *   2026-10-24 Sat, 10-25 Sun (clocks go back at 01:00Z: BST → GMT)
 *   2026-07-01 Wed (London = BST = UTC+1)
 * New York in December is UTC−5.
 */

const EVERY_DAY: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const MON_FRI: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

const at = (iso: string) => new Date(iso);

function london(overrides: Partial<SendWindow> = {}): SendWindow {
  return { start: '09:00', end: '20:00', timezone: 'Europe/London', days: EVERY_DAY, ...overrides };
}

function overnight(overrides: Partial<SendWindow> = {}): SendWindow {
  return london({ start: '22:00', end: '06:00', ...overrides });
}

describe('drain: inside an open window', () => {
  it('finishes the same day when the work fits', () => {
    expect(drain(at('2026-12-01T10:00:00Z'), 2 * HOUR, london())).toEqual(at('2026-12-01T12:00:00Z'));
  });

  it('zero work inside the window finishes at once', () => {
    expect(drain(at('2026-12-01T10:00:00Z'), 0, london())).toEqual(at('2026-12-01T10:00:00Z'));
  });

  it('keeps sub-minute precision of the start and the work', () => {
    expect(drain(at('2026-12-01T10:00:30.500Z'), 90 * SEC + 250, london())).toEqual(at('2026-12-01T10:02:00.750Z'));
  });

  it('work that exactly fills the rest of the window finishes at the close', () => {
    expect(drain(at('2026-12-01T19:00:00Z'), HOUR, london())).toEqual(at('2026-12-01T20:00:00Z'));
  });

  it('a start at 19:59:59.999 is still inside (end exclusive at minute precision)', () => {
    expect(drain(at('2026-12-01T19:59:59.999Z'), 1, london())).toEqual(at('2026-12-01T20:00:00.000Z'));
    expect(drain(at('2026-12-01T19:59:59.999Z'), 2, london())).toEqual(at('2026-12-02T09:00:00.001Z'));
  });

  it('a full 11-hour window from its opening ends at its close', () => {
    expect(drain(at('2026-12-01T09:00:00Z'), 11 * HOUR, london())).toEqual(at('2026-12-01T20:00:00Z'));
  });
});

describe('drain: spilling into later windows', () => {
  it('09:00–20:00 London, start 19:00 with 2 h of work → next day 10:00', () => {
    expect(drain(at('2026-12-01T19:00:00Z'), 2 * HOUR, london())).toEqual(at('2026-12-02T10:00:00Z'));
  });

  it('a non-minute-aligned start near the close', () => {
    // 19:30:30 → 20:00 is 29.5 min; 30.5 min remain → 09:30:30 next day
    expect(drain(at('2026-12-01T19:30:30Z'), HOUR, london())).toEqual(at('2026-12-02T09:30:30Z'));
  });

  it('spans several days', () => {
    // from 09:00 Tue: 11 h Tue, 11 h Wed, 1 h Thu → Thu 3 Dec 10:00
    expect(drain(at('2026-12-01T09:00:00Z'), 23 * HOUR, london())).toEqual(at('2026-12-03T10:00:00Z'));
  });

  it('in another time zone (America/New_York, UTC−5 in December)', () => {
    const ny: SendWindow = { start: '09:00', end: '17:00', timezone: 'America/New_York', days: EVERY_DAY };
    // 16:00 local (21:00Z) + 2 h: 1 h today, 1 h from 09:00 local tomorrow → 10:00 local = 15:00Z
    expect(drain(at('2026-12-01T21:00:00Z'), 2 * HOUR, ny)).toEqual(at('2026-12-02T15:00:00Z'));
  });
});

describe('drain: starting outside the window', () => {
  it('before the window opens: starts at the opening', () => {
    expect(drain(at('2026-12-01T07:00:00Z'), 30 * MIN, london())).toEqual(at('2026-12-01T09:30:00Z'));
  });

  it('exactly at the close: waits for the next day', () => {
    expect(drain(at('2026-12-01T20:00:00Z'), 30 * MIN, london())).toEqual(at('2026-12-02T09:30:00Z'));
  });

  it('late evening: next morning', () => {
    expect(drain(at('2026-12-01T23:15:00Z'), 45 * MIN, london())).toEqual(at('2026-12-02T09:45:00Z'));
  });

  it('exactly at the opening', () => {
    expect(drain(at('2026-12-01T09:00:00Z'), MIN, london())).toEqual(at('2026-12-01T09:01:00Z'));
  });
});

describe('drain: days not listed are skipped', () => {
  it('Friday 19:30 with 1 h and days mon–fri → Monday 09:30', () => {
    expect(drain(at('2026-12-04T19:30:00Z'), HOUR, london({ days: MON_FRI }))).toEqual(at('2026-12-07T09:30:00Z'));
  });

  it('starting on Saturday → Monday', () => {
    expect(drain(at('2026-12-05T12:00:00Z'), 2 * HOUR, london({ days: MON_FRI }))).toEqual(at('2026-12-07T11:00:00Z'));
  });

  it('a single weekday a week', () => {
    // Tue only: Tue 1 Dec 19:00 → 1 h to 20:00, then Tue 8 Dec 09:00 + 1 h
    expect(drain(at('2026-12-01T19:00:00Z'), 2 * HOUR, london({ days: ['tue'] }))).toEqual(at('2026-12-08T10:00:00Z'));
  });

  it('a full week of weekday work from Monday morning ends Friday evening', () => {
    expect(drain(at('2026-12-07T09:00:00Z'), 55 * HOUR, london({ days: MON_FRI }))).toEqual(at('2026-12-11T20:00:00Z'));
    expect(drain(at('2026-12-07T09:00:00Z'), 55 * HOUR + MIN, london({ days: MON_FRI }))).toEqual(at('2026-12-14T09:01:00Z'));
  });
});

describe('drain: overnight window 22:00–06:00', () => {
  it('inside, before midnight, finishing after midnight', () => {
    expect(drain(at('2026-12-01T23:00:00Z'), 2 * HOUR, overnight())).toEqual(at('2026-12-02T01:00:00Z'));
  });

  it('inside, after midnight, spilling into the evening opening', () => {
    // 05:00 → 06:00 is 1 h; 1 h more from 22:00
    expect(drain(at('2026-12-02T05:00:00Z'), 2 * HOUR, overnight())).toEqual(at('2026-12-02T23:00:00Z'));
  });

  it('starting during the day waits for 22:00', () => {
    expect(drain(at('2026-12-02T12:00:00Z'), HOUR, overnight())).toEqual(at('2026-12-02T23:00:00Z'));
  });

  it('a full 8-hour night', () => {
    expect(drain(at('2026-12-01T22:00:00Z'), 8 * HOUR, overnight())).toEqual(at('2026-12-02T06:00:00Z'));
    expect(drain(at('2026-12-01T22:00:00Z'), 9 * HOUR, overnight())).toEqual(at('2026-12-02T23:00:00Z'));
  });

  it('a window opening on Friday only runs into Saturday morning, then waits a week', () => {
    // Fri 4 Dec 23:00: 7 h to Sat 06:00, 1 h left → Fri 11 Dec 23:00
    expect(drain(at('2026-12-04T23:00:00Z'), 8 * HOUR, overnight({ days: ['fri'] }))).toEqual(at('2026-12-11T23:00:00Z'));
  });

  it('Saturday 03:00 is inside a Friday-only overnight window', () => {
    expect(drain(at('2026-12-05T03:00:00Z'), HOUR, overnight({ days: ['fri'] }))).toEqual(at('2026-12-05T04:00:00Z'));
  });
});

describe('drain: DST in Europe/London', () => {
  describe('spring forward, Sunday 29 March 2026 (01:00Z, GMT → BST)', () => {
    it('spill from Saturday evening lands at 10:00 BST = 09:00Z', () => {
      // Sat 28 Mar 19:00 GMT = 19:00Z; 1 h to 20:00, then Sun 09:00 BST (08:00Z) + 1 h
      expect(drain(at('2026-03-28T19:00:00Z'), 2 * HOUR, london())).toEqual(at('2026-03-29T09:00:00Z'));
    });

    it('a whole Sunday window is 11 h of real time, 08:00Z–19:00Z', () => {
      expect(drain(at('2026-03-29T08:00:00Z'), 11 * HOUR, london())).toEqual(at('2026-03-29T19:00:00Z'));
      expect(drain(at('2026-03-29T08:00:00Z'), 11 * HOUR + MIN, london())).toEqual(at('2026-03-30T08:01:00Z'));
    });

    it('an overnight window across the change is one hour shorter (22:00Z → 05:00Z)', () => {
      // Sat 22:00 GMT (22:00Z) → Sun 06:00 BST (05:00Z) = 7 h; 1 h left → Sun 22:00 BST (21:00Z) + 1 h
      expect(drain(at('2026-03-28T22:00:00Z'), 7 * HOUR, overnight())).toEqual(at('2026-03-29T05:00:00Z'));
      expect(drain(at('2026-03-28T22:00:00Z'), 8 * HOUR, overnight())).toEqual(at('2026-03-29T22:00:00Z'));
    });

    it('a window opening in the skipped hour opens at the change', () => {
      // 01:30 does not exist on 29 March; the window opens at 01:00Z (02:00 BST)
      const w = london({ start: '01:30', end: '05:00' });
      expect(drain(at('2026-03-28T12:00:00Z'), HOUR, w)).toEqual(at('2026-03-29T02:00:00Z'));
    });
  });

  describe('fall back, Sunday 25 October 2026 (01:00Z, BST → GMT)', () => {
    it('spill from Saturday evening lands at 10:00 GMT = 10:00Z', () => {
      // Sat 24 Oct 19:00 BST = 18:00Z; 1 h to 20:00 BST (19:00Z), then Sun 09:00 GMT (09:00Z) + 1 h
      expect(drain(at('2026-10-24T18:00:00Z'), 2 * HOUR, london())).toEqual(at('2026-10-25T10:00:00Z'));
    });

    it('Saturday window still closes at 20:00 BST = 19:00Z', () => {
      expect(drain(at('2026-10-24T18:00:00Z'), HOUR, london())).toEqual(at('2026-10-24T19:00:00Z'));
    });

    it('an overnight window across the change is one hour longer (21:00Z → 06:00Z)', () => {
      // Sat 22:00 BST (21:00Z) → Sun 06:00 GMT (06:00Z) = 9 h
      expect(drain(at('2026-10-24T21:00:00Z'), 9 * HOUR, overnight())).toEqual(at('2026-10-25T06:00:00Z'));
      expect(drain(at('2026-10-24T21:00:00Z'), 10 * HOUR, overnight())).toEqual(at('2026-10-25T23:00:00Z'));
    });
  });
});

describe('drain: horizon', () => {
  it('work that needs more than 90 days of windows → null', () => {
    // 1 h a day: 100 h needs ~100 days
    expect(drain(at('2026-12-01T08:00:00Z'), 100 * HOUR, london({ start: '09:00', end: '10:00' }))).toBeNull();
  });

  it('one hour a week, 14 h of work → null', () => {
    expect(drain(at('2026-12-01T08:00:00Z'), 14 * HOUR, london({ start: '09:00', end: '10:00', days: ['mon'] }))).toBeNull();
  });

  it('work that fits within 90 days still gets an answer', () => {
    // 1 h a day from Tue 1 Dec 09:00: 80 h → the 80th day's window ends at 10:00 (UTC all winter)
    const w = london({ start: '09:00', end: '10:00' });
    expect(drain(at('2026-12-01T08:00:00Z'), 80 * HOUR, w)).toEqual(new Date(Date.UTC(2026, 11, 1 + 79, 10)));
  });

  it('infinite work → null', () => {
    expect(drain(at('2026-12-01T10:00:00Z'), Infinity, london())).toBeNull();
  });
});

describe('drain: windows whose closed gap is shorter than an hour', () => {
  // The window is closed only 07:30–08:00 every day. Starting at 07:00 with 2 h of work:
  // 30 min until 07:30, closed for 30 min, 90 min from 08:00 → 09:30.
  // drain() finds the close by probing a minute ahead and then walking in whole hours, so it
  // never lands inside a 30-minute gap and treats the window as open for 8 days straight.
  it('does not count a closed half hour as sending time', () => {
    const w = london({ start: '08:00', end: '07:30' });
    expect(drain(at('2026-12-01T07:00:00Z'), 2 * HOUR, w)).toEqual(at('2026-12-01T09:30:00Z'));
  });
});

describe('formatLocal', () => {
  it('"Tue 1 Dec, 14:20" style', () => {
    expect(formatLocal(at('2026-12-01T14:20:00Z'), 'Europe/London')).toBe('Tue 1 Dec, 14:20');
  });

  it('three-letter months, September too', () => {
    expect(formatLocal(at('2026-09-01T09:05:00Z'), 'UTC')).toBe('Tue 1 Sep, 09:05');
  });

  it('uses the given time zone (BST in summer)', () => {
    expect(formatLocal(at('2026-07-01T13:05:00Z'), 'Europe/London')).toBe('Wed 1 Jul, 14:05');
  });

  it('uses the given time zone (New York)', () => {
    expect(formatLocal(at('2026-12-02T03:30:00Z'), 'America/New_York')).toBe('Tue 1 Dec, 22:30');
  });

  it('two-digit hours, 00 at midnight (not 24)', () => {
    expect(formatLocal(at('2026-12-01T00:05:00Z'), 'UTC')).toBe('Tue 1 Dec, 00:05');
    expect(formatLocal(at('2026-12-01T07:09:00Z'), 'UTC')).toBe('Tue 1 Dec, 07:09');
  });

  it('two-digit day numbers are not padded', () => {
    expect(formatLocal(at('2026-12-11T12:00:00Z'), 'UTC')).toBe('Fri 11 Dec, 12:00');
  });

  it('truncates seconds rather than rounding', () => {
    expect(formatLocal(at('2026-12-01T14:20:59.999Z'), 'Europe/London')).toBe('Tue 1 Dec, 14:20');
  });
});

describe('estimateFinish', () => {
  const base = (overrides: Partial<EtaInput> = {}): EtaInput => ({
    messages: {},
    ratePerSecond: { sms: 1, email: 1 },
    window: london(),
    start: at('2026-12-01T10:00:00Z'),
    ...overrides,
  });

  it('a single channel: finish and text', () => {
    const eta = estimateFinish(base({ start: at('2026-12-01T13:15:00Z'), messages: { sms: 15_600 }, ratePerSecond: { sms: 4, email: 1 } }));
    // 15 600 / 4 = 3 900 s = 65 min after 13:15 → 14:20
    expect(eta).toEqual({
      finishesAt: at('2026-12-01T14:20:00Z'),
      text: 'finishes around Tue 1 Dec, 14:20',
      perChannel: { sms: { messages: 15_600, sendingSeconds: 3_900, finishesAt: at('2026-12-01T14:20:00Z') } },
    });
  });

  it('takes the slowest channel (email slower)', () => {
    const eta = estimateFinish(base({ messages: { sms: 3_600, email: 7_200 } }));
    expect(eta.finishesAt).toEqual(at('2026-12-01T12:00:00Z'));
    expect(eta.text).toBe('finishes around Tue 1 Dec, 12:00');
    expect(eta.perChannel.sms).toEqual({ messages: 3_600, sendingSeconds: 3_600, finishesAt: at('2026-12-01T11:00:00Z') });
    expect(eta.perChannel.email).toEqual({ messages: 7_200, sendingSeconds: 7_200, finishesAt: at('2026-12-01T12:00:00Z') });
  });

  it('takes the slowest channel (sms slower because of its rate)', () => {
    const eta = estimateFinish(base({ messages: { sms: 3_600, email: 36_000 }, ratePerSecond: { sms: 0.5, email: 20 } }));
    // sms 7 200 s = 2 h → 12:00; email 1 800 s → 10:30
    expect(eta.finishesAt).toEqual(at('2026-12-01T12:00:00Z'));
    expect(eta.perChannel.sms?.sendingSeconds).toBe(7_200);
    expect(eta.perChannel.email?.sendingSeconds).toBe(1_800);
    expect(eta.perChannel.email?.finishesAt).toEqual(at('2026-12-01T10:30:00Z'));
  });

  it('adds the backlog ahead of the campaign on its channel', () => {
    const eta = estimateFinish(base({ messages: { sms: 1_000 }, backlog: { sms: 2_600 } }));
    expect(eta.perChannel.sms).toEqual({ messages: 1_000, sendingSeconds: 3_600, finishesAt: at('2026-12-01T11:00:00Z') });
    expect(eta.finishesAt).toEqual(at('2026-12-01T11:00:00Z'));
  });

  it('backlog can make the otherwise faster channel the slowest', () => {
    const eta = estimateFinish(base({ messages: { sms: 600, email: 3_600 }, backlog: { sms: 6_600 } }));
    // sms (600 + 6 600) / 1 = 7 200 s → 12:00; email 3 600 s → 11:00
    expect(eta.finishesAt).toEqual(at('2026-12-01T12:00:00Z'));
    expect(eta.perChannel.sms?.messages).toBe(600);
  });

  it('backlog on one channel does not affect the other', () => {
    const eta = estimateFinish(base({ messages: { sms: 60, email: 60 }, backlog: { email: 3_540 } }));
    expect(eta.perChannel.sms?.sendingSeconds).toBe(60);
    expect(eta.perChannel.email?.sendingSeconds).toBe(3_600);
  });

  it('ignores channels with 0 messages, even with a backlog', () => {
    const eta = estimateFinish(base({ messages: { sms: 0, email: 60 }, backlog: { sms: 1_000_000 } }));
    expect(Object.keys(eta.perChannel)).toEqual(['email']);
    expect(eta.finishesAt).toEqual(at('2026-12-01T10:01:00Z'));
  });

  it('ignores a negative message count', () => {
    const eta = estimateFinish(base({ messages: { sms: -5, email: 60 } }));
    expect(eta.perChannel.sms).toBeUndefined();
    expect(eta.finishesAt).toEqual(at('2026-12-01T10:01:00Z'));
  });

  it.each<[string, EtaInput['messages']]>([
    ['no channels', {}],
    ['all zero', { sms: 0, email: 0 }],
  ])("nothing to send: %s", (_label, messages) => {
    expect(estimateFinish(base({ messages, backlog: { sms: 10, email: 10 } }))).toEqual({
      finishesAt: null,
      text: 'nothing to send',
      perChannel: {},
    });
  });

  it('rounds sendingSeconds but not the finish instant', () => {
    // 10 / 3 = 3.33 s → 3; 5 / 2 = 2.5 s → 3; 7 / 4 = 1.75 s → 2
    expect(estimateFinish(base({ messages: { sms: 10 }, ratePerSecond: { sms: 3, email: 1 } })).perChannel.sms?.sendingSeconds).toBe(3);
    expect(estimateFinish(base({ messages: { sms: 5 }, ratePerSecond: { sms: 2, email: 1 } })).perChannel.sms?.sendingSeconds).toBe(3);
    expect(estimateFinish(base({ messages: { email: 7 }, ratePerSecond: { sms: 1, email: 4 } })).perChannel.email?.sendingSeconds).toBe(2);
    const eta = estimateFinish(base({ messages: { sms: 10 }, ratePerSecond: { sms: 3, email: 1 } }));
    const elapsed = eta.finishesAt!.getTime() - at('2026-12-01T10:00:00Z').getTime();
    expect(Math.abs(elapsed - 10_000 / 3)).toBeLessThan(1);
  });

  it('respects the window: spills to the next day and says so in local time', () => {
    const eta = estimateFinish(base({ start: at('2026-12-01T19:00:00Z'), messages: { email: 7_200 } }));
    expect(eta.finishesAt).toEqual(at('2026-12-02T10:00:00Z'));
    expect(eta.text).toBe('finishes around Wed 2 Dec, 10:00');
    expect(eta.perChannel.email?.sendingSeconds).toBe(7_200);
  });

  it('starting before the window opens', () => {
    const eta = estimateFinish(base({ start: at('2026-12-01T06:00:00Z'), messages: { sms: 1_800 } }));
    expect(eta.finishesAt).toEqual(at('2026-12-01T09:30:00Z'));
  });

  it('text is in the window time zone (BST)', () => {
    const eta = estimateFinish(base({ start: at('2026-07-01T09:00:00Z'), messages: { sms: 3_600 } }));
    // 10:00 BST start, 1 h → 11:00 BST = 10:00Z
    expect(eta.finishesAt).toEqual(at('2026-07-01T10:00:00Z'));
    expect(eta.text).toBe('finishes around Wed 1 Jul, 11:00');
  });

  it('text is in the window time zone (New York)', () => {
    const ny: SendWindow = { start: '09:00', end: '17:00', timezone: 'America/New_York', days: EVERY_DAY };
    const eta = estimateFinish(base({ window: ny, start: at('2026-12-01T21:00:00Z'), messages: { sms: 7_200 } }));
    expect(eta.finishesAt).toEqual(at('2026-12-02T15:00:00Z'));
    expect(eta.text).toBe('finishes around Wed 2 Dec, 10:00');
  });

  it('weekend skipped: Friday 19:30, 1 h, mon–fri → Monday 09:30', () => {
    const eta = estimateFinish(base({ window: london({ days: MON_FRI }), start: at('2026-12-04T19:30:00Z'), messages: { sms: 3_600 } }));
    expect(eta.finishesAt).toEqual(at('2026-12-07T09:30:00Z'));
    expect(eta.text).toBe('finishes around Mon 7 Dec, 09:30');
  });

  it('beyond 90 days: no instant, explains why, per-channel null', () => {
    const eta = estimateFinish(base({ messages: { sms: 10_000_000, email: 10 }, ratePerSecond: { sms: 1, email: 1 } }));
    expect(eta.finishesAt).toBeNull();
    expect(eta.text).toBe('finishes in more than 90 days at the current rates');
    expect(eta.perChannel.sms).toEqual({ messages: 10_000_000, sendingSeconds: 10_000_000, finishesAt: null });
    expect(eta.perChannel.email?.finishesAt).toEqual(at('2026-12-01T10:00:10Z'));
  });

  it('beyond 90 days because of the backlog alone', () => {
    const eta = estimateFinish(base({ messages: { email: 1 }, backlog: { email: 10_000_000 } }));
    expect(eta.finishesAt).toBeNull();
    expect(eta.text).toMatch(/more than 90 days/);
  });

  it('does not depend on channel order in the input', () => {
    const a = estimateFinish(base({ messages: { sms: 100, email: 200 } }));
    const b = estimateFinish(base({ messages: { email: 200, sms: 100 } }));
    expect(a).toEqual(b);
  });

  it('is pure: the same input gives the same answer and the input is not mutated', () => {
    const input = base({ messages: { sms: 100, email: 200 }, backlog: { sms: 5 } });
    const snapshot = JSON.parse(JSON.stringify(input));
    expect(estimateFinish(input)).toEqual(estimateFinish(input));
    expect(JSON.parse(JSON.stringify(input))).toEqual(snapshot);
  });
});
