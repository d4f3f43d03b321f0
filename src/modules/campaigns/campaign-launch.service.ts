import { ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ChainableCommander } from 'ioredis';
import { DataSource, EntityManager } from 'typeorm';
import type { StaffPrincipal } from '../../common/access.js';
import { CompliancePolicy, decide, GateDecision, PhoneType } from '../../common/compliance-gate.js';
import { renderTemplate } from '../../common/template.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { queryOne, queryRows } from '../../database/sql.js';
import { AuditService } from '../audit/audit.service.js';
import { MessagesRepository } from '../delivery/messages.repository.js';
import { QueueProducer } from '../queues/queue-producer.js';
import { ProviderRatesService } from '../settings/provider-rates.service.js';
import { victimFilterSql } from '../victims/victim-filters.js';
import { assertStoredAudience } from './campaign-audience.js';
import { CampaignContent } from './campaign-content.js';
import { CampaignStatus, statusOnStart } from './campaign-state.js';
import type { Channel } from '../../common/channel.js';
import { CampaignRow, CampaignsService, view } from './campaigns.service.js';
import { estimateFinish } from './eta.js';
import { messageJobId, messageJobOptions, retryPolicy } from './message-jobs.js';

/** Audience members planned per round trip: bounded memory whatever the audience. */
const CHUNK = 10_000;
/** Jobs per addBulk call. */
const ENQUEUE_BATCH = 5_000;

/** Message statuses that count towards the frequency cap (planned, in flight or sent). */
const COUNTED_STATUSES = ['pending', 'queued', 'sending', 'sent', 'delivered', 'unknown'];

interface Candidate {
  id: string;
  phone_e164: string;
  phone_type: PhoneType;
  email: string | null;
  status: string;
  opted_out_channels: string[];
  reference_code: string;
  institutions: string[];
  priority_score: number;
  sms_suppressed: string | null;
  email_suppressed: string | null;
  recent: Date[] | null;
}

export interface PlannedMessage {
  victimId: string;
  channel: Channel;
  address: string;
  status: 'queued' | 'suppressed';
  blockReason: string | null;
  notBefore: Date | null;
}

/** What a launch would do (preview) or did (launch). */
export interface AudiencePlan {
  audience: number;
  messages: number;
  perChannel: Partial<Record<Channel, { queued: number; sendNow: number; deferred: number; blocked: Record<string, number> }>>;
  blocked: Record<string, number>;
}

interface PlanContext {
  campaign: CampaignRow;
  policy: CompliancePolicy;
  /** The status the campaign will have once launched: the gate decides as of then. */
  status: CampaignStatus;
  /** When sending may begin: now, or the campaign's start. */
  at: Date;
}

/**
 * Launch: the audience is planned against the compliance gate (the same pure function
 * the workers run again before each send) and every member is accounted for: one
 * message row per (campaign, victim, channel), `queued` or `suppressed` with the
 * reason, with its rendered text. Rows are written set-based (one INSERT … SELECT FROM
 * unnest per chunk of the audience) in one transaction that holds the campaign's row
 * lock, so a second launch waits and then finds it launched. Jobs are enqueued after
 * the commit, in bulk, from what Postgres says is queued: a crash in between leaves
 * messages that the same enqueue (or the reconciler) picks up, never a duplicate.
 */
@Injectable()
export class CampaignLaunchService {
  private readonly logger = new Logger(CampaignLaunchService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly campaigns: CampaignsService,
    private readonly content: CampaignContent,
    private readonly audit: AuditService,
    private readonly producer: QueueProducer,
    private readonly rates: ProviderRatesService,
    private readonly messages: MessagesRepository,
  ) {}

