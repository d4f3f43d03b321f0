/**
 * Every Postgres advisory lock the application takes, in one place, so two features can
 * never pick the same number by accident.
 */
export const ADVISORY_LOCK = {
  /** Migrations: one process applies them at a time. */
  migrate: 724101,
  /** Seeding the institutions table. */
  institutions: 724102,
  /** Victim matching: two matches never interleave. */
  victimMatching: 724103,
  /** The reconciler: one round at a time across every worker. */
  reconciler: 724120,
} as const;
