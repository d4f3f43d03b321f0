import { Command, CommandRunner, Option } from 'nest-commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { generateDataset, Manifest } from '../../seeds/dataset-generator.js';
import { maskPhone } from '../common/pii.js';
import { SYSTEM_ACTOR } from '../modules/audit/audit.service.js';
import { queryOne, queryRows } from '../database/sql.js';
import { EvidenceImportsService } from '../modules/evidence/evidence-imports.service.js';
import { InstitutionsService } from '../modules/evidence/institutions.service.js';
import { VictimMatchingService } from '../modules/victims/victim-matching.service.js';
import { randomBytes } from 'node:crypto';
import type { StaffPrincipal } from '../common/access.js';
import { AuthService } from '../modules/auth/auth.service.js';
import type { StaffRole } from '../modules/auth/staff-user.entity.js';
import { CampaignLaunchService } from '../modules/campaigns/campaign-launch.service.js';
import { CampaignsService, DEFAULT_SEND_WINDOW } from '../modules/campaigns/campaigns.service.js';
import { isWithinWindow, WEEKDAYS } from '../common/compliance-gate.js';
import { CampaignStatsService } from '../modules/campaigns/campaign-stats.service.js';
import { ProviderRatesService } from '../modules/settings/provider-rates.service.js';
import { Inject } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { AppModule } from '../app.module.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/configuration.js';

/** Sandbox-only rates for the demo: fast enough to deliver a whole campaign while you watch. */
const DEMO_RATES = { sms: 2000, email: 500 };
import { CliError, printJson } from './cli-error.js';
import { importFile, importSummary } from './evidence-import.command.js';
import { progressBar } from './progress.js';

interface Options {
  targets?: number;
  small?: boolean;
  seed?: number;
  out?: string;
}

/**
 * The main job, end to end on local Postgres and Redis: generate an iSpoof-shaped data
 * set, import it, match and rank the victims, and show what was found against what the
 * generator says a correct run must find. Safe to run again: files already imported are
 * recognised by their hash and not imported twice.
 */
@Command({ name: 'demo', description: 'Run the platform end to end on a synthetic data set' })
export class DemoCommand extends CommandRunner {
  constructor(
    private readonly imports: EvidenceImportsService,
    private readonly institutions: InstitutionsService,
    private readonly matching: VictimMatchingService,
    private readonly auth: AuthService,
    private readonly campaigns: CampaignsService,
    private readonly launcher: CampaignLaunchService,
    private readonly stats: CampaignStatsService,
    private readonly rates: ProviderRatesService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
  ) {
    super();
  }

  async run(_args: string[], o: Options): Promise<void> {
    const targets = o.targets ?? (o.small ? 5_000 : 200_000);
    const seed = o.seed ?? 1;
    const outDir = path.resolve(o.out ?? `demo-data/${targets}-${seed}`);
    const say = (s: string) => process.stderr.write(s + '\n');

    say(`1. Synthetic seized call records: ${targets.toLocaleString()} targets, ${(targets * 10).toLocaleString()} calls (seed ${seed}) in ${outDir}`);
    const manifest = await this.dataset(outDir, targets, seed);

    say('2. Importing call records (streamed into Postgres with COPY)');
    await this.institutions.ensureSeeded();
    const calls = await importFile(this.imports, 'calls', path.join(outDir, 'calls.csv'));
    say(describe(calls.status, calls.rowsAccepted, calls.rowsRejected, calls.startedAt, calls.finishedAt));
    if (calls.status === 'failed') throw new CliError(calls.failureReason ?? 'the call-records import failed');

    say('3. Matching and ranking potential victims');
    const match = await this.matching.match({ ...SYSTEM_ACTOR, id: 'demo' });
    say(`   ${match.victims.toLocaleString()} victims (${match.created.toLocaleString()} new) in ${match.seconds.toFixed(1)} s`);

    say('4. Importing contact details (victim reports, bank records)');
    const contacts = await importFile(this.imports, 'contacts', path.join(outDir, 'contacts.csv'));
    say(describe(contacts.status, contacts.rowsAccepted, contacts.rowsRejected, contacts.startedAt, contacts.finishedAt));

    const top = await queryRows<{ phone_e164: string; longest_call_seconds: number; call_count: number; institutions: string[]; priority_score: number; channels: string[] }>(
      this.ds,
      `SELECT phone_e164, longest_call_seconds, call_count, institutions, priority_score, channels
         FROM victims ORDER BY priority_score DESC, id DESC LIMIT 5`,
    );
    const reach = (await queryOne<{ victims: number; withLongCall: number; sms: number; email: number }>(
      this.ds,
      `SELECT count(*)::int AS victims,
              count(*) FILTER (WHERE longest_call_seconds >= 60)::int AS "withLongCall",
              count(*) FILTER (WHERE 'sms' = ANY (channels))::int AS sms,
              count(*) FILTER (WHERE 'email' = ANY (channels))::int AS email
         FROM victims`,
    ))!;
    say('5. A warning campaign: written by an operator, approved by a supervisor, launched');
    const campaign = await this.campaign(outDir, say);

    say('6. Delivery by the sandbox providers (no network): workers send, receipts come back');
    const delivery = await this.deliver(campaign.id, say);

    printJson({
      dataSet: outDir,
      campaign,
      delivery,
      imports: { calls: importSummary(calls), contacts: importSummary(contacts) },
      victims: {
        found: reach.victims,
        expected: manifest.victims.distinct,
        withLongCall: reach.withLongCall,
        expectedWithLongCall: manifest.victims.withLongCall,
        reachableBySms: reach.sms,
        reachableByEmail: reach.email,
      },
      highestPriority: top.map((v) => ({
        phone: maskPhone(v.phone_e164),
        longestCallSeconds: v.longest_call_seconds,
        calls: v.call_count,
        institutions: v.institutions.length > 3 ? [...v.institutions.slice(0, 3), `+${v.institutions.length - 3} more`] : v.institutions,
        score: v.priority_score,
        channels: v.channels,
      })),
    });
  }