  async launch(id: string, staff: StaffPrincipal, ip: string | null) {
    const started = Date.now();
    const launched = await this.ds.transaction(async (m) => {
      const c = await this.campaigns.lock(m, id);
      const to = this.campaigns.check('launch', c, staff);
      await planningSession(m);
      const ctx = this.context(c, to);
      const names = await this.content.institutionNameByCode(true);
      const plan = await this.walk(m, ctx, async (rows, candidates) => this.insert(m, ctx, rows, candidates, names));
      if (plan.audience === 0) throw new ConflictException('The audience is empty: no victim matches its filters. Edit the audience or cancel the campaign.');
      const summary = { ...plan, materialisedSeconds: (Date.now() - started) / 1000 };
      const row = await queryOne<CampaignRow>(
        m,
        `UPDATE campaigns SET status = $2, launched_by = $3, launched_at = now(), audience_size = $4, launch_summary = $5,
                version = version + 1, updated_at = now()
          WHERE id = $1 RETURNING *`,
        [id, to, staff.userId, plan.audience, JSON.stringify(summary)],
      );
      await this.audit.record(
        { actor: { type: 'staff', id: staff.userId, ip }, action: 'campaign.launched', subjectType: 'campaign', subjectId: id, details: { from: c.status, to, ...plan } },
        m,
      );
      return row!;
    });
    // The launch is committed: from here on it stands whatever Redis does. A failed
    // enqueue is reported, not turned into an error (the campaign is running, and the
    // reconciler enqueues what Postgres holds as queued).
    let enqueued = 0;
    let enqueueError: string | null = null;
    try {
      enqueued = await this.enqueueQueued(id);
    } catch (err) {
      enqueueError = `The campaign is launched, but its messages could not all be queued yet (${(err as Error).message}); the reconciler queues the rest within a minute.`;
      this.logger.warn({ campaignId: id, err: { message: (err as Error).message } }, 'launch committed; enqueue failed, left to the reconciler');
    }
    const seconds = (Date.now() - started) / 1000;
    this.logger.log({ campaignId: id, messages: launched.launch_summary?.messages, enqueued, seconds }, 'campaign launched');
    return { ...view(launched), enqueued, ...(enqueueError ? { enqueueError } : {}), launchSeconds: seconds };
  }

  /** GET /api/campaigns/:id/preview: the launch planned but not written, with segments and an ETA. */
  async preview(id: string) {
    const campaign = await this.campaigns.row(id);
    const planningStatus: CampaignStatus = ['draft', 'pending_approval', 'approved'].includes(campaign.status)
      ? statusOnStart(campaign.start_at, new Date())
      : campaign.status;
    const ctx = this.context(campaign, planningStatus);
    const plan = await this.ds.transaction('REPEATABLE READ', async (m) => {
      await planningSession(m);
      return this.walk(m, ctx, async () => undefined);
    });
    const rates = await this.rates.get();
    const backlog = await this.backlog();
    const eta = estimateFinish({
      messages: Object.fromEntries(Object.entries(plan.perChannel).map(([ch, p]) => [ch, p.queued])),
      backlog,
      ratePerSecond: { sms: rates.sms, email: rates.email },
      window: campaign.send_window,
      start: ctx.at,
    });
    return {
      campaignId: campaign.id,
      status: campaign.status,
      ...plan,
      sms: campaign.sms_body === null ? null : await this.smsFigures(campaign.sms_body),
      rates: { sms: rates.sms, email: rates.email },
      backlog,
      eta,
    };
  }

  /**
   * Adds a job for every message Postgres holds as queued for this campaign, in bulk;
   * BullMQ ignores a job id it already has, so this is safe to repeat (after a crash,
   * or when Redis lost its data). Returns how many jobs were offered.
   */
  async enqueueQueued(campaignId: string, opts: { repair?: boolean } = {}): Promise<number> {
    const retry = retryPolicy(this.config);
    let offered = 0;
    for await (const rows of this.messagePages(campaignId, 'queued')) {
      const now = Date.now();
      if (opts.repair) await this.dropHalfWrittenJobs(rows);
      await Promise.all(
        (['sms', 'email'] as const).map(async (channel) => {
          const jobs = rows
            .filter((r) => r.channel === channel)
            .map((r) => ({ name: 'send' as const, data: { messageId: r.id }, opts: messageJobOptions(r.id, r.not_before, retry, now) }));
          if (jobs.length > 0) await this.producer.addBulk(channel, jobs);
        }),
      );
      offered += rows.length;
    }
    return offered;
  }

