import { Inject, Injectable, Logger } from '@nestjs/common';
import { ADVISORY_LOCK } from '../../database/advisory-locks.js';
import { availableParallelism } from 'node:os';
import { Client } from 'pg';
import { newReferenceCodes } from '../../common/reference-code.js';
import { PRIORITY_SCORE_SQL } from '../../common/scoring.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import type { SqlRunner } from '../../database/sql.js';
import { Actor, AuditService } from '../audit/audit.service.js';

export interface MatchResult {
  victims: number;
  created: number;
  updated: number;
  withLongCall: number;
  reachableBySms: number;
  reachableByEmail: number;
  seconds: number;
}

const SCORE = PRIORITY_SCORE_SQL.replace(/longest|call_count|account_count/g, (c) => 's.' + c);

/**
 * The institutions' codes from a slice's 64-bit set, as one expression (no subquery per
 * victim): array_remove(ARRAY[CASE WHEN bits & 2 <> 0 THEN 'barclays' END, …], NULL).
 */
function institutionCodesSql(institutions: Array<{ id: number; code: string }>): string {
  if (institutions.length === 0) return `'{}'::text[]`;
  const cases = institutions
    .map((i) => `CASE WHEN s.institution_bits & ${(1n << BigInt(i.id)).toString()}::bigint <> 0 THEN '${i.code.replace(/'/g, "''")}' END`)
    .join(', ');
  return `array_remove(ARRAY[${cases}]::text[], NULL)`;
}

/**
 * Turns call records into one potential victim per normalised number, set-based.
 *
 * The numbers are cut into slices by hash, one per core, and each slice is matched in
 * a transaction of its own, all at once: the distinct-account count needs a sort of
 * every call row, and that is the cost that parallelism halves. New victims get a
 * reference code; existing ones keep theirs and their status, and only their figures
 * move. A slice that fails rolls back alone; matching again completes the rest (it is
 * idempotent). An advisory lock keeps two matches from interleaving.
 */
