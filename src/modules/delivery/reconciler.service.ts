import type { Channel } from '../../common/channel.js';
import { ADVISORY_LOCK } from '../../database/advisory-locks.js';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { AuditService, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { CampaignLaunchService } from '../campaigns/campaign-launch.service.js';
import { messageJobId, messageJobOptions, retryPolicy } from '../campaigns/message-jobs.js';
import { QueueProducer } from '../queues/queue-producer.js';
import { ProviderRatesService } from '../settings/provider-rates.service.js';
import { DeliveryService } from './delivery.service.js';
import { OPEN_STATUSES, statusListSql } from './message-state.js';
import type { StuckMessage } from './messages.repository.js';
import { ReceiptsService } from './receipts.service.js';

const LOCK = ADVISORY_LOCK.reconciler;

export interface ReconcileReport {
  started: number;
  reEnqueued: number;
  stuckResolved: Record<string, number>;
  receiptsApplied: number;
  completed: number;
}

/**
 * Keeps Redis honest against Postgres. It must survive Redis losing its data, so it is
 * not a job scheduled in Redis: every worker runs a timer, and a Postgres advisory lock
 * lets one of them do each round. A round:
 *  - starts scheduled campaigns whose time has come;
 *  - re-enqueues messages Postgres holds as queued for a running campaign when the queue
 *    holds fewer jobs than that (Redis flushed or lost, or a launch that died before
 *    enqueueing); job ids are the messages', so present ones are not duplicated;
 *  - puts the providers' rates back on the queues (lost with Redis too);
 *  - resolves messages stuck in `sending` (a worker died mid-send, or the provider's
 *    answer was lost or ambiguous) against the provider, or marks them `unknown`: never
 *    resent blindly, and never while a live worker still holds the message's job;
 *  - applies receipts that arrived before their message's provider id was recorded;
 *  - completes running campaigns whose messages are all final.
 */
@Injectable()
export class ReconcilerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReconcilerService.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  /** Channels whose queue looked short in the last round. */
  private readonly shortBefore = new Set<Channel>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly delivery: DeliveryService,
    private readonly receipts: ReceiptsService,
    private readonly launcher: CampaignLaunchService,
    private readonly producer: QueueProducer,
    private readonly rates: ProviderRatesService,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((err: Error) => this.logger.warn({ err: { message: err.message } }, 'reconcile round failed; the next one retries'))
        .finally(() => (this.running = null));
    }, this.config.reconcileIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One round, if no other process is doing one; null when another holds the lock. */
  async runOnce(): Promise<ReconcileReport | null> {
    const lock = new Client({ connectionString: this.config.databaseUrl, application_name: 'reconciler' });
    await lock.connect();
    try {
      const { rows } = await lock.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK}) AS ok`);
      if (!rows[0]?.ok) return null;
      try {
        return await this.round(lock);
      } finally {
        await lock.query(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => undefined);
      }
    } finally {
      await lock.end().catch(() => undefined);
    }
  }

  private async round(db: Client): Promise<ReconcileReport> {
    const report: ReconcileReport = { started: 0, reEnqueued: 0, stuckResolved: {}, receiptsApplied: 0, completed: 0 };

    const started = await db.query(
      `UPDATE campaigns SET status = 'running', updated_at = now() WHERE status = 'scheduled' AND start_at <= now() RETURNING id`,
    );
    report.started = started.rowCount ?? 0;

    await this.rates.apply(await this.rates.get());
    report.reEnqueued = await this.reEnqueue(db);

    for (const m of await this.delivery.stuckSending(500)) {
      const r = await this.resolveStuck(m);
      report.stuckResolved[r] = (report.stuckResolved[r] ?? 0) + 1;
    }
    report.receiptsApplied = await this.receipts.applyStragglers();

    // A campaign write, so not the messages repository's; which messages are still open
    // comes from the message state table.
    const completed = await db.query<{ id: string }>(
      `UPDATE campaigns c SET status = 'completed', completed_at = now(), updated_at = now(), version = version + 1
        WHERE c.status = 'running'
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = c.id AND m.status IN (${statusListSql(OPEN_STATUSES)}))
       RETURNING id`,
    );
    for (const c of completed.rows) {
      await this.audit.record({ actor: SYSTEM_ACTOR, action: 'campaign.completed', subjectType: 'campaign', subjectId: c.id });
    }
    report.completed = completed.rowCount ?? 0;
    if (report.started || report.reEnqueued || report.completed || Object.keys(report.stuckResolved).length || report.receiptsApplied) {
      this.logger.log({ ...report }, 'reconciled');
    }
    return report;
  }

  /**
   * One stuck message. Its job is looked at first: while a live worker holds it (active,
   * its lock renewed), that worker may still get the provider's answer, so the message is
   * left for a later round. A job left behind (failed after the send, or completed) is
   * removed, so that a message found absent at the provider can get its job again at once.
   */
  private async resolveStuck(m: StuckMessage): Promise<string> {
    const queue = this.producer.queue(m.channel);
    const jobId = messageJobId(m.id);
    const state = await queue.getJobState(jobId);
    if (state === 'active') return 'worker_busy';
    const r = await this.delivery.resolveStuck(m);
    if (r === 'requeued') {
      if (state !== 'unknown') await queue.remove(jobId);
      await this.producer.add(m.channel, 'send', { messageId: m.id }, messageJobOptions(m.id, null, retryPolicy(this.config)));
    }
    return r;
  }

  /**
   * Re-offers the queued messages of running campaigns when a queue holds fewer jobs than
   * Postgres has queued messages, two rounds in a row. Redis is counted first: a message
   * leaves `queued` before its job leaves Redis, so busy workers cannot make the queue
   * look short; a launch committing between the two counts can, for one round only,
   * which is why one short count is not enough.
   */
  private async reEnqueue(db: Client): Promise<number> {
    let offered = 0;
    for (const channel of ['sms', 'email'] as const) {
      const counts = await this.producer.queue(channel).getJobCounts('waiting', 'delayed', 'prioritized', 'active');
      const held = Object.values(counts).reduce((a, b) => a + b, 0);
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages m JOIN campaigns c ON c.id = m.campaign_id
          WHERE m.status = 'queued' AND m.channel = $1 AND c.status IN ('running', 'scheduled')`,
        [channel],
      );
      const queued = rows[0]?.n ?? 0;
      if (held >= queued) {
        this.shortBefore.delete(channel);
        continue;
      }
      if (!this.shortBefore.has(channel)) {
        this.shortBefore.add(channel);
        continue;
      }
      this.shortBefore.delete(channel);
      const campaigns = await db.query<{ id: string }>(
        `SELECT DISTINCT m.campaign_id AS id FROM messages m JOIN campaigns c ON c.id = m.campaign_id
          WHERE m.status = 'queued' AND m.channel = $1 AND c.status IN ('running', 'scheduled')`,
        [channel],
      );
      this.logger.warn({ channel, queuedInPostgres: queued, jobsInRedis: held }, 'the queue holds fewer jobs than Postgres has queued messages: enqueueing them again');
      for (const c of campaigns.rows) offered += await this.launcher.enqueueQueued(c.id, { repair: true });
    }
    return offered;
  }
}