  /**
   * Takes the jobs of a paused or cancelled campaign's messages off the queues. Not
   * needed for correctness (a worker re-checks the campaign and sends nothing), but a
   * job the limiter admits uses one of the provider's rate slots: 100,000 held jobs at
   * 10/s would stall every other campaign for hours. Jobs a worker holds at that moment
   * stay; they find the campaign paused or the message cancelled.
   */
  async dequeue(campaignId: string, status: 'queued' | 'cancelled'): Promise<number> {
    let removed = 0;
    for await (const rows of this.messagePages(campaignId, status)) {
      // A campaign resumed meanwhile has had its jobs added again: stop taking them off.
      const campaign = await queryOne<{ status: string }>(this.ds, `SELECT status FROM campaigns WHERE id = $1`, [campaignId]);
      if (status === 'queued' && campaign?.status !== 'paused') break;
      for (let i = 0; i < rows.length; i += 500) {
        const results = await Promise.all(rows.slice(i, i + 500).map((r) => this.producer.queue(r.channel).remove(messageJobId(r.id))));
        removed += results.filter((n) => n === 1).length;
      }
    }
    return removed;
  }

  /**
   * A campaign's messages in one status, a page at a time in id order; the next page is
   * read from Postgres while the caller works on this one (with Redis, usually).
   */
  private async *messagePages(campaignId: string, status: 'queued' | 'cancelled') {
    const page = (after: string) => this.messages.page(campaignId, status, after, ENQUEUE_BATCH);
    let rows = await page('0');
    let next: Promise<typeof rows> | null = null;
    try {
      while (rows.length > 0) {
        next = rows.length === ENQUEUE_BATCH ? page(rows[rows.length - 1].id) : Promise.resolve([]);
        yield rows;
        rows = await next;
        next = null;
      }
    } finally {
      // A caller that stops early leaves the page read ahead unread: its failure is no one's.
      next?.catch(() => undefined);
    }
  }

  /**
   * After Redis lost its data, a worker that was busy with a job can write a few fields
   * of it back (its job hash without name or data). BullMQ would take that for the job
   * and refuse to add it again, so such remnants are deleted first.
   */
  private async dropHalfWrittenJobs(rows: Array<{ id: string; channel: Channel }>): Promise<void> {
    for (const channel of ['sms', 'email'] as const) {
      const mine = rows.filter((r) => r.channel === channel);
      if (mine.length === 0) continue;
      const queue = this.producer.queue(channel);
      const client = await queue.getBackend().client;
      const keys = mine.map((r) => queue.toKey(messageJobId(r.id)));
      const pipe = client.pipeline() as unknown as ChainableCommander;
      for (const k of keys) pipe.exists(k).hexists(k, 'data');
      const answers = (await pipe.exec()) ?? [];
      const remnants = keys.filter((_, i) => answers[2 * i]?.[1] === 1 && answers[2 * i + 1]?.[1] === 0);
      if (remnants.length > 0) {
        this.logger.warn({ channel, remnants: remnants.length }, 'deleting half-written job hashes left after Redis lost its data');
        await client.del(...remnants);
      }
    }
  }

  private context(campaign: CampaignRow, status: CampaignStatus): PlanContext {
    assertStoredAudience(campaign.audience);
    const now = new Date();
    return {
      campaign,
      status,
      at: campaign.start_at && campaign.start_at > now ? campaign.start_at : now,
      policy: { sendWindow: campaign.send_window, frequencyCap: { max: this.config.frequencyCapMax, days: this.config.frequencyCapDays } },
    };
  }