  /**
   * Two people, as the rules require: a demo operator writes and submits, a demo
   * supervisor approves and launches. One campaign per data set: running the demo
   * again shows the campaign already launched instead of warning everyone twice.
   */
  private async campaign(outDir: string, say: (s: string) => void) {
    const name = `Demo warning (${path.basename(outDir)})`;
    const existing = await queryOne<{ id: string }>(this.ds, `SELECT id FROM campaigns WHERE name = $1 AND launched_at IS NOT NULL ORDER BY created_at DESC LIMIT 1`, [name]);
    if (existing) {
      say('   launched by an earlier run: not launched twice');
      const c = await this.campaigns.get(existing.id);
      return { id: c.id, status: c.status, audience: c.audienceSize, launch: c.launch };
    }
    const operator = await this.demoStaff('operator');
    const supervisor = await this.demoStaff('supervisor');
    // A real campaign keeps the 09:00–20:00 window; a demo run in the evening would
    // otherwise wait for the morning. The sandbox reaches nobody, so its window is opened.
    const open = isWithinWindow(new Date(), DEFAULT_SEND_WINDOW);
    if (!open) say('   outside 09:00–20:00 (Europe/London): the demo campaign is given a window open all day (sandbox only)');
    const sendWindow = { ...DEFAULT_SEND_WINDOW, days: [...(open ? DEFAULT_SEND_WINDOW.days : WEEKDAYS)], ...(open ? {} : { start: '00:00', end: '23:59' }) };
    const draft = await this.campaigns.create(
      {
        name,
        channels: ['sms', 'email'],
        channelStrategy: 'first_available',
        audience: { minLongestCallSeconds: 60 },
        sendWindow,
        sms: {
          body: 'City Police: we are warning people called by fraudsters pretending to be ((institution)). We will never ask for your PIN or passwords. Ref ((reference)). ((report_url))',
        },
        email: {
          subject: 'City Police: calls from fraudsters pretending to be ((institution))',
          body: 'City Police is contacting people who received calls from fraudsters pretending to be ((institution)).\n\nIf you lost money, tell us at ((report_url)) with your reference ((reference)). We will never ask for your PIN, passwords or card details.',
        },
      },
      operator,
      null,
    );
    await this.campaigns.move(draft.id, 'submit', operator, null);
    await this.campaigns.move(draft.id, 'approve', supervisor, null);
    const preview = await this.launcher.preview(draft.id);
    say(`   audience ${preview.audience.toLocaleString()} victims with a call over a minute; ${preview.eta.text} at the current provider rates`);
    const launched = await this.launcher.launch(draft.id, supervisor, null);
    say(`   ${launched.status}: ${launched.enqueued.toLocaleString()} messages queued for the workers in ${launched.launchSeconds.toFixed(1)} s`);
    return { id: launched.id, status: launched.status, audience: launched.audienceSize, launch: launched.launch, eta: preview.eta.text, sms: preview.sms };
  }

