import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedCampaign, staffTokens, Staff, seedVictims, tag } from '../support/campaigns.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/**
 * Messages in `unknown` (the provider could not say whether it has them): listed for a
 * supervisor, settled by a person, audited. Launched campaigns here have no workers (the
 * test app runs the api and no reconciler), so the states are set as a stuck worker and
 * the reconciler would leave them.
 */
describe('messages that need a person', () => {
  let t: TestApp;
  let staff: Staff;
  let analyst: string;

  beforeAll(async () => {
    t = await startTestApp({ APP_ROLE: 'api' });
    staff = await staffTokens(t);
    analyst = (await t.staff('analyst')).token;
  });
  afterAll(() => t.close());

  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  /** A launched campaign of n SMS messages, the first `unknown` of them left unknown. */
  async function campaignWithUnknown(n: number, unknown: number) {
    const inst = tag();
    await seedVictims(t.ds, inst, Array.from({ length: n }, () => ({})));
    const id = await approvedCampaign(t, staff, inst);
    await t.http().post(`/api/campaigns/${id}/launch`).set(as(staff.supervisor)).expect(200);
    const ids: string[] = (await t.ds.query(`SELECT id FROM messages WHERE campaign_id = $1 ORDER BY id`, [id])).map((r: { id: string }) => String(r.id));
    await t.ds.query(`UPDATE messages SET status = 'unknown', attempts = 1, sending_at = now(), error_code = 'ETIMEDOUT' WHERE id = ANY ($1::bigint[])`, [ids.slice(0, unknown)]);
    return { id, ids };
  }

  it('lists unknown messages oldest first, paged, for a campaign; analysts and operators are refused', async () => {
    const { id, ids } = await campaignWithUnknown(5, 3);
    const first = await t.http().get(`/api/messages?status=unknown&campaignId=${id}&limit=2`).set(as(staff.supervisor)).expect(200);
    expect(first.body.items.map((m: { id: string }) => m.id)).toEqual(ids.slice(0, 2));
    expect(first.body.items[0]).toMatchObject({ campaignId: id, channel: 'sms', errorCode: 'ETIMEDOUT', attempts: 1 });
    const second = await t.http().get(`/api/messages?status=unknown&campaignId=${id}&limit=2&cursor=${first.body.nextCursor}`).set(as(staff.admin)).expect(200);
    expect(second.body.items.map((m: { id: string }) => m.id)).toEqual([ids[2]]);
    expect(second.body.nextCursor).toBeNull();
    await t.http().get('/api/messages?status=unknown').set(as(analyst)).expect(403);
    await t.http().get('/api/messages?status=unknown').set(as(staff.operator)).expect(403);
  });

  it('refuses bad filters and cursors with a 400 that says what to fix', async () => {
    for (const q of ['', 'status=sent', 'status=unknown&campaignId=------------------------------------', 'status=unknown&cursor=WzFlMzAwXQ', 'status=unknown&limit=0']) {
      const res = await t.http().get(`/api/messages?${q}`).set(as(staff.supervisor));
      expect(res.status, q).toBe(400);
      expect(res.body.message).toMatch(/status|campaignId|cursor|limit/);
    }
  });

  it('settles an unknown message as sent or not sent, audited; not_sent puts it back in the queue of a running campaign', async () => {
    const { ids } = await campaignWithUnknown(3, 2);
    const sent = await t.http().post(`/api/messages/${ids[0]}/resolve`).set(as(staff.supervisor)).send({ outcome: 'sent', note: 'seen in the Twilio console' }).expect(200);
    expect(sent.body).toMatchObject({ id: ids[0], status: 'sent', enqueued: false });
    const notSent = await t.http().post(`/api/messages/${ids[1]}/resolve`).set(as(staff.supervisor)).send({ outcome: 'not_sent' }).expect(200);
    expect(notSent.body).toMatchObject({ id: ids[1], status: 'queued', enqueued: true });

    const rows = await t.ds.query(`SELECT id, status, sent_at IS NOT NULL AS has_sent_at FROM messages WHERE id = ANY ($1::bigint[]) ORDER BY id`, [ids.slice(0, 2)]);
    expect(rows.map((r: { status: string; has_sent_at: boolean }) => [r.status, r.has_sent_at])).toEqual([
      ['sent', true],
      ['queued', false],
    ]);
    const audit = await t.ds.query(`SELECT action, subject_id, details FROM audit_events WHERE action = 'message.resolved' AND subject_id = ANY ($1) ORDER BY id`, [ids.slice(0, 2)]);
    expect(audit.map((a: { subject_id: string; details: { outcome: string } }) => [a.subject_id, a.details.outcome])).toEqual([
      [ids[0], 'sent'],
      [ids[1], 'not_sent'],
    ]);
    expect(audit[0].details.note).toBe('seen in the Twilio console');
  });

  it('a message of a cancelled campaign settled as not sent is cancelled, not sent late', async () => {
    const { id, ids } = await campaignWithUnknown(2, 1);
    await t.http().post(`/api/campaigns/${id}/cancel`).set(as(staff.supervisor)).expect(200);
    const res = await t.http().post(`/api/messages/${ids[0]}/resolve`).set(as(staff.admin)).send({ outcome: 'not_sent' }).expect(200);
    expect(res.body).toMatchObject({ status: 'cancelled', enqueued: false });
  });

  it('409 for a message that is not unknown, 404 for none, 400 for a bad outcome; nothing written', async () => {
    const { ids } = await campaignWithUnknown(2, 1);
    const before = (await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'message.resolved'`))[0].n;
    const conflict = await t.http().post(`/api/messages/${ids[1]}/resolve`).set(as(staff.supervisor)).send({ outcome: 'sent' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toMatch(/queued, not unknown/);
    await t.http().post('/api/messages/999999999999/resolve').set(as(staff.supervisor)).send({ outcome: 'sent' }).expect(404);
    await t.http().post('/api/messages/abc/resolve').set(as(staff.supervisor)).send({ outcome: 'sent' }).expect(404);
    const bad = await t.http().post(`/api/messages/${ids[0]}/resolve`).set(as(staff.supervisor)).send({ outcome: 'maybe' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/outcome must be sent or not_sent/);
    await t.http().post(`/api/messages/${ids[0]}/resolve`).set(as(staff.operator)).send({ outcome: 'sent' }).expect(403);
    expect((await t.ds.query(`SELECT status FROM messages WHERE id = $1`, [ids[0]]))[0].status).toBe('unknown');
    expect((await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'message.resolved'`))[0].n).toBe(before);
  });
});

describe('a launch that committed stands when Redis does not answer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ APP_ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:6390' });
  });
  afterAll(() => t.close());

  it('answers 200 with the campaign running, nothing enqueued and why, and every message queued in Postgres for the reconciler', async () => {
    const staff = await staffTokens(t);
    const inst = tag();
    await seedVictims(t.ds, inst, Array.from({ length: 3 }, () => ({})));
    const id = await approvedCampaign(t, staff, inst);
    const res = await t.http().post(`/api/campaigns/${id}/launch`).set({ Authorization: `Bearer ${staff.supervisor}` });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'running', enqueued: 0 });
    expect(res.body.enqueueError).toMatch(/launched.*reconciler/);
    const rows = await t.ds.query(`SELECT status, count(*)::int AS n FROM messages WHERE campaign_id = $1 GROUP BY 1`, [id]);
    expect(rows).toEqual([{ status: 'queued', n: 3 }]);
  });
});
