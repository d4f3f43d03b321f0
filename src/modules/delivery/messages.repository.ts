import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { Channel } from '../../common/channel.js';
import type { PhoneType, SendWindow } from '../../common/compliance-gate.js';
import { queryOne, queryRows } from '../../database/sql.js';

type Runner = DataSource | EntityManager;
import { fromSql, MESSAGE_MOVES, MessageStatus, rankSql, statusListSql } from './message-state.js';

/** What a worker needs once it holds a message: the message, and what the gate must know. */
export interface ClaimedMessage {
  id: string;
  /** The fencing token: the attempt this claim is. Every later decision of the worker names it. */
  attempts: number;
  channel: Channel;
  address: string;
  subject: string | null;
  body: string;
  campaign_status: string;
  send_window: SendWindow;
  email_html: string | null;
  victim_status: string;
  opted_out_channels: string[];
  phone_type: PhoneType;
  reference_code: string;
  institutions: string[];
  suppressed: string | null;
}

export interface StuckMessage {
  id: string;
  victim_id: string;
  attempts: number;
  channel: Channel;
  address: string;
  body: string;
  sending_at: Date;
  /** How many attempts ended with the provider's answer unknown (timeouts, resets, 5xx). */
  ambiguous: number;
}

export interface PlannedRow {
  victimId: string;
  channel: Channel;
  address: string;
  status: 'queued' | 'suppressed';
  blockReason: string | null;
  subject: string | null;
  body: string;
  notBefore: Date | null;
}

export interface FailureNote {
  code: string;
  message: string;
}

export interface UnknownMessage {
  id: string;
  campaign_id: string;
  victim_id: string;
  channel: Channel;
  address: string;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
  sending_at: Date | null;
  updated_at: Date;
}

/**
 * The one writer of `messages` (and of `message_events`, the history of each move). Every
 * statement takes the statuses it may leave from the pure table in message-state.ts, and
 * fenced moves also name the attempt that was claimed, so a late worker or a slow
 * reconciler never overwrites a newer state. Statements are set-based where the callers
 * batch (launch, claims, sent records, receipts): this is what the delivery budgets need.
 */
