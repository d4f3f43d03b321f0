import { describe, expect, it } from 'vitest';
import { LONG_CALL_SECONDS, priorityScore, ScoreInput } from '../../src/common/scoring.js';

// PRIORITY_SCORE_SQL is checked against priorityScore in Postgres by
// test/integration/victims.test.ts.

const score = (longestCallSeconds: number, callCount = 1, accountCount = 1) => priorityScore({ longestCallSeconds, callCount, accountCount });

describe('priorityScore', () => {
  it('uses the police criterion: a call of 60 s or more', () => {
    expect(LONG_CALL_SECONDS).toBe(60);
    expect(score(60)).toBeGreaterThanOrEqual(1_000_000);
    expect(score(59)).toBeLessThan(1_000_000);
  });

  it('ranks anyone with a call ≥ 60 s above every victim without one, whatever their other figures', () => {
    // The best possible victim without a long call: 59 s, many calls, many accounts.
    const bestShort = Math.max(score(59, 1_000_000, 1_000_000), score(59, 51, 11), score(0, 10_000, 10_000));
    // The weakest possible victim with one: exactly 60 s, one call, one account.
    const worstLong = score(60, 1, 1);
    expect(worstLong).toBeGreaterThan(bestShort);
    for (let longest = 0; longest < 60; longest++) {
      for (const calls of [1, 2, 10, 51, 500]) {
        for (const accounts of [1, 2, 11, 100]) {
          expect(score(longest, calls, accounts)).toBeLessThan(worstLong);
        }
      }
    }
  });

  it('within a band, a longer longest call ranks higher (up to an hour)', () => {
    expect(score(30)).toBeGreaterThan(score(29));
    expect(score(61)).toBeGreaterThan(score(60));
    expect(score(3600)).toBeGreaterThan(score(3599));
    expect(score(7200)).toBe(score(3600)); // capped
  });

  it('more calls and more fraudster accounts raise the score, each capped', () => {
    expect(score(100, 2)).toBeGreaterThan(score(100, 1));
    expect(score(100, 51)).toBeGreaterThan(score(100, 50));
    expect(score(100, 52)).toBe(score(100, 51));
    expect(score(100, 1, 2)).toBeGreaterThan(score(100, 1, 1));
    expect(score(100, 1, 11)).toBeGreaterThan(score(100, 1, 10));
    expect(score(100, 1, 12)).toBe(score(100, 1, 11));
  });

  it('no single secondary factor outweighs the longest call band', () => {
    // Max bonus from calls + accounts is below the long-call bonus
    expect(score(0, 51, 11) - score(0)).toBeLessThan(1_000_000);
  });

  it('computes the documented formula', () => {
    const cases: Array<[ScoreInput, number]> = [
      [{ longestCallSeconds: 0, callCount: 1, accountCount: 1 }, 0],
      [{ longestCallSeconds: 0, callCount: 0, accountCount: 0 }, 0], // never negative
      [{ longestCallSeconds: 45, callCount: 3, accountCount: 2 }, 4500 + 2000 + 5000],
      [{ longestCallSeconds: 60, callCount: 1, accountCount: 1 }, 1_006_000],
      [{ longestCallSeconds: 125, callCount: 4, accountCount: 3 }, 1_000_000 + 12_500 + 3000 + 10_000],
      [{ longestCallSeconds: 100_000, callCount: 1000, accountCount: 1000 }, 1_000_000 + 360_000 + 50_000 + 50_000],
    ];
    for (const [input, expected] of cases) expect(priorityScore(input)).toBe(expected);
  });

  it('fits a Postgres integer', () => {
    expect(score(1e9, 1e9, 1e9)).toBeLessThan(2 ** 31);
  });

  it('sorting by score orders victims as the police would', () => {
    const victims = [
      { name: 'short, many calls', v: { longestCallSeconds: 59, callCount: 40, accountCount: 5 } },
      { name: 'long', v: { longestCallSeconds: 600, callCount: 1, accountCount: 1 } },
      { name: 'just long', v: { longestCallSeconds: 60, callCount: 1, accountCount: 1 } },
      { name: 'one short call', v: { longestCallSeconds: 10, callCount: 1, accountCount: 1 } },
      { name: 'long, repeated', v: { longestCallSeconds: 600, callCount: 5, accountCount: 2 } },
    ];
    const order = victims.sort((a, b) => priorityScore(b.v) - priorityScore(a.v)).map((x) => x.name);
    expect(order).toEqual(['long, repeated', 'long', 'just long', 'short, many calls', 'one short call']);
  });
});