  /** Pages through the audience by priority, plans each chunk and hands it to `each`. */
  private async walk(
    m: EntityManager,
    ctx: PlanContext,
    each: (rows: PlannedMessage[], candidates: Map<string, Candidate>) => Promise<void>,
  ): Promise<AudiencePlan> {
    const plan: AudiencePlan = { audience: 0, messages: 0, perChannel: {}, blocked: {} };
    for (const ch of ctx.campaign.channels) plan.perChannel[ch] = { queued: 0, sendNow: 0, deferred: 0, blocked: {} };
    const limit = ctx.campaign.audience.limit ?? Number.MAX_SAFE_INTEGER;
    let after: Candidate | null = null;
    while (plan.audience < limit) {
      const batch = await this.candidates(m, ctx, after, Math.min(CHUNK, limit - plan.audience));
      if (batch.length === 0) break;
      const rows = batch.flatMap((c) => planRecipient(c, ctx));
      for (const r of rows) {
        const p = plan.perChannel[r.channel]!;
        if (r.status === 'queued') {
          p.queued++;
          if (r.notBefore && r.notBefore.getTime() > Date.now()) p.deferred++;
          else p.sendNow++;
        } else {
          const reason = r.blockReason ?? 'blocked';
          p.blocked[reason] = (p.blocked[reason] ?? 0) + 1;
          plan.blocked[reason] = (plan.blocked[reason] ?? 0) + 1;
        }
      }
      plan.audience += batch.length;
      plan.messages += rows.length;
      await each(rows, new Map(batch.map((c) => [c.id, c])));
      after = batch[batch.length - 1]!;
      if (batch.length < CHUNK) break;
    }
    return plan;
  }

  /** One chunk of the audience, highest priority first, with what the gate needs to know. */
  private async candidates(m: EntityManager, ctx: PlanContext, after: Candidate | null, size: number): Promise<Candidate[]> {
    const a = ctx.campaign.audience;
    const params: unknown[] = [ctx.campaign.id];
    const where = victimFilterSql(a, params, 'v');
    if (a.excludeContactedWithinDays) {
      where.push(`NOT EXISTS (SELECT 1 FROM messages x WHERE x.victim_id = v.id AND x.sent_at > now() - make_interval(days => $${params.push(a.excludeContactedWithinDays)}))`);
    }
    if (after) where.push(`(v.priority_score, v.id) < ($${params.push(after.priority_score)}, $${params.push(after.id)}::uuid)`);
    const capSince = new Date(ctx.at.getTime() - ctx.policy.frequencyCap.days * 86_400_000);
    const channels = ctx.campaign.channels;
    return queryRows<Candidate>(
      m,
      `SELECT v.id, v.phone_e164, v.phone_type, v.email, v.status, v.opted_out_channels, v.reference_code, v.institutions, v.priority_score,
              ${channels.includes('sms') ? 'ss.reason' : 'NULL'} AS sms_suppressed,
              ${channels.includes('email') ? 'se.reason' : 'NULL'} AS email_suppressed,
              r.times AS recent
         FROM victims v
         ${channels.includes('sms') ? `LEFT JOIN suppressions ss ON ss.channel = 'sms' AND ss.address = v.phone_e164` : ''}
         ${channels.includes('email') ? `LEFT JOIN suppressions se ON se.channel = 'email' AND se.address = lower(v.email)` : ''}
         LEFT JOIN LATERAL (
           SELECT array_agg(coalesce(x.sent_at, x.not_before, x.created_at)) AS times
             FROM messages x
            WHERE x.victim_id = v.id AND x.campaign_id <> $1 AND x.status = ANY ($${params.push(COUNTED_STATUSES)}::text[])
              AND coalesce(x.sent_at, x.not_before, x.created_at) > $${params.push(capSince)}) r ON true
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY v.priority_score DESC, v.id DESC
        LIMIT ${size}`,
      params,
    );
  }

  /**
   * Writes one chunk's messages, set-based. The row holds the launch's decision (status,
   * block reason, not before); message_events records what happens to it from then on.
   */
  private async insert(m: EntityManager, ctx: PlanContext, rows: PlannedMessage[], candidates: Map<string, Candidate>, names: ReadonlyMap<string, string>) {
    if (rows.length === 0) return;
    const c = ctx.campaign;
    const subjects: Array<string | null> = [];
    const bodies: string[] = [];
    for (const r of rows) {
      const v = candidates.get(r.victimId)!;
      const values = this.content.valuesFor(v.reference_code, v.institutions, names);
      if (r.channel === 'sms') {
        subjects.push(null);
        bodies.push(renderTemplate(c.sms_body ?? '', values));
      } else {
        subjects.push(renderTemplate(c.email_subject ?? '', values));
        bodies.push(renderTemplate(c.email_body ?? '', values));
      }
    }
    await this.messages.insertPlanned(
      m,
      c.id,
      rows.map((r, i) => ({ ...r, subject: subjects[i]!, body: bodies[i] })),
    );
  }