  /**
   * Runs the worker role in this process, always with the sandbox providers (generated
   * numbers may belong to real people), until the reconciler marks the campaign
   * completed. The demo raises the providers' rates first (an audited admin change) so
   * a 70,000-message campaign finishes in well under a minute instead of two hours.
   */
  private async deliver(campaignId: string, say: (s: string) => void) {
    const admin = await this.demoStaff('admin');
    const current = await this.rates.get();
    if (current.sms < DEMO_RATES.sms || current.email < DEMO_RATES.email) {
      await this.rates.set(DEMO_RATES, admin, null);
      say(`   provider rates set to the demo's ${DEMO_RATES.sms}/s SMS and ${DEMO_RATES.email}/s email (sandbox only)`);
    }
    const workerConfig: AppConfig = { ...this.config, appRole: 'worker', smsProvider: 'sandbox', emailProvider: 'sandbox', reconcileIntervalMs: 1000, sandboxReceiptDelayMs: 200 };
    const workers = await NestFactory.createApplicationContext(AppModule.forRole('worker', workerConfig, pino.destination(2)), { logger: ['error', 'warn'] });
    const started = Date.now();
    const bar = progressBar('deliver');
    try {
      for (;;) {
        const s = await this.stats.stats(campaignId);
        const open = (s.byStatus.queued ?? 0) + (s.byStatus.sending ?? 0) + (s.byStatus.pending ?? 0);
        bar.update(s.messages - open, s.messages, 'messages final');
        if (s.status === 'completed' || s.status === 'cancelled') break;
        if (Date.now() - started > 15 * 60_000) throw new CliError('delivery did not finish within 15 minutes; run the demo again to carry on');
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      bar.stop();
      await workers.close();
    }
    const s = await this.stats.stats(campaignId);
    say(`   ${s.status} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${Object.entries(s.byStatus).map(([k, v]) => `${v.toLocaleString()} ${k}`).join(', ')}`);
    return { status: s.status, byStatus: s.byStatus, byChannel: s.byChannel, seconds: (Date.now() - started) / 1000 };
  }

  private async demoStaff(role: StaffRole): Promise<StaffPrincipal> {
    const email = `demo-${role}@demo.police.uk`;
    const row = await queryOne<{ id: string }>(this.ds, `SELECT id FROM staff_users WHERE email = $1`, [email]);
    const id: string = row?.id ?? (await this.auth.createUser({ email, password: randomBytes(24).toString('base64url'), role }, { ...SYSTEM_ACTOR, id: 'demo' })).id;
    return { kind: 'staff', userId: id, email, role };
  }

  private async dataset(outDir: string, targets: number, seed: number): Promise<Manifest> {
    const manifestPath = path.join(outDir, 'manifest.json');
    if (existsSync(manifestPath)) {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      if (m.request?.targets === targets && m.request.seed === seed) return m;
    }
    const bar = progressBar('generate');
    const m = await generateDataset({ outDir, targets, calls: targets * 10, seed, onProgress: (p) => bar.update(p.done, p.total, p.phase) });
    bar.stop();
    return m;
  }

  @Option({ flags: '--targets <n>', description: 'distinct targets (default 200000)' })
  parseTargets(v: string): number {
    if (!/^\d+$/.test(v) || +v < 10 || +v > 5_000_000) throw new CliError('--targets must be a whole number from 10 to 5000000');
    return +v;
  }

  @Option({ flags: '--small', description: 'a quick run on 5,000 targets' })
  parseSmall(): boolean {
    return true;
  }

  @Option({ flags: '--seed <n>', description: 'random seed (default 1)' })
  parseSeed(v: string): number {
    if (!/^\d+$/.test(v)) throw new CliError('--seed must be a whole number');
    return +v;
  }

  @Option({ flags: '--out <dir>', description: 'where to write the data set (default demo-data/<targets>-<seed>)' })
  parseOut(v: string): string {
    return v;
  }
}

function describe(status: string, accepted: number, rejected: number, start: Date | null, end: Date | null): string {
  const secs = start && end ? (end.getTime() - start.getTime()) / 1000 : 0;
  if (status === 'duplicate') return '   already imported earlier (same file hash): nothing imported again';
  return `   ${status}: ${accepted.toLocaleString()} rows accepted, ${rejected.toLocaleString()} rejected with reasons, in ${secs.toFixed(1)} s`;
}
