import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { newReferenceCodes } from '../../common/reference-code.js';
import { PRIORITY_SCORE_SQL } from '../../common/scoring.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
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
const INSTITUTION_CODES = `ARRAY(SELECT i.code FROM institutions i WHERE s.institution_bits & (1::bigint << i.id) <> 0 ORDER BY i.code)`;

/**
 * Turns call records into one potential victim per normalised number, set-based.
 *
 * The aggregation (counts, durations, dates, institutions, distinct fraudster
 * accounts) runs in parallel sessions, one slice of the numbers each, into a scratch
 * table; then one transaction folds it into victims. New victims get a reference code;
 * existing ones keep theirs and their status, and only their figures move. An advisory
 * lock keeps two matches from interleaving.
 */
@Injectable()
export class VictimMatchingService {
  private readonly logger = new Logger(VictimMatchingService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  async match(actor: Actor): Promise<MatchResult> {
    const started = Date.now();
    const runId = randomUUID();
    const main = await this.connect('match');
    try {
      await main.query('BEGIN');
      await main.query('SELECT pg_advisory_xact_lock(724103)');
      await this.aggregate(runId);
      const result = await this.fold(main, runId);
      await main.query('DELETE FROM match_stage WHERE run_id = $1', [runId]);
      await main.query('COMMIT');
      const out: MatchResult = { ...result, seconds: (Date.now() - started) / 1000 };
      await this.audit.record({ actor, action: 'victims.matched', subjectType: 'victims', details: { ...out } });
      this.logger.log({ ...out }, 'victims matched');
      return out;
    } catch (err) {
      await main.query('ROLLBACK').catch(() => undefined);
      await this.ds.query('DELETE FROM match_stage WHERE run_id = $1', [runId]).catch(() => undefined);
      throw err;
    } finally {
      await main.end().catch(() => undefined);
    }
  }

  /** One session per slice of the numbers (hash of the number), all at once. */
  private async aggregate(runId: string): Promise<void> {
    const slices = Math.max(1, Math.min(8, availableParallelism()));
    await Promise.all(
      Array.from({ length: slices }, async (_, slice) => {
        const c = await this.connect(`match-${slice}`);
        try {
          // The distinct-account count needs a sort of this slice; keep it in memory.
          await c.query(`SET work_mem = '1GB'`);
          await c.query('SET max_parallel_workers_per_gather = 0');
          await c.query(
            `INSERT INTO match_stage (run_id, target_e164, target_type, call_count, total, longest, first_at, last_at,
                                      institution_bits, account_count)
             SELECT $1, target_e164, min(target_type), count(*), sum(duration_seconds), max(duration_seconds),
                    min(started_at), max(started_at),
                    coalesce(bit_or(1::bigint << institution_id), 0), count(DISTINCT account_id)
               FROM call_records
              WHERE (hashtext(target_e164) & 2147483647) % $2 = $3
              GROUP BY target_e164`,
            [runId, slices, slice],
          );
        } finally {
          await c.end().catch(() => undefined);
        }
      }),
    );
  }

  private async fold(c: Client, runId: string): Promise<Omit<MatchResult, 'seconds'>> {
    const updated = await c.query(
      `UPDATE victims v
          SET call_count = s.call_count, total_call_seconds = s.total, longest_call_seconds = s.longest,
              first_call_at = s.first_at, last_call_at = s.last_at, account_count = s.account_count,
              institutions = ${INSTITUTION_CODES}, priority_score = ${SCORE}, updated_at = now()
         FROM match_stage s
        WHERE s.run_id = $1 AND v.phone_e164 = s.target_e164
          AND (v.call_count, v.total_call_seconds, v.longest_call_seconds, v.account_count, v.first_call_at, v.last_call_at)
              IS DISTINCT FROM (s.call_count, s.total, s.longest, s.account_count, s.first_at, s.last_at)`,
      [runId],
    );
    const fresh = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM match_stage s
        WHERE s.run_id = $1 AND NOT EXISTS (SELECT 1 FROM victims v WHERE v.phone_e164 = s.target_e164)`,
      [runId],
    );
    const codes = newReferenceCodes(fresh.rows[0]!.n);
    const created = await c.query(
      `WITH fresh AS (
         SELECT s.*, row_number() OVER () AS rn FROM match_stage s
          WHERE s.run_id = $1 AND NOT EXISTS (SELECT 1 FROM victims v WHERE v.phone_e164 = s.target_e164)),
       codes AS (SELECT code, ordinality AS rn FROM unnest($2::text[]) WITH ORDINALITY AS code)
       INSERT INTO victims (phone_e164, phone_type, reference_code, call_count, total_call_seconds, longest_call_seconds,
                            first_call_at, last_call_at, institutions, account_count, priority_score, channels)
       SELECT s.target_e164, s.target_type, codes.code, s.call_count, s.total, s.longest, s.first_at, s.last_at,
              ${INSTITUTION_CODES}, s.account_count, ${SCORE},
              CASE WHEN s.target_type = 'mobile' THEN ARRAY['sms'] ELSE '{}'::text[] END
         FROM fresh s JOIN codes USING (rn)`,
      [runId, codes],
    );
    await refreshContactDetails(c);
    const totals = await c.query(
      `SELECT count(*)::int AS victims,
              count(*) FILTER (WHERE longest_call_seconds >= 60)::int AS "withLongCall",
              count(*) FILTER (WHERE 'sms' = ANY (channels))::int AS "reachableBySms",
              count(*) FILTER (WHERE 'email' = ANY (channels))::int AS "reachableByEmail"
         FROM victims`,
    );
    return { ...totals.rows[0], created: created.rowCount ?? 0, updated: updated.rowCount ?? 0 };
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
export async function refreshContactDetails(m: { query: (sql: string, params?: unknown[]) => Promise<unknown> }, importId?: string): Promise<void> {
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
