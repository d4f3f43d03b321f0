/**
 * Victim priority. The police's criterion comes first: anyone who stayed on the line
 * with a fraudster for a minute or more outranks everyone who did not. Within each
 * band, a longer longest call (more time to be talked into paying), repeated calls and
 * several fraudster accounts raise the score. Capped so no single factor dominates.
 *
 *   1,000,000 × [longest call ≥ 60 s]
 * +       100 × min(longest call seconds, 3600)
 * +     1,000 × min(calls − 1, 50)
 * +     5,000 × min(distinct fraudster accounts − 1, 10)
 *
 * PRIORITY_SCORE_SQL computes the same in Postgres (set-based matching); a test keeps
 * the two in agreement.
 */
export const LONG_CALL_SECONDS = 60;

export interface ScoreInput {
  longestCallSeconds: number;
  callCount: number;
  accountCount: number;
}

export function priorityScore(v: ScoreInput): number {
  return (
    (v.longestCallSeconds >= LONG_CALL_SECONDS ? 1_000_000 : 0) +
    100 * Math.min(v.longestCallSeconds, 3600) +
    1_000 * Math.min(Math.max(v.callCount - 1, 0), 50) +
    5_000 * Math.min(Math.max(v.accountCount - 1, 0), 10)
  );
}

/** The same formula over columns named longest, call_count and account_count. */
export const PRIORITY_SCORE_SQL = `(
  CASE WHEN longest >= ${LONG_CALL_SECONDS} THEN 1000000 ELSE 0 END
  + 100 * least(longest, 3600)
  + 1000 * least(greatest(call_count - 1, 0), 50)
  + 5000 * least(greatest(account_count - 1, 0), 10))::int`;
