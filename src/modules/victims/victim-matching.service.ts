import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PRIORITY_SCORE_SQL } from '../../common/scoring.js';
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

/**
 * Turns call records into one potential victim per normalised number, set-based. New
 * victims get a reference code; existing ones keep theirs and their status, and only
 * their figures move. Runs in one transaction under an advisory lock, so two matches
 * never interleave.
 */
@Injectable()
export class VictimMatchingService {
  private readonly logger = new Logger(VictimMatchingService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
  ) {}

  async match(actor: Actor): Promise<MatchResult> {
    const started = Date.now();
    const result = await this.ds.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(724103)`);
      await m.query(`SET LOCAL work_mem = '256MB'`);
      await m.query(`SET LOCAL max_parallel_workers_per_gather = 2`);
      await m.query(`DROP TABLE IF EXISTS pg_temp.match_agg`);
      await m.query(`
        CREATE TEMP TABLE match_agg ON COMMIT DROP AS
        SELECT c.target_e164,
               min(c.target_type) AS target_type,
               count(*)::int AS call_count,
               sum(c.duration_seconds)::bigint AS total,
               max(c.duration_seconds) AS longest,
               min(c.started_at) AS first_at,
               max(c.started_at) AS last_at,
               coalesce(array_agg(DISTINCT c.institution_id) FILTER (WHERE c.institution_id IS NOT NULL), '{}') AS institution_ids,
               count(DISTINCT c.account_id)::int AS account_count
          FROM call_records c
         GROUP BY c.target_e164`);
      await m.query(`ANALYZE match_agg`);
      const [updated] = await m.query(`
        WITH changed AS (
          UPDATE victims v
             SET call_count = a.call_count, total_call_seconds = a.total, longest_call_seconds = a.longest,
                 first_call_at = a.first_at, last_call_at = a.last_at, account_count = a.account_count,
                 institutions = ARRAY(SELECT i.code FROM institutions i WHERE i.id = ANY (a.institution_ids) ORDER BY i.code),
                 priority_score = ${PRIORITY_SCORE_SQL.replace(/longest|call_count|account_count/g, (c) => 'a.' + c)},
                 updated_at = now()
            FROM match_agg a
           WHERE v.phone_e164 = a.target_e164
             AND (v.call_count, v.total_call_seconds, v.longest_call_seconds, v.account_count, v.first_call_at, v.last_call_at)
                 IS DISTINCT FROM (a.call_count, a.total, a.longest, a.account_count, a.first_at, a.last_at)
          RETURNING 1)
        SELECT count(*)::int AS n FROM changed`);
      const [created] = await m.query(`
        WITH inserted AS (
          INSERT INTO victims (phone_e164, phone_type, reference_code, call_count, total_call_seconds, longest_call_seconds,
                               first_call_at, last_call_at, institutions, account_count, priority_score, channels)
          SELECT a.target_e164, a.target_type, make_reference_code(), a.call_count, a.total, a.longest, a.first_at, a.last_at,
                 ARRAY(SELECT i.code FROM institutions i WHERE i.id = ANY (a.institution_ids) ORDER BY i.code),
                 a.account_count, ${PRIORITY_SCORE_SQL.replace(/longest|call_count|account_count/g, (c) => 'a.' + c)},
                 CASE WHEN a.target_type = 'mobile' THEN ARRAY['sms'] ELSE '{}'::text[] END
            FROM match_agg a
           WHERE NOT EXISTS (SELECT 1 FROM victims v WHERE v.phone_e164 = a.target_e164)
          ON CONFLICT (phone_e164) DO NOTHING
          RETURNING 1)
        SELECT count(*)::int AS n FROM inserted`);
      await refreshContactDetails(m);
      const [totals] = await m.query(`
        SELECT count(*)::int AS victims,
               count(*) FILTER (WHERE longest_call_seconds >= 60)::int AS "withLongCall",
               count(*) FILTER (WHERE 'sms' = ANY (channels))::int AS "reachableBySms",
               count(*) FILTER (WHERE 'email' = ANY (channels))::int AS "reachableByEmail"
          FROM victims`);
      return { ...totals, created: created.n, updated: updated.n };
    });
    const out: MatchResult = { ...result, seconds: (Date.now() - started) / 1000 };
    await this.audit.record({ actor, action: 'victims.matched', subjectType: 'victims', details: { ...out } });
    this.logger.log({ ...out }, 'victims matched');
    return out;
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
