import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESERVED_TEST_NUMBERS } from '../../src/common/phone.js';
import { DeliveryService } from '../../src/modules/delivery/delivery.service.js';
import { SANDBOX_EMAILS } from '../../src/modules/delivery/providers/sandbox.provider.js';
import { QueueProducer } from '../../src/modules/queues/queue-producer.js';
import { approvedCampaign, EMAIL_TEMPLATE, seedManyVictims, seedVictims, Staff, staffTokens, tag, waitFor } from '../support/campaigns.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { ownDatabase } from '../support/test-db.js';
import { twilioSignature } from '../support/fake-twilio.js';

const TOKEN = 'twilio-test-auth-token-0123456789';
const BASE = 'https://outreach.police.uk';

// Workers and the reconciler act on every campaign they see: this file has a database of its own.
describe('delivery through the sandbox providers (workers in process)', () => {
  let t: TestApp;
  let staff: Staff;
  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  beforeAll(async () => {
    const db = await ownDatabase('delivery');
    t = await startTestApp({
      DATABASE_URL: db,
      APP_ROLE: 'all',
      PUBLIC_BASE_URL: BASE,
      TWILIO_AUTH_TOKEN: TOKEN,
      RECONCILE_INTERVAL_MS: '300',
      SANDBOX_RECEIPT_DELAY_MS: '30',
      SEND_MAX_ATTEMPTS: '3',
      SEND_RETRY_BASE_MS: '30',
      SENDING_TIMEOUT_MS: '1500',
      PROVIDER_TIMEOUT_MS: '500',
      SMS_RATE_PER_SECOND: '1000',
      EMAIL_RATE_PER_SECOND: '1000',
    });
    staff = await staffTokens(t);
  });
  afterAll(() => t?.close());

  const launch = async (id: string) => {
    const res = await t.http().post(`/api/campaigns/${id}/launch`).set(as(staff.supervisor2));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const campaignStatus = async (id: string) => (await t.ds.query(`SELECT status FROM campaigns WHERE id = $1`, [id]))[0].status as string;
  const messages = (id: string) =>
    t.ds.query(`SELECT id, address, channel, status, attempts, block_reason, error_code, provider_message_id FROM messages WHERE campaign_id = $1 ORDER BY id`, [id]) as Promise<
      Array<{ id: string; address: string; channel: string; status: string; attempts: number; block_reason: string | null; error_code: string | null; provider_message_id: string | null }>
    >;
  const sends = async (campaignId: string) =>
    (await t.ds.query(
      `SELECT s.message_id, count(*)::int AS n FROM sandbox_messages s JOIN messages m ON m.id = s.message_id WHERE m.campaign_id = $1 GROUP BY 1`,
      [campaignId],
    )) as Array<{ message_id: string; n: number }>;

  it('sends each message once and ends every one in its simulated state; the reconciler completes the campaign', async () => {
    const inst = tag();
    const n = RESERVED_TEST_NUMBERS;
    const victims = await seedVictims(t.ds, inst, [
      { phone: n.delivered },
      { phone: n.permanentFailure },
      { phone: n.temporaryFailure },
      { phone: n.optedOut },
      { phone: n.technicalFailure },
      { email: SANDBOX_EMAILS.permanentFailure, type: 'fixed_line' },
      { email: SANDBOX_EMAILS.temporaryFailure, type: 'fixed_line' },
      { email: `someone-${inst}@example.org`, type: 'fixed_line' },
    ]);
    const id = await approvedCampaign(t, staff, inst, { channels: ['sms', 'email'], channelStrategy: 'first_available', email: EMAIL_TEMPLATE });
    await launch(id);
    await waitFor('the campaign to complete', async () => (await campaignStatus(id)) === 'completed', 30_000);

    const byAddress = Object.fromEntries((await messages(id)).map((m) => [m.address, m]));
    expect(byAddress[n.delivered]).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(byAddress[n.permanentFailure]).toMatchObject({ status: 'permanent_failure', error_code: '30005' });
    expect(byAddress[n.temporaryFailure]).toMatchObject({ status: 'temporary_failure', error_code: '30003' });
    expect(byAddress[n.optedOut]).toMatchObject({ status: 'suppressed', block_reason: 'provider_opt_out', error_code: '21610' });
    expect(byAddress[n.technicalFailure]).toMatchObject({ status: 'technical_failure', attempts: 3, error_code: 'HTTP 500' });
    expect(byAddress[SANDBOX_EMAILS.permanentFailure]).toMatchObject({ status: 'permanent_failure', error_code: 'SMTP 550' });
    expect(byAddress[SANDBOX_EMAILS.temporaryFailure]).toMatchObject({ status: 'temporary_failure' });
    expect(byAddress[`someone-${inst}@example.org`]).toMatchObject({ status: 'delivered' });

    // The provider saw each accepted message exactly once.
    expect((await sends(id)).every((s) => s.n === 1)).toBe(true);
    expect((await sends(id)).length).toBe(5);
    const sup = await t.ds.query(`SELECT channel, address, reason FROM suppressions WHERE address IN ($1, $2) ORDER BY channel`, [n.optedOut, SANDBOX_EMAILS.permanentFailure]);
    expect(sup).toEqual([
      { channel: 'email', address: SANDBOX_EMAILS.permanentFailure, reason: 'hard_bounce' },
      { channel: 'sms', address: n.optedOut, reason: 'provider_opt_out' },
    ]);
    const notified = await t.ds.query(`SELECT count(*)::int AS n FROM victims WHERE id = ANY($1) AND status = 'notified'`, [victims]);
    expect(notified[0].n).toBe(5);
    const events = await t.ds.query(`SELECT status FROM message_events WHERE message_id = $1 ORDER BY id`, [byAddress[n.delivered].id]);
    expect(events.map((e: { status: string }) => e.status)).toEqual(['sending', 'sent', 'delivered']);

    const stats = await t.http().get(`/api/campaigns/${id}/stats`).set(as(staff.operator)).expect(200);
    expect(stats.body).toMatchObject({ status: 'completed', audience: 8, messages: 8, eta: null });
    expect(stats.body.byStatus).toEqual({ delivered: 2, permanent_failure: 2, temporary_failure: 2, suppressed: 1, technical_failure: 1 });
    expect(stats.body.sentPerMinute.reduce((a: number, p: { sent: number }) => a + p.sent, 0)).toBe(5);
    const [audit] = await t.ds.query(`SELECT actor_type FROM audit_events WHERE action = 'campaign.completed' AND subject_id = $1`, [id]);
    expect(audit.actor_type).toBe('system');

    const metrics = (await t.http().get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/outreach_messages_processed_total\{channel="sms",outcome="sent"\} [1-9]/);
    expect(metrics).toMatch(/outreach_messages_processed_total\{channel="sms",outcome="technical_failure"\} 1/);
    expect(metrics).toMatch(/outreach_receipts_total\{provider="sandbox",status="delivered"\} [1-9]/);
    expect(metrics).toMatch(/outreach_provider_send_seconds_count\{channel="email"\} [1-9]/);
  });

  it('pause stops sending within a second and resume finishes; cancel leaves nothing sent after it', async () => {
    await t.http().put('/api/settings/provider-rates').set(as(staff.admin)).send({ sms: 100, email: 100 }).expect(200);
    try {
      const inst = tag();
      await seedManyVictims(t.ds, inst, 600, 447791000000);
      const id = await approvedCampaign(t, staff, inst);
      await launch(id);
      await waitFor('some sends', async () => (await sends(id)).length >= 50);
      await t.http().post(`/api/campaigns/${id}/pause`).set(as(staff.supervisor)).expect(200);
      // Its jobs leave the queue, so they do not use the provider's rate slots while paused.
      const waiting = async () => Object.values(await t.app.get(QueueProducer).queue('sms').getJobCounts('waiting', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);
      await waitFor('the paused campaign\'s jobs to leave the queue', async () => (await waiting()) === 0, 10_000);
      await new Promise((r) => setTimeout(r, 1000));
      const atPause = (await sends(id)).length;
      await new Promise((r) => setTimeout(r, 1500));
      expect((await sends(id)).length).toBe(atPause);
      expect(atPause).toBeLessThan(600);

      const resumed = await t.http().post(`/api/campaigns/${id}/resume`).set(as(staff.supervisor)).expect(200);
      expect(resumed.body.enqueued).toBe(600 - atPause);
      await waitFor('more sends after resume', async () => (await sends(id)).length > atPause + 50);
      await t.http().post(`/api/campaigns/${id}/cancel`).set(as(staff.supervisor)).expect(200);
      const cancelledAt = new Date();
      await new Promise((r) => setTimeout(r, 1000));
      const late = await t.ds.query(
        `SELECT count(*)::int AS n FROM sandbox_messages s JOIN messages m ON m.id = s.message_id
          WHERE m.campaign_id = $1 AND s.created_at > $2::timestamptz + interval '200 milliseconds'`,
        [id, cancelledAt],
      );
      expect(late[0].n).toBe(0);
      const rows = await messages(id);
      const sentIds = new Set((await sends(id)).map((s) => s.message_id));
      for (const m of rows) {
        if (sentIds.has(m.id)) expect(['sent', 'delivered']).toContain(m.status);
        else expect(m.status).toBe('cancelled');
      }
      expect((await sends(id)).every((s) => s.n === 1)).toBe(true);
    } finally {
      await t.http().put('/api/settings/provider-rates').set(as(staff.admin)).send({ sms: 1000, email: 1000 }).expect(200);
    }
  });

  it('a message left in `sending` is resolved against the provider, never resent blindly', async () => {
    const inst = tag();
    await seedVictims(t.ds, inst, [{}, {}]);
    const id = await approvedCampaign(t, staff, inst);
    await t.http().post(`/api/campaigns/${id}/pause`).set(as(staff.supervisor)).expect(409); // not launched yet
    // Launch while the campaign's messages cannot be claimed: mark them `sending` by hand, as a crashed worker leaves them.
    await launch(id);
    await waitFor('both sent', async () => (await sends(id)).length === 2);
    const [a, b] = await messages(id);
    // a: the provider has it (a crash after the send, before recording) → resolved as sent.
    // b: the provider never got it → queued again and sent once.
    await t.ds.query(`UPDATE messages SET status = 'sending', provider_message_id = NULL, sending_at = now() - interval '1 hour' WHERE id = $1`, [a.id]);
    await t.ds.query(`DELETE FROM sandbox_messages WHERE message_id = $1`, [b.id]);
    await t.ds.query(`UPDATE messages SET status = 'sending', provider_message_id = NULL, sending_at = now() - interval '1 hour' WHERE id = $1`, [b.id]);
    await t.ds.query(`UPDATE campaigns SET status = 'running' WHERE id = $1`, [id]);
    // The reconciler (every 300 ms here) resolves both.
    await waitFor('b sent again', async () => (await sends(id)).length === 2);
    expect((await sends(id)).every((s) => s.n === 1)).toBe(true);
    const via = async (mid: string) =>
      (await t.ds.query(`SELECT status FROM message_events WHERE message_id = $1 AND detail->>'via' = 'reconciler' ORDER BY id`, [mid])).map((e: { status: string }) => e.status);
    expect(await via(b.id)).toEqual(['queued']);
    await waitFor('a recorded as sent', async () => ['sent', 'delivered'].includes((await t.ds.query(`SELECT status FROM messages WHERE id = $1`, [a.id]))[0].status));
    expect(await via(a.id)).toEqual([]);
    expect((await t.ds.query(`SELECT provider_message_id FROM messages WHERE id = $1`, [a.id]))[0].provider_message_id).toMatch(/^SB/);
    await waitFor('the campaign to complete', async () => (await campaignStatus(id)) === 'completed');
  });

  describe('POST /webhooks/twilio/status', () => {
    const post = (params: Record<string, string>, signature?: string) =>
      t.http()
        .post('/webhooks/twilio/status')
        .type('form')
        .set('X-Twilio-Signature', signature ?? twilioSignature(TOKEN, `${BASE}/webhooks/twilio/status`, params))
        .send(params);
    const sid = () => `SM${[...Array(32)].map(() => Math.floor(Math.random() * 16).toString(16)).join('')}`;

    async function sentMessage(): Promise<{ id: string; sid: string }> {
      const inst = tag();
      await seedVictims(t.ds, inst, [{}]);
      const id = await approvedCampaign(t, staff, inst);
      await launch(id);
      await waitFor('sent', async () => (await sends(id)).length === 1);
      const [m] = await messages(id);
      const s = sid();
      // Stand in for a Twilio-sent message: its provider id is a Twilio SID, status sent.
      await t.ds.query(`UPDATE messages SET provider_message_id = $2, status = 'sent' WHERE id = $1`, [m.id, s]);
      return { id: m.id, sid: s };
    }
    const status = async (id: string) => (await t.ds.query(`SELECT status, error_code FROM messages WHERE id = $1`, [id]))[0];

    it('refuses a forged or missing signature with 403 and stores nothing', async () => {
      const m = await sentMessage();
      const params = { MessageSid: m.sid, MessageStatus: 'delivered' };
      await post(params, 'forged').expect(403);
      await t.http().post('/webhooks/twilio/status').type('form').send(params).expect(403);
      await post({ ...params, MessageStatus: 'failed' }, twilioSignature(TOKEN, `${BASE}/webhooks/twilio/status`, params)).expect(403);
      expect((await t.ds.query(`SELECT count(*)::int AS n FROM provider_receipts WHERE provider_message_id = $1`, [m.sid]))[0].n).toBe(0);
      expect((await status(m.id)).status).toBe('sent');
    });

    it('a signed callback with a NUL or junk ErrorCode is stored without the code, and fails no batch', async () => {
      const [a, b] = [await sentMessage(), await sentMessage()];
      await Promise.all([
        post({ MessageSid: a.sid, MessageStatus: 'undelivered', ErrorCode: '300\u00003' }).expect(204),
        post({ MessageSid: b.sid, MessageStatus: 'delivered', ErrorCode: 'x'.repeat(5000) }).expect(204),
      ]);
      expect(await status(a.id)).toEqual({ status: 'temporary_failure', error_code: null });
      expect(await status(b.id)).toEqual({ status: 'delivered', error_code: null });
    });

    it('is idempotent and never moves a message backwards', async () => {
      const m = await sentMessage();
      const deliveredEvents = async () =>
        (await t.ds.query(`SELECT count(*)::int AS n FROM message_events WHERE message_id = $1 AND status = 'delivered'`, [m.id]))[0].n as number;
      const before = await deliveredEvents();
      await post({ MessageSid: m.sid, MessageStatus: 'delivered' }).expect(204);
      await post({ MessageSid: m.sid, MessageStatus: 'delivered' }).expect(204);
      await post({ MessageSid: m.sid, MessageStatus: 'sent' }).expect(204);
      expect((await status(m.id)).status).toBe('delivered');
      expect((await t.ds.query(`SELECT count(*)::int AS n FROM provider_receipts WHERE provider_message_id = $1`, [m.sid]))[0].n).toBe(2);
      expect(await deliveredEvents()).toBe(before + 1);
    });

    it.each([
      ['undelivered', '30003', 'temporary_failure'],
      ['undelivered', '30005', 'permanent_failure'],
      ['failed', '21211', 'permanent_failure'],
      ['failed', '', 'permanent_failure'],
      ['undelivered', '', 'temporary_failure'],
      ['undelivered', '21610', 'suppressed'],
    ])('maps %s with ErrorCode %s to %s', async (messageStatus, code, expected) => {
      const m = await sentMessage();
      await post({ MessageSid: m.sid, MessageStatus: messageStatus, ...(code ? { ErrorCode: code } : {}) }).expect(204);
      expect(await status(m.id)).toMatchObject({ status: expected, ...(code ? { error_code: code } : {}) });
    });

    it('keeps a receipt that comes before the worker recorded the provider id, and applies it then', async () => {
      const m = await sentMessage();
      const early = sid();
      await post({ MessageSid: early, MessageStatus: 'delivered' }).expect(204);
      await t.ds.query(`UPDATE messages SET status = 'sending', provider_message_id = NULL WHERE id = $1`, [m.id]);
      await t.app.get(DeliveryService).recordSent(m.id, early);
      expect((await status(m.id)).status).toBe('delivered');
    });

    it('ignores statuses that say nothing and malformed SIDs, with 204', async () => {
      await post({ MessageSid: 'not-a-sid', MessageStatus: 'delivered' }).expect(204);
      await post({ MessageSid: sid(), MessageStatus: 'receiving' }).expect(204);
    });
  });
});
