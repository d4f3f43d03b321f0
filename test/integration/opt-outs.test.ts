import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedVictims, tag } from '../support/campaigns.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/**
 * Any opt-out suppression marks the victims it reaches, whoever writes it: these insert
 * rows the way the delivery code does (plain SQL, no service), so the rule cannot live
 * in one code path only.
 */
describe('opt-outs mark the victim, whatever writes the suppression', () => {
  let t: TestApp;
  const run = randomUUID().slice(0, 8);
  const mail = (name: string) => `${name}-${run}@example.net`;

  beforeAll(async () => {
    t = await startTestApp({ APP_ROLE: 'api' });
  });
  afterAll(() => t?.close());

  const victim = async (id: string) =>
    (await t.ds.query(`SELECT status, opted_out_channels, channels, phone_e164, email FROM victims WHERE id = $1`, [id]))[0] as {
      status: string;
      opted_out_channels: string[];
      channels: string[];
      phone_e164: string;
      email: string | null;
    };
  /** As delivery.service.ts and receipts.service.ts write a provider opt-out. */
  const providerOptOut = (phone: string) =>
    t.ds.query(`INSERT INTO suppressions (channel, address, reason, source) VALUES ('sms', $1, 'provider_opt_out', 'provider') ON CONFLICT (channel, address) DO NOTHING`, [phone]);

  it('a provider opt-out (21610) takes SMS away and leaves email; an email opt-out then leaves nothing: opted_out', async () => {
    const [id] = await seedVictims(t.ds, tag(), [{ email: mail('Both').toUpperCase() }]);
    const v = await victim(id);
    expect(v).toMatchObject({ status: 'identified', opted_out_channels: [], channels: ['sms', 'email'] });

    await providerOptOut(v.phone_e164);
    expect(await victim(id)).toMatchObject({ status: 'identified', opted_out_channels: ['sms'] });
    await providerOptOut(v.phone_e164); // a repeat receipt changes nothing
    expect(await victim(id)).toMatchObject({ status: 'identified', opted_out_channels: ['sms'] });

    // the victim holds the email as written; suppressions hold it lower-cased
    await t.ds.query(`INSERT INTO suppressions (channel, address, reason, source) VALUES ('email', $1, 'unsubscribe', 'unsubscribe')`, [mail('both')]);
    expect(await victim(id)).toMatchObject({ status: 'opted_out', opted_out_channels: ['email', 'sms'] });
    // staff see it on the victim
    const operator = await t.staff('operator');
    const shown = await t.http().get(`/api/victims/${id}`).set('authorization', `Bearer ${operator.token}`).expect(200);
    expect(shown.body).toMatchObject({ status: 'opted_out', channels: ['sms', 'email'], optedOutChannels: ['email', 'sms'] });
  });

  it('a victim reachable by SMS only is opted out at once; a notified one too', async () => {
    const [smsOnly, notified] = await seedVictims(t.ds, tag(), [{}, { status: 'notified' }]);
    for (const id of [smsOnly, notified]) await providerOptOut((await victim(id)).phone_e164);
    expect(await victim(smsOnly)).toMatchObject({ status: 'opted_out', opted_out_channels: ['sms'] });
    expect(await victim(notified)).toMatchObject({ status: 'opted_out', opted_out_channels: ['sms'] });
  });

  it('a victim who has answered keeps that status (the answer matters), with the channel still marked', async () => {
    const [id] = await seedVictims(t.ds, tag(), [{ status: 'loss_confirmed' }]);
    await providerOptOut((await victim(id)).phone_e164);
    expect(await victim(id)).toMatchObject({ status: 'loss_confirmed', opted_out_channels: ['sms'] });
  });

  it('every opt-out reason counts (sms_stop, opt_out, set-based in one statement); bounces and complaints do not', async () => {
    const ids = await seedVictims(t.ds, tag(), [{ email: mail('a') }, { email: mail('b') }, { email: mail('c') }, { email: mail('d') }]);
    const vs = await Promise.all(ids.map(victim));
    await t.ds.query(
      `INSERT INTO suppressions (channel, address, reason, source)
       VALUES ('sms', $1, 'sms_stop', 'sms'), ('email', $2, 'opt_out', 'staff'), ('sms', $3, 'hard_bounce', 'staff'), ('email', $4, 'complaint', 'staff')`,
      [vs[0].phone_e164, mail('b'), vs[2].phone_e164, mail('d')],
    );
    expect((await Promise.all(ids.map(victim))).map((v) => [v.status, v.opted_out_channels])).toEqual([
      ['identified', ['sms']],
      ['identified', ['email']],
      ['identified', []],
      ['identified', []],
    ]);
    // a bounce turned into an opt-out (as an unsubscribe does) counts from then on
    await t.ds.query(`UPDATE suppressions SET reason = 'unsubscribe' WHERE channel = 'email' AND address = $1`, [mail('d')]);
    expect(await victim(ids[3])).toMatchObject({ opted_out_channels: ['email'] });
  });

  it('an approved two-person removal gives the channel back, and the status when it was the last one', async () => {
    const [id] = await seedVictims(t.ds, tag(), [{ status: 'notified' }]);
    const phone = (await victim(id)).phone_e164;
    await providerOptOut(phone);
    expect(await victim(id)).toMatchObject({ status: 'opted_out', opted_out_channels: ['sms'] });
    const [asker, approver] = [await t.staff('admin'), await t.staff('supervisor')];
    const [s] = await t.ds.query(`SELECT id FROM suppressions WHERE channel = 'sms' AND address = $1`, [phone]);
    await t.ds.query(
      `INSERT INTO suppression_removals (suppression_id, channel, suppression_reason, request_reason, requested_by, status, decided_by, decided_at)
       VALUES ($1, 'sms', 'provider_opt_out', 'test', $2, 'approved', $3, now())`,
      [s.id, asker.id, approver.id],
    );
    await t.ds.query(`DELETE FROM suppressions WHERE id = $1`, [s.id]);
    expect(await victim(id)).toMatchObject({ status: 'notified', opted_out_channels: [] });
  });
});