@Injectable()
export class VictimMatchingService {
  private readonly logger = new Logger(VictimMatchingService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async match(actor: Actor): Promise<MatchResult> {
    const started = Date.now();
    const lock = await this.connect('match');
    try {
      // Held for the whole run, on a connection of its own: matches never interleave.
      await lock.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK.victimMatching})`);
      const slices = Math.max(1, Math.min(8, availableParallelism()));
      const institutions = await lock.query<{ id: number; code: string }>(`SELECT id, code FROM institutions ORDER BY code`);
      const codes = institutionCodesSql(institutions.rows);
      const parts = await Promise.all(Array.from({ length: slices }, (_, slice) => this.matchSlice(slice, slices, codes)));
      await refreshContactDetails(lock);
      const totals = await lock.query<Pick<MatchResult, 'victims' | 'withLongCall' | 'reachableBySms' | 'reachableByEmail'>>(
        `SELECT count(*)::int AS victims,
                count(*) FILTER (WHERE longest_call_seconds >= 60)::int AS "withLongCall",
                count(*) FILTER (WHERE 'sms' = ANY (channels))::int AS "reachableBySms",
                count(*) FILTER (WHERE 'email' = ANY (channels))::int AS "reachableByEmail"
           FROM victims`,
      );
      const out: MatchResult = {
        ...totals.rows[0],
        created: parts.reduce((a, p) => a + p.created, 0),
        updated: parts.reduce((a, p) => a + p.updated, 0),
        seconds: (Date.now() - started) / 1000,
      };
      await this.audit.record({ actor, action: 'victims.matched', subjectType: 'victims', details: { ...out } });
      this.logger.log({ ...out }, 'victims matched');
      return out;
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK.victimMatching})`).catch(() => undefined);
      await lock.end().catch(() => undefined);
    }
  }

  /**
   * One slice of the numbers (by hash), in one transaction on a connection of its own:
   * aggregate its call records, move the figures of victims already known, create the
   * new ones with fresh reference codes. Slices run at once, one per core.
   */
  private async matchSlice(slice: number, slices: number, institutionCodes: string): Promise<{ created: number; updated: number }> {
    const c = await this.connect(`match-${slice}`);
    try {
      await c.query('BEGIN');
      // The distinct-account count sorts this slice's rows; keep that sort in memory.
      await c.query(`SET LOCAL work_mem = '1GB'`);
      await c.query('SET LOCAL max_parallel_workers_per_gather = 0');
      await c.query(
        // Grouping on the number as a bigint (E.164 digits never start with 0, so
        // '+' || digits gives the text back exactly) sorts far faster than on text.
        `CREATE TEMP TABLE match_slice ON COMMIT DROP AS
         SELECT '+' || substr(target_e164, 2)::bigint AS target_e164, min(target_type) AS target_type, count(*)::int AS call_count, sum(duration_seconds)::bigint AS total,
                max(duration_seconds) AS longest, min(started_at) AS first_at, max(started_at) AS last_at,
                coalesce(bit_or(1::bigint << institution_id), 0) AS institution_bits, count(DISTINCT account_id)::int AS account_count
           FROM call_records
          WHERE (hashtext(target_e164) & 2147483647) % ${slices} = ${slice}
          GROUP BY substr(target_e164, 2)::bigint`,
      );
      const updated = await c.query(
        `UPDATE victims v
            SET call_count = s.call_count, total_call_seconds = s.total, longest_call_seconds = s.longest,
                first_call_at = s.first_at, last_call_at = s.last_at, account_count = s.account_count,
                institutions = ${institutionCodes}, priority_score = ${SCORE}, updated_at = now()
           FROM match_slice s
          WHERE v.phone_e164 = s.target_e164
            AND (v.call_count, v.total_call_seconds, v.longest_call_seconds, v.account_count, v.first_call_at, v.last_call_at)
                IS DISTINCT FROM (s.call_count, s.total, s.longest, s.account_count, s.first_at, s.last_at)`,
      );
      await c.query(
        `CREATE TEMP TABLE match_fresh ON COMMIT DROP AS
         SELECT s.*, row_number() OVER () AS rn FROM match_slice s
          WHERE NOT EXISTS (SELECT 1 FROM victims v WHERE v.phone_e164 = s.target_e164)`,
      );
      const fresh = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM match_fresh`);
      const created = await c.query(
        `INSERT INTO victims (phone_e164, phone_type, reference_code, call_count, total_call_seconds, longest_call_seconds,
                              first_call_at, last_call_at, institutions, account_count, priority_score, channels)
         SELECT s.target_e164, s.target_type, codes.code, s.call_count, s.total, s.longest, s.first_at, s.last_at,
                ${institutionCodes}, s.account_count, ${SCORE},
                CASE WHEN s.target_type = 'mobile' THEN ARRAY['sms'] ELSE '{}'::text[] END
           FROM match_fresh s
           JOIN unnest($1::text[]) WITH ORDINALITY AS codes (code, rn) ON codes.rn = s.rn`,
        [newReferenceCodes(fresh.rows[0].n)],
      );
      await c.query('COMMIT');
      return { created: created.rowCount ?? 0, updated: updated.rowCount ?? 0 };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  private async connect(name: string): Promise<Client> {
    const c = new Client({ connectionString: this.config.databaseUrl, application_name: name });
    await c.connect();
    return c;
  }
}

/**
 * Links contact details to victims by normalised phone: the latest contact row with an
 * email wins (else the latest row), and channels follow: SMS for mobiles, email when
 * an address is known. Exported so a contacts import can enrich victims at once.
 */
export async function refreshContactDetails(m: SqlRunner, importId?: string): Promise<void> {
  await m.query(
    `
    WITH best AS (
      SELECT DISTINCT ON (phone_e164) phone_e164, email, full_name
        FROM contacts
       ${importId ? 'WHERE phone_e164 IN (SELECT phone_e164 FROM contacts WHERE import_id = $1)' : ''}
       ORDER BY phone_e164, (email IS NOT NULL) DESC, id DESC)
    UPDATE victims v
       SET email = coalesce(b.email, v.email),
           full_name = coalesce(b.full_name, v.full_name),
           channels = (CASE WHEN v.phone_type = 'mobile' THEN ARRAY['sms'] ELSE '{}'::text[] END)
                      || (CASE WHEN coalesce(b.email, v.email) IS NOT NULL THEN ARRAY['email'] ELSE '{}'::text[] END),
           updated_at = now()
      FROM best b
     WHERE v.phone_e164 = b.phone_e164
       AND (v.email, v.full_name) IS DISTINCT FROM (coalesce(b.email, v.email), coalesce(b.full_name, v.full_name))`,
    importId ? [importId] : [],
  );
}
