import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import { Batcher } from '../../common/batcher.js';
import type { Channel } from '../../common/channel.js';
import { decide } from '../../common/compliance-gate.js';
import { renderHtmlTemplate } from '../../common/template.js';
import { unsubscribeUrl } from '../../common/unsubscribe.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { CampaignContent } from '../campaigns/campaign-content.js';
import { deliveryMetrics } from './delivery-metrics.js';
import { ClaimedMessage, MessagesRepository, StuckMessage } from './messages.repository.js';
import { EMAIL_PROVIDER, EmailProvider, ProviderError, SendResult, SMS_PROVIDER, SmsProvider } from './providers/provider.js';
import { ReceiptsService } from './receipts.service.js';

export type { Channel };
export type Outcome = 'not_claimable' | 'sent' | 'held' | 'blocked' | 'permanent_failure' | 'suppressed' | 'technical_failure' | 'ambiguous';

/** How long past PROVIDER_TIMEOUT_MS a send may run before the worker stops waiting for it. */
const DEADLINE_GRACE_MS = 1000;

/**
 * Sends one message, exactly once:
 *  1. claim it with one conditional UPDATE (queued → sending, attempts + 1: the claim's
 *     fencing token); a duplicate or late job finds nothing to claim, and a message in
 *     `sending` is never sent again by a job;
 *  2. run the compliance gate again (an opt-out, a pause or a cancel may have come since
 *     launch): blocked → final; paused → back to queued, unsent (resume enqueues it
 *     again); outside the window → back to queued and the job delayed to the opening;
 *  3. call the provider, then record its id and `sent`.
 * Failures follow the provider's answer (see ProviderError). Not sent → retry with
 * backoff, or slow the whole queue down, or end the message. Maybe sent (timeout, reset,
 * 5xx, a send that outlives its deadline) → the message stays `sending`, is never
 * retried by the job, and is resolved against the provider by the reconciler once no
 * worker can still be waiting on it (`resolveStuck`). Every write goes through
 * MessagesRepository, each decision fenced by the claim's attempt.
 */
