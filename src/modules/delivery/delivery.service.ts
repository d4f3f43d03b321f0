import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import { DataSource } from 'typeorm';
import { decide, PhoneType, SendWindow } from '../../common/compliance-gate.js';
import { renderHtmlTemplate } from '../../common/template.js';
import { unsubscribeUrl } from '../../common/unsubscribe.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { queryRows } from '../../database/sql.js';
import { Batcher } from '../../common/batcher.js';
import { CampaignContent } from '../campaigns/campaign-content.js';
import { EMAIL_PROVIDER, EmailProvider, ProviderError, SMS_PROVIDER, SmsProvider } from './providers/provider.js';
import { ReceiptsService } from './receipts.service.js';
import { deliveryMetrics } from './delivery-metrics.js';

export type Channel = 'sms' | 'email';

interface Claimed {
  id: string;
  channel: Channel;
  address: string;
  subject: string | null;
  body: string;
  campaign_status: string;
  send_window: SendWindow;
  email_html: string | null;
  victim_status: string;
  phone_type: PhoneType;
  reference_code: string;
  institutions: string[];
  suppressed: string | null;
}

export type Outcome = 'not_claimable' | 'sent' | 'held' | 'blocked' | 'permanent_failure' | 'suppressed' | 'technical_failure';

/**
 * Sends one message, exactly once:
 *  1. claim it with one conditional UPDATE (queued → sending): a duplicate or late job
 *     finds nothing to claim, and a message already in `sending` is never sent again;
 *  2. run the compliance gate again (an opt-out, a pause or a cancel may have come since
 *     launch): blocked → final; paused → back to queued, unsent (resume enqueues it
 *     again); outside the window → back to queued and the job delayed to the opening;
 *  3. call the provider, then record its id and `sent`.
 * Failures follow the provider's answer (see ProviderError): retry with backoff, slow
 * the whole queue down, or end the message. Every move is a message_events row.
 */