@Injectable()
export class MessagesRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** Launch: one chunk of the audience's messages, in the launch's transaction. */
  async insertPlanned(m: EntityManager, campaignId: string, rows: PlannedRow[]): Promise<void> {
    if (rows.length === 0) return;
    await m.query(
      `INSERT INTO messages (campaign_id, victim_id, channel, address, status, block_reason, subject, body, not_before, queued_at)
       SELECT $1, victim_id, channel, address, status, block_reason, subject, body, not_before, CASE WHEN status = 'queued' THEN now() END
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
              AS t (victim_id, channel, address, status, block_reason, subject, body, not_before)
        WHERE status IN (${statusListSql(MESSAGE_MOVES.launch.to)})
       ON CONFLICT (campaign_id, victim_id, channel) DO NOTHING`,
      [
        campaignId,
        rows.map((r) => r.victimId),
        rows.map((r) => r.channel),
        rows.map((r) => r.address),
        rows.map((r) => r.status),
        rows.map((r) => r.blockReason),
        rows.map((r) => r.subject),
        rows.map((r) => r.body),
        rows.map((r) => r.notBefore),
      ],
    );
  }

  /**
   * queued → sending for many messages in one statement, with what the gate needs. A
   * message that already has a provider id was sent, whatever its status says: never
   * claimed again. Returns the claimed rows (in no particular order).
   */
  async claim(ids: string[]): Promise<ClaimedMessage[]> {
    return queryRows<ClaimedMessage>(
      this.ds,
      `WITH claimed AS (
         UPDATE messages m SET status = 'sending', sending_at = now(), attempts = m.attempts + 1, updated_at = now()
           FROM campaigns c, victims v
          WHERE m.id = ANY ($1::bigint[]) AND ${fromSql('claim', 'm.status')} AND m.provider_message_id IS NULL
            AND c.id = m.campaign_id AND v.id = m.victim_id
         RETURNING m.id, m.attempts, m.channel, m.address, m.subject, m.body, c.status AS campaign_status, c.send_window, c.email_html,
                   v.status AS victim_status, v.opted_out_channels, v.phone_type, v.reference_code, v.institutions,
                   (SELECT s.reason FROM suppressions s WHERE s.channel = m.channel AND s.address = m.address) AS suppressed),
       event AS (INSERT INTO message_events (message_id, status, detail) SELECT id, 'sending', jsonb_build_object('attempt', attempts) FROM claimed)
       SELECT * FROM claimed`,
      [ids],
    );
  }

  /**
   * The provider accepted these messages (its answer, or a lookup): record its id and
   * `sent`, forwards only, whoever reports it: this is evidence, not a decision, so it is
   * not fenced (a worker whose answer came after the reconciler requeued its message
   * still records that the provider has it, and the queued job then finds nothing to
   * claim). The victim is notified. Returns the provider ids that have receipts waiting.
   */
  async recordSent(batch: Array<{ id: string; providerMessageId: string }>): Promise<Set<string>> {
    const rows = await queryRows<{ pmid: string }>(
      this.ds,
      `WITH input AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS t (id, pmid)),
       sent AS (
         UPDATE messages m SET status = CASE WHEN ${fromSql('recordSent', 'm.status')} THEN 'sent' ELSE m.status END,
                provider_message_id = i.pmid, sent_at = coalesce(m.sent_at, now()), error_code = NULL, error_message = NULL, updated_at = now()
           FROM input i
          WHERE m.id = i.id AND (m.provider_message_id IS NULL OR m.provider_message_id = i.pmid)
            AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.provider_message_id = i.pmid AND o.id <> i.id)
         RETURNING m.id, m.victim_id, i.pmid),
       event AS (INSERT INTO message_events (message_id, status, detail) SELECT id, 'sent', jsonb_build_object('providerMessageId', pmid) FROM sent),
       victim AS (UPDATE victims SET status = 'notified', notified_at = coalesce(notified_at, now()), updated_at = now()
                   WHERE id IN (SELECT victim_id FROM sent) AND status = 'identified')
       SELECT DISTINCT r.provider_message_id AS pmid FROM provider_receipts r
        WHERE r.provider_message_id = ANY ($2::text[]) AND r.applied_at IS NULL`,
      [batch.map((b) => b.id), batch.map((b) => b.providerMessageId)],
    );
    return new Set(rows.map((r) => r.pmid));
  }

  /** sending → queued for this attempt: not sent this time (held, deferred, retried, rate limited). */
  async release(id: string, attempt: number, o: { event: string; notBefore?: Date; error?: FailureNote }): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `WITH r AS (
         UPDATE messages SET status = 'queued', not_before = coalesce($3, not_before), error_code = $4, error_message = $5, updated_at = now()
          WHERE id = $1 AND attempts = $2 AND ${fromSql('release')} RETURNING id)
       INSERT INTO message_events (message_id, status, detail)
       SELECT id, $6, jsonb_strip_nulls(jsonb_build_object('attempt', $2::int, 'errorCode', $4::text, 'notBefore', $3::timestamptz)) FROM r
       RETURNING message_id AS id`,
      [id, attempt, o.notBefore ?? null, o.error?.code ?? null, o.error?.message.slice(0, 500) ?? null, o.event],
    );
    return rows.length > 0;
  }

  /**
   * sending → a final status for this attempt, with its reason. A provider opt-out or a
   * hard bounce also suppresses the address (the suppressions table's own rules then mark
   * the victim).
   */
  async finish(
    id: string,
    attempt: number,
    status: (typeof MESSAGE_MOVES.finish.to)[number],
    o: { blockReason?: string; error?: FailureNote; suppress?: 'provider_opt_out' | 'hard_bounce' },
  ): Promise<boolean> {
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `WITH f AS (
         UPDATE messages SET status = $3, block_reason = coalesce($4, block_reason), error_code = $5, error_message = $6,
                failed_at = CASE WHEN $3 IN ('permanent_failure', 'technical_failure') THEN now() ELSE failed_at END, updated_at = now()
          WHERE id = $1 AND attempts = $2 AND ${fromSql('finish')} RETURNING id, channel, address),
       e AS (INSERT INTO message_events (message_id, status, detail)
             SELECT id, $3, jsonb_strip_nulls(jsonb_build_object('attempt', $2::int, 'reason', $4::text, 'errorCode', $5::text)) FROM f),
       s AS (INSERT INTO suppressions (channel, address, reason, source)
             SELECT channel, address, $7, 'provider' FROM f WHERE $7::text IS NOT NULL
             ON CONFLICT (channel, address) DO NOTHING)
       SELECT id FROM f`,
      [id, attempt, status, o.blockReason ?? null, o.error?.code ?? null, o.error?.message.slice(0, 500) ?? null, o.suppress ?? null],
    );
    return rows.length > 0;
  }

  /**
   * The provider's answer to this attempt was lost or ambiguous (timeout, reset, 5xx): the
   * message stays `sending`, and the reconciler resolves it against the provider once no
   * worker can still be waiting on it. Only the error and an event are written.
   */
  async noteAmbiguous(id: string, attempt: number, error: FailureNote): Promise<void> {
    await this.ds.query(
      `WITH a AS (
         UPDATE messages SET error_code = $3, error_message = $4, updated_at = now()
          WHERE id = $1 AND attempts = $2 AND status = 'sending' RETURNING id)
       INSERT INTO message_events (message_id, status, detail)
       SELECT id, 'ambiguous', jsonb_build_object('attempt', $2::int, 'errorCode', $3::text) FROM a`,
      [id, attempt, error.code, error.message.slice(0, 500)],
    );
  }

  /** Messages claimed longer ago than the timeout: the worker died, or its answer was lost. */
  async stuckSending(limit: number, olderThanMs: number): Promise<StuckMessage[]> {
    return queryRows<StuckMessage>(
      this.ds,
      `SELECT m.id, m.victim_id, m.attempts, m.channel, m.address, m.body, m.sending_at,
              (SELECT count(*)::int FROM message_events e WHERE e.message_id = m.id AND e.status = 'ambiguous') AS ambiguous
         FROM messages m
        WHERE m.status = 'sending' AND m.sending_at < now() - make_interval(secs => $1)
        ORDER BY m.sending_at LIMIT ${Math.trunc(limit)}`,
      [olderThanMs / 1000],
    );
  }

  /** The reconciler's verdict on a stuck attempt: `unknown` (a person decides) or `queued` (provably absent). */
  async settleStuck(id: string, attempt: number, to: 'unknown' | 'queued', detail: Record<string, unknown>): Promise<boolean> {
    const move = to === 'unknown' ? 'markUnknown' : 'requeueAbsent';
    const rows = await queryRows<{ id: string }>(
      this.ds,
      `WITH u AS (UPDATE messages SET status = $3, updated_at = now() WHERE id = $1 AND attempts = $2 AND ${fromSql(move)} RETURNING id)
       INSERT INTO message_events (message_id, status, detail) SELECT id, $3, $4::jsonb FROM u RETURNING message_id AS id`,
      [id, attempt, to, JSON.stringify({ via: 'reconciler', attempt, ...detail })],
    );
    return rows.length > 0;
  }

  /**
   * Provider ids already recorded for this victim's other messages on the channel: a
   * lookup at the provider must not take one of them for this message.
   */
  async providerIdsFor(m: Pick<StuckMessage, 'id' | 'channel' | 'victim_id'>): Promise<string[]> {
    const rows = await queryRows<{ pmid: string }>(
      this.ds,
      `SELECT provider_message_id AS pmid FROM messages
        WHERE victim_id = $1 AND channel = $2 AND id <> $3 AND provider_message_id IS NOT NULL`,
      [m.victim_id, m.channel, m.id],
    );
    return rows.map((r) => r.pmid);
  }

  /** A cancelled campaign: nothing waiting may leave (a worker claims only queued messages). */
  async cancelCampaign(m: EntityManager, campaignId: string): Promise<number> {
    const rows = await queryRows<{ id: string }>(
      m,
      `WITH c AS (
         UPDATE messages SET status = 'cancelled', updated_at = now()
          WHERE campaign_id = $1 AND ${fromSql('cancel')} RETURNING id)
       INSERT INTO message_events (message_id, status, detail) SELECT id, 'cancelled', '{"by":"campaign_cancelled"}'::jsonb FROM c
       RETURNING message_id AS id`,
      [campaignId],
    );
    return rows.length;
  }

  /** A page of a campaign's messages in one status, in id order. */
  async page(campaignId: string, status: MessageStatus, afterId: string, limit: number) {
    return queryRows<{ id: string; channel: Channel; not_before: Date | null }>(
      this.ds,
      `SELECT id, channel, not_before FROM messages WHERE campaign_id = $1 AND status = $2 AND id > $3 ORDER BY id LIMIT ${Math.trunc(limit)}`,
      [campaignId, status, afterId],
    );
  }

  /** An email we sent, by id (an unsubscribe link names one); undefined for any other id. */
  async findEmail(runner: Runner, id: string): Promise<{ id: string; victim_id: string; address: string } | undefined> {
    return queryOne(runner, `SELECT id, victim_id, address FROM messages WHERE id = $1::bigint AND channel = 'email'`, [id]);
  }

  /** Messages in `unknown`, oldest first (keyset on id). */
  async listUnknown(afterId: string | null, limit: number, campaignId?: string): Promise<UnknownMessage[]> {
    const params: unknown[] = [afterId ?? '0'];
    const where = [`status = 'unknown'`, `id > $1`];
    if (campaignId) where.push(`campaign_id = $${params.push(campaignId)}`);
    return queryRows<UnknownMessage>(
      this.ds,
      `SELECT id, campaign_id, victim_id, channel, address, attempts, error_code, error_message, sending_at, updated_at
         FROM messages WHERE ${where.join(' AND ')} ORDER BY id LIMIT ${Math.trunc(limit)}`,
      params,
    );
  }

  /** The message and its campaign's status, locked for a person's decision. */
  async lockForResolve(m: EntityManager, id: string) {
    return queryOne<{ id: string; status: MessageStatus; campaign_id: string; campaign_status: string; channel: Channel; not_before: Date | null }>(
      m,
      `SELECT m.id, m.status, m.campaign_id, c.status AS campaign_status, m.channel, m.not_before
         FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE m.id = $1 FOR UPDATE OF m`,
      [id],
    );
  }

  /** A person's decision on an unknown message: sent after all, or back to queued (or cancelled with its campaign). */
  async resolveUnknown(m: EntityManager, id: string, to: 'sent' | 'queued' | 'cancelled', detail: Record<string, unknown>): Promise<boolean> {
    const move = to === 'sent' ? 'resolveSent' : 'resolveNotSent';
    const rows = await queryRows<{ id: string }>(
      m,
      `WITH u AS (
         UPDATE messages SET status = $2, updated_at = now(),
                sent_at = CASE WHEN $2 = 'sent' THEN coalesce(sent_at, now()) ELSE sent_at END,
                error_code = CASE WHEN $2 = 'sent' THEN NULL ELSE error_code END
          WHERE id = $1 AND ${fromSql(move)} RETURNING id, victim_id),
       v AS (UPDATE victims SET status = 'notified', notified_at = coalesce(notified_at, now()), updated_at = now()
              WHERE $2 = 'sent' AND id IN (SELECT victim_id FROM u) AND status = 'identified')
       INSERT INTO message_events (message_id, status, detail) SELECT id, $2, $3::jsonb FROM u RETURNING message_id AS id`,
      [id, to, JSON.stringify(detail)],
    );
    return rows.length > 0;
  }
}

