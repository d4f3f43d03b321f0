import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedCampaign, EMAIL_TEMPLATE, seedManyVictims, seedVictims, Staff, staffTokens, tag, waitFor } from '../support/campaigns.js';
import { FakeTwilio, startFakeTwilio } from '../support/fake-twilio.js';
import { startProcess } from '../support/processes.js';
import { startSmtpServer } from '../support/smtp-server.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { realProvidersEnv } from '../support/provider-env.js';
import { ownDatabase, TEST_REDIS_URL } from '../support/test-db.js';

type Worker = Awaited<ReturnType<typeof startProcess>>;

/**
 * Faults, with real processes: the api in this process, workers as child processes
 * (killed with SIGKILL), the real twilio client against a fake Twilio API, a real SMTP
 * server, real Redis (whose keys are deleted) and Postgres. The claim is always the same:
 * every message reaches the provider exactly once and ends in a final state.
 */
describe('delivery through faults (worker processes, fake Twilio, real SMTP)', () => {
  let t: TestApp;
  let staff: Staff;
  let twilio: FakeTwilio;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let env: Record<string, string>;
  const workers: Worker[] = [];
  const prefix = `faults-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const db = await ownDatabase('faults');
    twilio = await startFakeTwilio();
    smtp = await startSmtpServer();
    env = {
      DATABASE_URL: db,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      ...realProvidersEnv(twilio, smtp, 10000),
      RECONCILE_INTERVAL_MS: '500',
      SENDING_TIMEOUT_MS: '4000',
      PROVIDER_TIMEOUT_MS: '1500',
      SEND_RETRY_BASE_MS: '300',
      SEND_MAX_ATTEMPTS: '12',
      WORKER_CONCURRENCY: '20',
      JWT_SECRET: 'faults-secret-faults-secret-faults-secret',
    };
    t = await startTestApp({ ...env, APP_ROLE: 'api' });
    staff = await staffTokens(t);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await t?.close();
    await twilio?.close();
    await smtp?.stop();
  });

  async function worker(): Promise<Worker> {
    const w = await startProcess({ ...env, APP_ROLE: 'worker', PORT: '0', LOG_LEVEL: 'info', RECONCILE_INTERVAL_MS: env.RECONCILE_INTERVAL_MS });
    workers.push(w);
    return w;
  }

  async function launch(id: string) {
    const res = await t.http().post(`/api/campaigns/${id}/launch`).set({ Authorization: `Bearer ${staff.supervisor2}` });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  const open = async (id: string) =>
    (await t.ds.query(`SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status IN ('pending','queued','sending','unknown')`, [id]))[0].n as number;

  /** Every message of the campaign reached the fake Twilio exactly once (numbers are unique per victim). */
  async function expectExactlyOnce(id: string, expected: number) {
    const rows: Array<{ address: string; status: string }> = await t.ds.query(`SELECT address, status FROM messages WHERE campaign_id = $1`, [id]);
    const mine = new Set(rows.map((r) => r.address));
    const perNumber = new Map<string, number>();
    for (const s of twilio.sent) if (mine.has(s.to)) perNumber.set(s.to, (perNumber.get(s.to) ?? 0) + 1);
    const twice = [...perNumber].filter(([, n]) => n > 1);
    expect(twice, `${twice.length} numbers got more than one message`).toEqual([]);
    expect(perNumber.size).toBe(expected);
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
  }

  it('kill -9 of a worker mid-campaign, then another starts: 5,000 messages, each sent exactly once', async () => {
    const inst = tag();
    await seedManyVictims(t.ds, inst, 5000, 447792000000);
    twilio.setLatency(5);
    const first = await worker();
    const id = await approvedCampaign(t, staff, inst);
    await launch(id);
    await waitFor('1,000 sends', async () => twilio.sent.length >= 1000, 60_000);
    await first.stop('SIGKILL');
    const atKill = twilio.sent.length;
    expect(atKill).toBeLessThan(5000);
    await worker();
    await waitFor('the campaign to complete', async () => (await t.ds.query(`SELECT status FROM campaigns WHERE id = $1`, [id]))[0].status === 'completed', 120_000);
    expect(await open(id)).toBe(0);
    await expectExactlyOnce(id, 5000);
  }, 180_000);

  it('Redis loses its data mid-campaign: the reconciler re-enqueues and finishes it, still exactly once', async () => {
    const inst = tag();
    await seedManyVictims(t.ds, inst, 2000, 447793000000);
    twilio.setLatency(10);
    if (workers.every((w) => w.child.exitCode !== null || w.child.signalCode !== null)) await worker();
    const id = await approvedCampaign(t, staff, inst);
    const before = twilio.sent.length;
    await launch(id);
    await waitFor('300 sends', async () => twilio.sent.length - before >= 300, 60_000);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      // Everything of this deployment's queues, gone (other test files' keys are left alone).
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    await waitFor('the campaign to complete', async () => (await t.ds.query(`SELECT status FROM campaigns WHERE id = $1`, [id]))[0].status === 'completed', 120_000);
    await expectExactlyOnce(id, 2000);
  }, 180_000);

  it('bursts of 429 and 500 from Twilio: everything is sent, nothing twice', async () => {
    const inst = tag();
    await seedManyVictims(t.ds, inst, 600, 447794000000);
    twilio.setLatency(2);
    const id = await approvedCampaign(t, staff, inst);
    const creates = twilio.creates();
    twilio.failNext(60, { status: 429, code: 20429, message: 'Too Many Requests', retryAfter: 1 });
    await launch(id);
    await waitFor('some progress', async () => twilio.creates() - creates > 200, 60_000);
    twilio.failNext(60, { status: 500, code: 20500, message: 'Internal Server Error' });
    await waitFor('100 more', async () => twilio.creates() - creates > 400, 60_000);
    twilio.failNext(40, { status: 503, message: 'Service Unavailable' });
    await waitFor('the campaign to complete', async () => (await t.ds.query(`SELECT status FROM campaigns WHERE id = $1`, [id]))[0].status === 'completed', 120_000);
    await expectExactlyOnce(id, 600);
    expect(twilio.creates() - creates).toBeGreaterThan(600 + 100);
  }, 180_000);

  it('21211 ends a message as a permanent failure without retry; 21610 suppresses the number', async () => {
    const inst = tag();
    const [invalid, optedOut, fine] = ['+447795000001', '+447795000002', '+447795000003'];
    await seedVictims(t.ds, inst, [{ phone: invalid }, { phone: optedOut }, { phone: fine }]);
    twilio.failWhen((to) =>
      to === invalid ? { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." } : to === optedOut ? { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' } : undefined,
    );
    try {
      const creates = twilio.creates();
      const id = await approvedCampaign(t, staff, inst);
      await launch(id);
      await waitFor('the campaign to complete', async () => (await t.ds.query(`SELECT status FROM campaigns WHERE id = $1`, [id]))[0].status === 'completed', 60_000);
      const rows = Object.fromEntries(
        (await t.ds.query(`SELECT address, status, attempts, error_code, block_reason FROM messages WHERE campaign_id = $1`, [id])).map((r: { address: string }) => [r.address, r]),
      );
      expect(rows[invalid]).toMatchObject({ status: 'permanent_failure', attempts: 1, error_code: '21211' });
      expect(rows[optedOut]).toMatchObject({ status: 'suppressed', attempts: 1, error_code: '21610', block_reason: 'provider_opt_out' });
      expect(rows[fine]).toMatchObject({ status: 'sent' });
      expect(twilio.creates() - creates).toBe(3);
      const [s] = await t.ds.query(`SELECT reason, source FROM suppressions WHERE channel = 'sms' AND address = $1`, [optedOut]);
      expect(s).toEqual({ reason: 'provider_opt_out', source: 'provider' });
    } finally {
      twilio.failWhen(undefined);
    }
  }, 90_000);

  it('the SMTP server is down for ten seconds: mail is retried and delivered, once each', async () => {
    const inst = tag();
    const emails = Array.from({ length: 30 }, (_, i) => `v${i}-${inst}@example.org`);
    await seedVictims(t.ds, inst, emails.map((email) => ({ email, type: 'fixed_line' as const })));
    const id = await approvedCampaign(t, staff, inst, { channels: ['email'], sms: undefined, email: EMAIL_TEMPLATE });
    await smtp.stop();
    await launch(id);
    await new Promise((r) => setTimeout(r, 10_000));
    const failedTries = await t.ds.query(`SELECT count(*)::int AS n FROM message_events e JOIN messages m ON m.id = e.message_id WHERE m.campaign_id = $1 AND e.status = 'retry'`, [id]);
    expect(failedTries[0].n).toBeGreaterThan(0);
    await smtp.restart();
    await waitFor('the campaign to complete', async () => (await t.ds.query(`SELECT status FROM campaigns WHERE id = $1`, [id]))[0].status === 'completed', 90_000);
    const received = smtp.received.filter((m) => m.to.some((to) => to.endsWith(`-${inst}@example.org`)));
    expect(received).toHaveLength(30);
    expect(new Set(received.map((m) => m.to[0])).size).toBe(30);
    const statuses = await t.ds.query(`SELECT status, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY 1`, [id]);
    expect(statuses).toEqual([{ status: 'sent', n: 30 }]);
  }, 150_000);
});