@Injectable()
export class DeliveryService implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly claims = new Batcher<string, Claimed | undefined>((ids) => this.claimBatch(ids), 200, 2);
  private readonly records = new Batcher<{ id: string; providerMessageId: string }, boolean>((b) => this.recordBatch(b), 200, 2);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(SMS_PROVIDER) private readonly sms: SmsProvider,
    @Inject(EMAIL_PROVIDER) private readonly email: EmailProvider,
    private readonly receipts: ReceiptsService,
    private readonly content: CampaignContent,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.sms.close?.(), this.email.close?.()]);
  }

  async process(channel: Channel, job: Job<{ messageId: string }>, token: string | undefined, worker: Worker): Promise<Outcome> {
    try {
      const outcome = await this.processOne(channel, job, token, worker);
      deliveryMetrics.outcomes.inc({ channel, outcome });
      return outcome;
    } catch (err) {
      const outcome = err instanceof DelayedError ? 'deferred' : err instanceof ProviderError && err.kind === 'retry' ? 'retry' : (err as Error).name === 'RateLimitError' ? 'rate_limited' : 'error';
      deliveryMetrics.outcomes.inc({ channel, outcome });
      throw err;
    }
  }

  private async processOne(channel: Channel, job: Job<{ messageId: string }>, token: string | undefined, worker: Worker): Promise<Outcome> {
    const id = job.data.messageId;
    const m = await this.claim(id);
    if (!m) return 'not_claimable';

    const now = new Date();
    const d = decide(
      { channel, address: m.address, phoneType: m.phone_type, suppressed: m.suppressed ? { reason: m.suppressed } : null, victimStatus: m.victim_status, recentMessageTimes: [] },
      { campaignStatus: m.campaign_status, stage: 'send' },
      now,
      { sendWindow: m.send_window, frequencyCap: { max: this.config.frequencyCapMax, days: this.config.frequencyCapDays } },
    );
    switch (d.action) {
      case 'block':
        await this.finish(id, d.reason === 'campaign_cancelled' ? 'cancelled' : 'suppressed', { blockReason: d.detail ? `${d.reason}:${d.detail}` : d.reason });
        return 'blocked';
      case 'hold':
        await this.release(id, { event: 'held' });
        return 'held';
      case 'defer':
        await this.release(id, { event: 'deferred', notBefore: d.until });
        await job.moveToDelayed(d.until.getTime(), token);
        throw new DelayedError();
      case 'send':
        break;
    }

    let providerMessageId: string;
    const timer = deliveryMetrics.providerSeconds.startTimer({ channel });
    try {
      const result =
        channel === 'sms'
          ? await this.sms.send({ messageId: id, to: m.address, body: m.body })
          : await this.email.send({
              messageId: id,
              to: m.address,
              subject: m.subject ?? '',
              text: m.body,
              html: m.email_html ? renderHtmlTemplate(m.email_html, await this.values(m)) : null,
              unsubscribeUrl: unsubscribeUrl(this.config.publicBaseUrl, id, this.config.jwtSecret),
            });
      providerMessageId = result.providerMessageId;
    } catch (err) {
      timer();
      return this.failed(channel, id, job, worker, err);
    }
    timer();
    await this.recordSentSafely(id, providerMessageId);
    return 'sent';
  }

  /** The provider did not take the message: what its answer means (see ProviderError). */
  private async failed(channel: Channel, id: string, job: Job, worker: Worker, err: unknown): Promise<Outcome> {
    const e = err instanceof ProviderError ? err : new ProviderError('retry', 'internal', (err as Error).message);
    switch (e.kind) {
      case 'permanent':
        // A mailbox that does not exist is a hard bounce: never mailed again.
        await this.finish(id, 'permanent_failure', { error: e, suppress: channel === 'email' ? 'hard_bounce' : undefined });
        return 'permanent_failure';
      case 'opted_out':
        await this.finish(id, 'suppressed', { error: e, blockReason: 'provider_opt_out', suppress: 'provider_opt_out' });
        return 'suppressed';
      case 'rate_limited':
        // The provider's limit is everyone's: hold the whole queue, not just this job.
        await this.release(id, { event: 'rate_limited', error: e });
        await worker.rateLimit(e.retryAfterMs ?? 1000);
        throw Worker.RateLimitError();
      case 'retry':
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          await this.finish(id, 'technical_failure', { error: e });
          return 'technical_failure';
        }
        await this.release(id, { event: 'retry', error: e });
        throw e;
    }
  }

  /**
   * queued → sending, with what the gate needs, in one statement; undefined when not
   * claimable. Concurrent claims share a statement (group commit).
   */
  private claim(id: string): Promise<Claimed | undefined> {
    return this.claims.add(id);
  }

  private async claimBatch(ids: string[]): Promise<Array<Claimed | undefined>> {
    const rows = await queryRows<Claimed>(
      this.ds,
      `WITH claimed AS (
         UPDATE messages m SET status = 'sending', sending_at = now(), attempts = m.attempts + 1, updated_at = now()
           FROM campaigns c, victims v
          WHERE m.id = ANY ($1::bigint[]) AND m.status = 'queued' AND c.id = m.campaign_id AND v.id = m.victim_id
         RETURNING m.id, m.channel, m.address, m.subject, m.body, c.status AS campaign_status, c.send_window, c.email_html,
                   v.status AS victim_status, v.phone_type, v.reference_code, v.institutions,
                   (SELECT s.reason FROM suppressions s WHERE s.channel = m.channel AND s.address = m.address) AS suppressed),
       event AS (INSERT INTO message_events (message_id, status) SELECT id, 'sending' FROM claimed)
       SELECT * FROM claimed`,
      [ids],
    );
    const byId = new Map(rows.map((r) => [String(r.id), r]));
    // A message claimed once answers only its first asker (a duplicate job in the same batch gets nothing).
    return ids.map((id) => {
      const r = byId.get(id);
      byId.delete(id);
      return r;
    });
  }

  /**
   * The provider has it: record its id and `sent` (unless a receipt already moved it
   * on); the victim is notified. Concurrent records share a statement.
   */
  async recordSent(id: string, providerMessageId: string): Promise<void> {
    const early = await this.records.add({ id, providerMessageId });
    // A receipt that arrived before we knew the provider's id is applied now.
    if (early) await this.receipts.apply([providerMessageId]);
  }

  private async recordBatch(batch: Array<{ id: string; providerMessageId: string }>): Promise<boolean[]> {
    const rows = await queryRows<{ pmid: string }>(
      this.ds,
      `WITH input AS (SELECT * FROM unnest($1::bigint[], $2::text[]) AS t (id, pmid)),
       sent AS (
         UPDATE messages m SET status = CASE WHEN m.status IN ('sending', 'unknown') THEN 'sent' ELSE m.status END,
                provider_message_id = i.pmid, sent_at = coalesce(m.sent_at, now()), error_code = NULL, error_message = NULL, updated_at = now()
           FROM input i WHERE m.id = i.id
         RETURNING m.id, m.victim_id, i.pmid),
       event AS (INSERT INTO message_events (message_id, status, detail) SELECT id, 'sent', jsonb_build_object('providerMessageId', pmid) FROM sent),
       victim AS (UPDATE victims SET status = 'notified', notified_at = coalesce(notified_at, now()), updated_at = now()
                   WHERE id IN (SELECT victim_id FROM sent) AND status = 'identified')
       SELECT DISTINCT r.provider_message_id AS pmid FROM provider_receipts r
        WHERE r.provider_message_id = ANY ($2::text[]) AND r.applied_at IS NULL`,
      [batch.map((b) => b.id), batch.map((b) => b.providerMessageId)],
    );
    const early = new Set(rows.map((r) => r.pmid));
    return batch.map((b) => early.has(b.providerMessageId));
  }

  /**
   * After the provider accepted a message, failing to record it must never lead to a
   * second send: try again a few times, then leave it in `sending` for the reconciler,
   * which asks the provider and finds it there.
   */
  private async recordSentSafely(id: string, providerMessageId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.recordSent(id, providerMessageId);
      } catch (err) {
        if (attempt >= 5) {
          this.logger.error({ messageId: id, err: { message: (err as Error).message } }, 'sent but not recorded; left in sending for the reconciler');
          throw new UnrecoverableError('sent but not recorded; the reconciler resolves it');
        }
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  /** sending → queued: not sent this time (held, deferred, retried or rate limited). */
  private async release(id: string, o: { event: string; notBefore?: Date; error?: ProviderError }): Promise<void> {
    await this.ds.query(
      `WITH r AS (
         UPDATE messages SET status = 'queued', not_before = coalesce($2, not_before), error_code = $3, error_message = $4, updated_at = now()
          WHERE id = $1 AND status = 'sending' RETURNING id)
       INSERT INTO message_events (message_id, status, detail)
       SELECT id, $5, jsonb_strip_nulls(jsonb_build_object('errorCode', $3::text, 'notBefore', $2::timestamptz)) FROM r`,
      [id, o.notBefore ?? null, o.error?.code ?? null, o.error?.message.slice(0, 500) ?? null, o.event],
    );
  }

  /** sending → a final status, with its reason; a provider opt-out or a hard bounce also suppresses the address. */
  private async finish(id: string, status: string, o: { blockReason?: string; error?: ProviderError; suppress?: 'provider_opt_out' | 'hard_bounce' }): Promise<void> {
    await this.ds.query(
      `WITH f AS (
         UPDATE messages SET status = $2, block_reason = coalesce($3, block_reason), error_code = $4, error_message = $5,
                failed_at = CASE WHEN $2 IN ('permanent_failure', 'technical_failure') THEN now() ELSE failed_at END, updated_at = now()
          WHERE id = $1 AND status = 'sending' RETURNING id, channel, address),
       e AS (INSERT INTO message_events (message_id, status, detail)
             SELECT id, $2, jsonb_strip_nulls(jsonb_build_object('reason', $3::text, 'errorCode', $4::text)) FROM f)
       INSERT INTO suppressions (channel, address, reason, source)
       SELECT channel, address, $6, 'provider' FROM f WHERE $6::text IS NOT NULL
       ON CONFLICT (channel, address) DO NOTHING`,
      [id, status, o.blockReason ?? null, o.error?.code ?? null, o.error?.message.slice(0, 500) ?? null, o.suppress ?? null],
    );
  }

  private async values(m: Claimed) {
    return this.content.valuesFor(m.reference_code, m.institutions, await this.content.institutionNameByCode());
  }

  /** Messages claimed longer ago than the timeout: the worker may have died mid-send. */
  async stuckSending(limit: number): Promise<Array<{ id: string; channel: Channel; address: string; body: string; sending_at: Date }>> {
    return queryRows(
      this.ds,
      `SELECT id, channel, address, body, sending_at FROM messages
        WHERE status = 'sending' AND sending_at < now() - make_interval(secs => $1) ORDER BY sending_at LIMIT ${limit}`,
      [this.config.sendingTimeoutMs / 1000],
    );
  }

  /**
   * A message left in `sending`: ask the provider. Found → sent (with its id); the
   * provider says it never got it → queued again; the provider cannot tell → `unknown`,
   * for a person to review. Never resent blindly.
   */
  async resolveStuck(m: { id: string; channel: Channel; address: string; body: string; sending_at: Date }): Promise<'sent' | 'requeued' | 'unknown'> {
    const provider = m.channel === 'sms' ? this.sms : this.email;
    const found = provider.findSent ? await provider.findSent({ messageId: m.id, to: m.address, body: m.body, since: new Date(m.sending_at.getTime() - 5000) }).catch(() => undefined) : undefined;
    if (found) {
      await this.recordSent(m.id, found.providerMessageId);
      return 'sent';
    }
    const to = found === null ? 'queued' : 'unknown';
    await this.ds.query(
      `WITH u AS (UPDATE messages SET status = $2, updated_at = now() WHERE id = $1 AND status = 'sending' RETURNING id)
       INSERT INTO message_events (message_id, status, detail) SELECT id, $2, '{"via":"reconciler"}'::jsonb FROM u`,
      [m.id, to],
    );
    return to === 'queued' ? 'requeued' : 'unknown';
  }
}