/**
 * The CTEs that move messages forwards by the receipts in `source` (provider_message_id,
 * message_id, status, error_code, rank): the update, its message_events rows, the victim
 * notified, and a suppression for a provider opt-out. A receipt that names our message
 * id (Twilio's StatusCallback URL carries it) also attaches the provider's id to a
 * message whose API answer was lost, which is how such a message becomes `sent` without
 * asking the provider. Kept here so every write to `messages` stays in this file.
 */
export function receiptMoveSql(source: string): string {
  // The message each receipt is about: the one holding its provider id, else the one it
  // names. Resolved first so the update joins on the primary key (an OR in the join
  // made the planner's estimate, and with it JIT compilation, cost more than the work).
  return `
       targets AS (
         SELECT p.*, coalesce((SELECT o.id FROM messages o WHERE o.provider_message_id = p.provider_message_id), p.message_id) AS target_id
           FROM ${source} p),
       moved AS (
         UPDATE messages m
            SET status = CASE WHEN ${rankSql('m.status')} < p.rank THEN p.status ELSE m.status END,
                provider_message_id = coalesce(m.provider_message_id, p.provider_message_id),
                sent_at = CASE WHEN p.rank >= ${rankSql("'sent'")} THEN coalesce(m.sent_at, now()) ELSE m.sent_at END,
                error_code = CASE WHEN p.error_code <> '' THEN p.error_code WHEN ${rankSql('m.status')} < p.rank THEN NULL ELSE m.error_code END,
                block_reason = CASE WHEN p.status = 'suppressed' THEN 'provider_opt_out' ELSE m.block_reason END,
                delivered_at = CASE WHEN p.status = 'delivered' THEN now() ELSE m.delivered_at END,
                failed_at = CASE WHEN p.status IN ('temporary_failure', 'permanent_failure') THEN now() ELSE m.failed_at END,
                updated_at = now()
           FROM targets p
          WHERE m.id = p.target_id AND ${fromSql('receipt', 'm.status')}
            AND (m.provider_message_id = p.provider_message_id OR m.provider_message_id IS NULL)
            AND (${rankSql('m.status')} < p.rank OR m.provider_message_id IS NULL)
         RETURNING m.id, m.status, m.channel, m.address, m.victim_id, m.provider_message_id, p.error_code),
       events AS (
         INSERT INTO message_events (message_id, status, detail)
         SELECT id, status, jsonb_build_object('via', 'receipt', 'errorCode', nullif(error_code, '')) FROM moved),
       notified AS (
         UPDATE victims SET status = 'notified', notified_at = coalesce(notified_at, now()), updated_at = now()
          WHERE id IN (SELECT victim_id FROM moved WHERE status IN ('sent', 'delivered')) AND status = 'identified'),
       suppressed AS (
         INSERT INTO suppressions (channel, address, reason, source)
         SELECT channel, address, 'provider_opt_out', 'provider' FROM moved WHERE status = 'suppressed'
         ON CONFLICT (channel, address) DO NOTHING)`;
}