@Injectable()
export class DeliveryService implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly claims = new Batcher<string, ClaimedMessage | undefined>((ids) => this.claimBatch(ids), 200, 2);
  private readonly records = new Batcher<{ id: string; providerMessageId: string }, boolean>((b) => this.recordBatch(b), 200, 2);
  /** Sends whose deadline passed: their late answers are still recorded (see `withDeadline`). */
  private readonly late = new Set<Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly messages: MessagesRepository,
    @Inject(SMS_PROVIDER) private readonly sms: SmsProvider,
    @Inject(EMAIL_PROVIDER) private readonly email: EmailProvider,
    private readonly receipts: ReceiptsService,
    private readonly content: CampaignContent,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.late]);
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
    const m = await this.claims.add(id);
    if (!m) return 'not_claimable';
    const attempt = m.attempts;

    const d = decide(
      { channel, address: m.address, phoneType: m.phone_type, suppressed: m.suppressed ? { reason: m.suppressed } : null, victimStatus: m.victim_status, optedOutChannels: m.opted_out_channels, recentMessageTimes: [] },
      { campaignStatus: m.campaign_status, stage: 'send' },
      new Date(),
      { sendWindow: m.send_window, frequencyCap: { max: this.config.frequencyCapMax, days: this.config.frequencyCapDays } },
    );
    switch (d.action) {
      case 'block':
        await this.messages.finish(id, attempt, d.reason === 'campaign_cancelled' ? 'cancelled' : 'suppressed', { blockReason: d.detail ? `${d.reason}:${d.detail}` : d.reason });
        return 'blocked';
      case 'hold':
        await this.messages.release(id, attempt, { event: 'held' });
        return 'held';
      case 'defer':
        await this.messages.release(id, attempt, { event: 'deferred', notBefore: d.until });
        await job.moveToDelayed(d.until.getTime(), token);
        throw new DelayedError();
      case 'send':
        break;
    }

    let result: SendResult;
    const timer = deliveryMetrics.providerSeconds.startTimer({ channel });
    try {
      result = await this.withDeadline(id, this.send(channel, m));
    } catch (err) {
      return this.failed(channel, m, job, worker, err);
    } finally {
      timer();
    }
    await this.recordSentSafely(id, result.providerMessageId);
    return 'sent';
  }

  private async send(channel: Channel, m: ClaimedMessage): Promise<SendResult> {
    if (channel === 'sms') return this.sms.send({ messageId: m.id, to: m.address, body: m.body });
    const values = this.content.valuesFor(m.reference_code, m.institutions, await this.content.institutionNameByCode());
    return this.email.send({
      messageId: m.id,
      to: m.address,
      subject: m.subject ?? '',
      text: m.body,
      html: m.email_html ? renderHtmlTemplate(m.email_html, values) : null,
      unsubscribeUrl: unsubscribeUrl(this.config.publicBaseUrl, m.id, this.config.jwtSecret),
    });
  }

  /**
   * A provider call that runs past its own timeout (a server trickling its answer, a
   * client whose timeout does not cover every phase) must not keep the message in a
   * state the reconciler could misjudge: the worker stops waiting at PROVIDER_TIMEOUT_MS
   * (+ a grace), treats the send as maybe sent, and still records the answer if it comes.
   * SENDING_TIMEOUT_MS is at least twice PROVIDER_TIMEOUT_MS, so the reconciler looks at
   * the message only after this worker has let it go.
   */
  private withDeadline(id: string, send: Promise<SendResult>): Promise<SendResult> {
    const ms = this.config.providerTimeoutMs + DEADLINE_GRACE_MS;
    let t: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      t = setTimeout(() => {
        const late = send
          .then((r) => this.recordSentSafely(id, r.providerMessageId))
          .catch(() => undefined)
          .finally(() => this.late.delete(late));
        this.late.add(late);
        reject(new ProviderError('maybe_sent', 'DEADLINE', `the provider did not answer within ${ms} ms; it may have accepted the message`));
      }, ms);
    });
    return Promise.race([send, deadline]).finally(() => clearTimeout(t));
  }

  /** The provider did not take the message, or may have: what its answer means (see ProviderError). */
  private async failed(channel: Channel, m: ClaimedMessage, job: Job, worker: Worker, err: unknown): Promise<Outcome> {
    const e = err instanceof ProviderError ? err : new ProviderError('maybe_sent', 'internal', (err as Error).message);
    const note = { code: e.code, message: e.message };
    switch (e.kind) {
      case 'permanent':
        // A mailbox that does not exist is a hard bounce: never mailed again.
        await this.messages.finish(m.id, m.attempts, 'permanent_failure', { error: note, suppress: channel === 'email' ? 'hard_bounce' : undefined });
        return 'permanent_failure';
      case 'opted_out':
        await this.messages.finish(m.id, m.attempts, 'suppressed', { error: note, blockReason: 'provider_opt_out', suppress: 'provider_opt_out' });
        return 'suppressed';
      case 'rate_limited':
        // The provider's limit is everyone's: hold the whole queue, not just this job.
        await this.messages.release(m.id, m.attempts, { event: 'rate_limited', error: note });
        await worker.rateLimit(e.retryAfterMs ?? 1000);
        throw Worker.RateLimitError();
      case 'retry':
        if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
          await this.messages.finish(m.id, m.attempts, 'technical_failure', { error: note });
          return 'technical_failure';
        }
        await this.messages.release(m.id, m.attempts, { event: 'retry', error: note });
        throw e;
      case 'maybe_sent':
        // Never retried from here: the reconciler asks the provider first. Twilio's own
        // status callback (it names our message id) may settle it before then.
        await this.messages.noteAmbiguous(m.id, m.attempts, note);
        this.logger.warn({ messageId: m.id, channel, code: e.code }, 'provider answer lost or ambiguous; left in sending for the reconciler to resolve');
        return 'ambiguous';
    }
  }

  private async claimBatch(ids: string[]): Promise<Array<ClaimedMessage | undefined>> {
    const rows = await this.messages.claim(ids);
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
   * on). Concurrent records share a statement (group commit).
   */
  async recordSent(id: string, providerMessageId: string): Promise<void> {
    const early = await this.records.add({ id, providerMessageId });
    // A receipt that arrived before we knew the provider's id is applied now.
    if (early) await this.receipts.apply([providerMessageId]);
  }

  private async recordBatch(batch: Array<{ id: string; providerMessageId: string }>): Promise<boolean[]> {
    const early = await this.messages.recordSent(batch);
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

  /** Messages claimed longer ago than SENDING_TIMEOUT_MS: a worker died, or the provider's answer was lost. */
  stuckSending(limit: number): Promise<StuckMessage[]> {
    return this.messages.stuckSending(limit, this.config.sendingTimeoutMs);
  }

  /**
   * A message left in `sending`: ask the provider. Found → sent (with its id); the
   * provider answers and has none → queued again (a new attempt), unless it has been
   * ambiguous SEND_MAX_ATTEMPTS times already (then technical_failure: something is
   * wrong with the provider, not the message); the provider cannot tell → `unknown`, for
   * a person to review. Never resent blindly. Each verdict is fenced by the attempt seen.
   */
  async resolveStuck(m: StuckMessage): Promise<'sent' | 'requeued' | 'unknown' | 'failed' | 'moved_on'> {
    const provider = m.channel === 'sms' ? this.sms : this.email;
    let found: SendResult | null | undefined;
    if (provider.findSent) {
      const knownProviderIds = await this.messages.providerIdsFor(m);
      found = await provider
        .findSent({ messageId: m.id, to: m.address, body: m.body, since: new Date(m.sending_at.getTime() - 5000), knownProviderIds })
        .catch(() => undefined);
    }
    if (found) {
      await this.recordSent(m.id, found.providerMessageId);
      return 'sent';
    }
    if (found === null) {
      if (m.ambiguous >= this.config.sendMaxAttempts) {
        const ended = await this.messages.finish(m.id, m.attempts, 'technical_failure', {
          error: { code: 'AMBIGUOUS', message: `the provider's answer was lost ${m.ambiguous} times; not tried again` },
        });
        return ended ? 'failed' : 'moved_on';
      }
      return (await this.messages.settleStuck(m.id, m.attempts, 'queued', { provider: 'absent' })) ? 'requeued' : 'moved_on';
    }
    return (await this.messages.settleStuck(m.id, m.attempts, 'unknown', { provider: 'cannot_tell' })) ? 'unknown' : 'moved_on';
  }
}