  /** Messages already waiting on each channel (all campaigns): they go before this one. */
  private async backlog(): Promise<Record<Channel, number>> {
    const out: Record<Channel, number> = { sms: 0, email: 0 };
    await Promise.all(
      (['sms', 'email'] as const).map(async (ch) => {
        const counts = await this.producer.queue(ch).getJobCounts('waiting', 'delayed', 'prioritized', 'active');
        out[ch] = Object.values(counts).reduce((a, b) => a + b, 0);
      }),
    ).catch((err: Error) => this.logger.warn({ err: { message: err.message } }, 'queue backlog unknown; the ETA leaves it out'));
    return out;
  }

  private async smsFigures(body: string) {
    const worst = await this.content.longestSms(body);
    return { encoding: worst.encoding, longestCharacters: worst.characters, segmentsPerMessage: worst.segments };
  }
}

/**
 * The audience is read in chunks by index: JIT compilation (triggered by the lateral
 * join's large cost estimate) would cost more per chunk than the query itself.
 */
async function planningSession(m: EntityManager): Promise<void> {
  await m.query(`SET LOCAL jit = off`);
}

/**
 * The messages one audience member gets. `all`: one per campaign channel the victim
 * has an address for; `first_available`: the first channel the gate lets through, or
 * else the first with an address (blocked, with its reason). A victim with no address
 * on any of the campaign's channels gets one `suppressed` row (`no_address`), so every
 * audience member is accounted for.
 */
export function planRecipient(v: Candidate, ctx: PlanContext): PlannedMessage[] {
  const options = ctx.campaign.channels.map((channel) => {
    const address = channel === 'sms' ? v.phone_e164 : v.email?.toLowerCase() ?? null;
    if (!address) return { channel, address: null, decision: null };
    const suppressed = channel === 'sms' ? v.sms_suppressed : v.email_suppressed;
    const decision = decide(
      { channel, address, phoneType: v.phone_type, suppressed: suppressed ? { reason: suppressed } : null, victimStatus: v.status, optedOutChannels: v.opted_out_channels, recentMessageTimes: v.recent ?? [] },
      { campaignStatus: ctx.status, stage: 'launch' },
      ctx.at,
      ctx.policy,
    );
    return { channel, address, decision };
  });
  const reachable = options.filter((o) => o.address !== null);
  if (reachable.length === 0) {
    return [{ victimId: v.id, channel: ctx.campaign.channels[0], address: '', status: 'suppressed', blockReason: 'no_address', notBefore: null }];
  }
  const chosen =
    ctx.campaign.channel_strategy === 'all'
      ? reachable
      : [reachable.find((o) => o.decision.action === 'send' || o.decision.action === 'defer') ?? reachable[0]];
  return chosen.map((o) => toMessage(v.id, o.channel, o.address, o.decision, ctx));
}

function toMessage(victimId: string, channel: Channel, address: string, d: GateDecision, ctx: PlanContext): PlannedMessage {
  const start = ctx.at.getTime() > Date.now() ? ctx.at : null;
  switch (d.action) {
    case 'send':
      return { victimId, channel, address, status: 'queued', blockReason: null, notBefore: start };
    case 'defer':
      return { victimId, channel, address, status: 'queued', blockReason: null, notBefore: d.until };
    case 'hold':
      return { victimId, channel, address, status: 'queued', blockReason: null, notBefore: start };
    case 'block':
      return { victimId, channel, address, status: 'suppressed', blockReason: d.detail ? `${d.reason}:${d.detail}` : d.reason, notBefore: null };
  }
}
