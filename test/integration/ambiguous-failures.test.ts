import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { approvedCampaign, EMAIL_TEMPLATE, randomMobile, seedVictims, Staff, staffTokens, tag, waitFor } from '../support/campaigns.js';
import { CallbackPlan, FakeTwilio, FakeTwilioBetrayal, FakeTwilioBetrayalMode, signTwilioRequest, startFakeTwilio } from '../support/fake-twilio.js';
import { SmtpBetrayal, startSmtpServer, TestSmtpServer } from '../support/smtp-server.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { realProvidersEnv } from '../support/provider-env.js';
import { ownDatabase } from '../support/test-db.js';

/**
 * Ambiguous provider failures (issue 10, point 1), with the app's real workers and
 * reconciler against a fake Twilio and an SMTP server that accept a message and then
 * lose, stall or fail the answer. The claim throughout: a message reaches the provider at
 * most once; it ends sent/delivered (with the provider's id) exactly when the provider
 * holds it, is sent once later when the provider provably does not, and is `unknown`
 * (for a supervisor to settle) when nobody can tell.
 *
 * The contract (DESIGN.md §4): a timeout, reset or 5xx after the request left is
 * `maybe_sent` and is resolved against the provider before any retry: the status callback
 * (our message id rides in its URL) or the Messages list for Twilio; nothing for SMTP.
 * The list shows neither the StatusCallback nor, here, the body byte for byte (the fake
 * appends opt-out text as a Messaging Service does), so a lookup must not lean on them.
 */

const PUBLIC = 'https://outreach.police.uk';
const OPT_OUT_TEXT = '\nReply STOP to unsubscribe';
const FINAL_WAIT_MS = 15_000;
/** How long a campaign at rest must stay unchanged to count as settled. */
const QUIET_MS = 500;

type Row = { id: string; address: string; status: string; provider_message_id: string | null };

/** Both sides of a per-message comparison in one order, so that a diff names the messages that differ. */
const byAddress = <T extends { address: string }>(xs: T[]): T[] => xs.slice().sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));

describe('ambiguous provider failures: at most once, never guessed', () => {
  let t: TestApp;
  let staff: Staff;
  let analyst: string;
  let supervisorId: string;
  let supervisorToken: string;
  let twilio: FakeTwilio;
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    const db = await ownDatabase('ambiguous');
    twilio = await startFakeTwilio();
    smtp = await startSmtpServer();
    t = await startTestApp({
      DATABASE_URL: db,
      APP_ROLE: 'all',
      PUBLIC_BASE_URL: PUBLIC,
      ...realProvidersEnv(twilio, smtp, 1000),
      WORKER_CONCURRENCY: '10',
      // A stalled send gives up after 800 ms; a message 2 s in `sending` is the
      // reconciler's to resolve, and it looks every 200 ms.
      PROVIDER_TIMEOUT_MS: '800',
      SENDING_TIMEOUT_MS: '2000',
      RECONCILE_INTERVAL_MS: '200',
      SEND_RETRY_BASE_MS: '50',
      SEND_MAX_ATTEMPTS: '6',
    });
    staff = await staffTokens(t);
    analyst = (await t.staff('analyst')).token;
    const sup = await t.staff('supervisor');
    supervisorId = sup.id;
    supervisorToken = sup.token;
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    // Twilio calls the public URL; here that is this app, and the signature still covers the public URL.
    twilio.routeCallbacks((u) => u.replace(PUBLIC, `http://127.0.0.1:${port}`));
  }, 120_000);

  afterEach(async () => {
    twilio.betrayWhen(undefined);
    twilio.failLists(undefined);
    twilio.rewriteBody(undefined);
    twilio.callbacks(undefined);
    smtp.reset();
  });

  afterAll(async () => {
    await t?.close();
    await twilio?.close();
    await smtp?.stop();
  });

  const as = (token: string) => ({ Authorization: `Bearer ${token}` });

  const messages = async (campaignId: string): Promise<Row[]> =>
    t.ds.query(`SELECT id::text AS id, address, status, provider_message_id FROM messages WHERE campaign_id = $1 ORDER BY id`, [campaignId]);

  async function launch(id: string) {
    const res = await t.http().post(`/api/campaigns/${id}/launch`).set(as(staff.supervisor2));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  /** An SMS campaign to n fresh numbers; the ones at `betrayed` indexes are returned apart. */
  async function smsCampaign(n: number, betrayedIndexes: (i: number) => boolean) {
    const inst = tag();
    const numbers = Array.from({ length: n }, () => randomMobile());
    await seedVictims(t.ds, inst, numbers.map((phone) => ({ phone })));
    const id = await approvedCampaign(t, staff, inst);
    const betrayed = new Set(numbers.filter((_, i) => betrayedIndexes(i)));
    return { id, numbers, betrayed };
  }

  /**
   * Bounded wait for the campaign to come to rest: no message pending, queued or
   * sending, no callback or slow answer of the fake still on its way, and nothing
   * changed for QUIET_MS (an answer the fake has written may still be on its way into
   * the app). Returns whether it did, so that the caller's precise assertions say what
   * went wrong.
   */
  async function settle(campaignId: string, ms = FINAL_WAIT_MS): Promise<boolean> {
    let last = '';
    let since = 0;
    try {
      await waitFor(
        'the campaign to come to rest',
        async () => {
          const rows = await messages(campaignId);
          if (rows.some((r) => ['pending', 'queued', 'sending'].includes(r.status))) return false;
          await twilio.callbacksIdle();
          await twilio.answersIdle();
          const now = JSON.stringify(await messages(campaignId));
          if (now !== last) {
            last = now;
            since = Date.now();
            return false;
          }
          return Date.now() - since >= QUIET_MS;
        },
        ms,
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Per message: its status, how many copies Twilio holds, how many creates it took, and whether our id is Twilio's. */
  async function twilioSummary(campaignId: string) {
    return byAddress(await messages(campaignId)).map((r) => {
      const held = twilio.sent.filter((s) => s.to === r.address);
      return {
        address: r.address,
        status: r.status,
        heldByTwilio: held.length,
        creates: twilio.createsTo(r.address),
        providerIdIsTwilios: held.length === 1 ? r.provider_message_id === held[0]!.sid : null,
      };
    });
  }

  /** sidKnown: the message's fate came from Twilio (not from a person), so it must carry Twilio's sid. */
  const expected = (address: string, status: string, creates: number, held = 1, sidKnown = true) => ({
    address,
    status,
    heldByTwilio: held,
    creates,
    providerIdIsTwilios: held === 1 ? (sidKnown && status !== 'unknown' ? true : expect.any(Boolean)) : null,
  });

  /** Every message the supervisor list of unknown messages shows (following its cursor, if it pages). */
  async function unknownListed(): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const res = await t
        .http()
        .get(`/api/messages?status=unknown${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
        .set(as(supervisorToken));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const items = (Array.isArray(res.body) ? res.body : res.body.items) as Array<{ id: string | number; status?: string }>;
      expect(Array.isArray(items), JSON.stringify(res.body)).toBe(true);
      for (const i of items) {
        if (i.status !== undefined) expect(i.status).toBe('unknown');
        ids.push(String(i.id));
      }
      cursor = Array.isArray(res.body) ? undefined : (res.body.nextCursor ?? undefined);
      if (!cursor) break;
    }
    return ids;
  }

  const STORED: FakeTwilioBetrayalMode[] = ['drop_answer', 'error_after_accept', 'stall'];
  const NOT_STORED: FakeTwilioBetrayalMode[] = ['stall_reject', 'reset_before_accept'];

  describe('Twilio', () => {
    it.each([
      ['drop_answer', { mode: 'drop_answer' }],
      ['error_after_accept (500)', { mode: 'error_after_accept', status: 500 }],
      ['error_after_accept (503)', { mode: 'error_after_accept', status: 503 }],
      ['stall', { mode: 'stall' }],
      ['stall_reject', { mode: 'stall_reject' }],
      ['reset_before_accept', { mode: 'reset_before_accept' }],
    ] as Array<[string, FakeTwilioBetrayal]>)(
      '%s on a third of the first sends: each message reaches Twilio once and ends delivered with its sid',
      async (_name, betrayal) => {
        const { id, numbers, betrayed } = await smsCampaign(15, (i) => i % 3 === 0);
        twilio.callbacks({ delayMs: 50, gapMs: 50 });
        twilio.betrayWhen((c) => (betrayed.has(c.to) && c.attempt === 1 ? betrayal : undefined));
        await launch(id);
        const rested = await settle(id);

        const stored = STORED.includes(betrayal.mode);
        expect(NOT_STORED.includes(betrayal.mode)).toBe(!stored);
        // Stored: found (callback or list) and never sent again. Not stored: provably absent, so sent once more.
        expect(await twilioSummary(id)).toEqual(byAddress(numbers.map((n) => expected(n, 'delivered', betrayed.has(n) && !stored ? 2 : 1))));
        expect(rested).toBe(true);
      },
      30_000,
    );

    it('a lost answer with its callbacks lost too is found in the Messages list, though the list shows no StatusCallback and not our body byte for byte', async () => {
      const { id, numbers, betrayed } = await smsCampaign(12, (i) => i % 3 === 1);
      twilio.rewriteBody((b) => b + OPT_OUT_TEXT);
      twilio.betrayWhen((c) => (betrayed.has(c.to) && c.attempt === 1 ? 'drop_answer' : undefined));
      await launch(id);
      const rested = await settle(id);
      expect(await twilioSummary(id)).toEqual(byAddress(numbers.map((n) => expected(n, 'sent', 1))));
      expect(rested).toBe(true);
    }, 30_000);

    it.each([
      ['on time', { delayMs: 100, gapMs: 50 }, 'delivered'],
      ['out of order and twice', { delayMs: 100, gapMs: 50, reorder: true, duplicate: true }, 'delivered'],
      // After the worker gave up and the lookup failed: later evidence still settles it.
      ['late (after the lookup failed)', { delayMs: 1500, gapMs: 50 }, 'delivered'],
      ['saying undelivered (30003)', { delayMs: 100, gapMs: 50, steps: ['queued', { status: 'undelivered', errorCode: '30003' }] }, 'temporary_failure'],
    ] as Array<[string, CallbackPlan, string]>)(
      'a lost answer is recovered through the status callback alone (%s), the Messages list failing throughout',
      async (_name, plan, outcome) => {
        const { id, numbers, betrayed } = await smsCampaign(12, (i) => i % 3 === 2);
        twilio.failLists({ status: 500, code: 20500, message: 'Internal Server Error' });
        twilio.callbacks((m) => (betrayed.has(m.to) ? plan : { delayMs: 100, gapMs: 50 }));
        twilio.betrayWhen((c) => (betrayed.has(c.to) && c.attempt === 1 ? 'drop_answer' : undefined));
        await launch(id);
        const rested = await settle(id);
        expect(await twilioSummary(id)).toEqual(byAddress(numbers.map((n) => expected(n, betrayed.has(n) ? outcome : 'delivered', 1))));
        expect(rested).toBe(true);
      },
      30_000,
    );

    it('cannot tell (list failing, callbacks lost): the message is unknown, listed for a supervisor, and settled by POST /api/messages/:id/resolve, audited', async () => {
      // 0, 1: Twilio holds them, unanswered. 2, 3: Twilio never got them, unanswered. 4, 5: fine.
      const { id, numbers } = await smsCampaign(6, () => false);
      const [held1, held2, absent1, absent2, fine1, fine2] = numbers as [string, string, string, string, string, string];
      twilio.failLists({ status: 500, code: 20500, message: 'Internal Server Error' });
      twilio.callbacks({ lose: true });
      twilio.betrayWhen((c) => (c.attempt > 1 ? undefined : [held1, held2].includes(c.to) ? 'drop_answer' : [absent1, absent2].includes(c.to) ? 'stall_reject' : undefined));
      await launch(id);
      const rested = await settle(id);
      expect(await twilioSummary(id)).toEqual(byAddress([
        expected(held1, 'unknown', 1),
        expected(held2, 'unknown', 1),
        expected(absent1, 'unknown', 1, 0),
        expected(absent2, 'unknown', 1, 0),
        expected(fine1, 'sent', 1),
        expected(fine2, 'sent', 1),
      ]));
      expect(rested).toBe(true);

      const idOf = Object.fromEntries((await messages(id)).map((r) => [r.address, r.id]));
      const unknownIds = [held1, held2, absent1, absent2].map((a) => idOf[a]!);
      const listed = await unknownListed();
      expect(unknownIds.filter((m) => !listed.includes(m))).toEqual([]);
      expect(listed).not.toContain(idOf[fine1]);

      const resolve = (messageId: string, token: string, body: unknown) => t.http().post(`/api/messages/${messageId}/resolve`).set(as(token)).send(body as object);

      // Who may: a supervisor; not an operator or an analyst (list or resolve), nor anyone without a token.
      expect((await t.http().get('/api/messages?status=unknown')).status).toBe(401);
      expect((await t.http().post(`/api/messages/${unknownIds[0]}/resolve`).send({ outcome: 'sent' })).status).toBe(401);
      for (const token of [staff.operator, analyst]) {
        expect((await t.http().get('/api/messages?status=unknown').set(as(token))).status).toBe(403);
        expect((await resolve(unknownIds[0]!, token, { outcome: 'sent' })).status).toBe(403);
      }
      const bad = await resolve(unknownIds[0]!, supervisorToken, { outcome: 'maybe' });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ statusCode: 400, error: expect.any(String), message: expect.stringMatching(/outcome/i) });
      expect((await resolve('999999999', supervisorToken, { outcome: 'sent' })).status).toBe(404);
      expect((await messages(id)).filter((r) => r.status === 'unknown')).toHaveLength(4);
      expect((await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE subject_id = ANY($1) AND actor_type = 'staff'`, [unknownIds]))[0].n).toBe(0);

      // The two Twilio holds: a person who checked says sent.
      for (const m of unknownIds.slice(0, 2)) {
        const res = await resolve(m, supervisorToken, { outcome: 'sent', note: 'Twilio console shows it delivered' });
        expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
      }
      // Settled once: a second resolve, or resolving a message that is not unknown, is a conflict.
      expect((await resolve(unknownIds[0]!, supervisorToken, { outcome: 'not_sent' })).status).toBe(409);
      const conflict = await resolve(idOf[fine1]!, supervisorToken, { outcome: 'sent' });
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ statusCode: 409, error: expect.any(String), message: expect.any(String) });

      // The two Twilio never got: not sent, so sent now, once.
      for (const m of unknownIds.slice(2)) {
        const res = await resolve(m, supervisorToken, { outcome: 'not_sent', note: 'not in the Twilio console' });
        expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
      }
      await settle(id);
      expect(await twilioSummary(id)).toEqual(byAddress([
        expected(held1, 'sent', 1, 1, false),
        expected(held2, 'sent', 1, 1, false),
        expected(absent1, 'sent', 2),
        expected(absent2, 'sent', 2),
        expected(fine1, 'sent', 1),
        expected(fine2, 'sent', 1),
      ]));
      const still = await unknownListed();
      expect(unknownIds.filter((m) => still.includes(m))).toEqual([]);

      const audits: Array<{ subject_id: string; actor_type: string; actor_id: string; details: unknown }> = await t.ds.query(
        `SELECT subject_id, actor_type, actor_id, details FROM audit_events WHERE subject_id = ANY($1) AND actor_type = 'staff' ORDER BY id`,
        [unknownIds],
      );
      expect(audits.map((a) => a.subject_id)).toEqual(unknownIds);
      for (const [i, a] of audits.entries()) {
        expect(a).toMatchObject({ actor_type: 'staff', actor_id: supervisorId });
        expect(JSON.stringify(a.details)).toContain(i < 2 ? '"sent"' : '"not_sent"');
      }
    }, 40_000);

    it('a send slower than SENDING_TIMEOUT_MS races the reconciler: still exactly once, and the late answer overwrites nothing', async () => {
      // Half the sends are answered after 4 s (trickled, so no idle timeout fires), past the
      // 2 s after which the reconciler takes a `sending` message for stuck.
      const { id, numbers, betrayed } = await smsCampaign(8, (i) => i % 2 === 0);
      const slowLost = new Set([...betrayed].slice(0, 2));
      twilio.rewriteBody((b) => b + OPT_OUT_TEXT);
      twilio.callbacks((m) => (slowLost.has(m.to) ? { lose: true } : { delayMs: 100, gapMs: 50 }));
      twilio.betrayWhen((c) => (betrayed.has(c.to) && c.attempt === 1 ? { mode: 'slow_answer', answerAfterMs: 4000, tickMs: 200 } : undefined));
      await launch(id);
      const rested = await settle(id, 20_000);
      await twilio.answersIdle();
      expect(await twilioSummary(id)).toEqual(byAddress(numbers.map((n) => expected(n, slowLost.has(n) ? 'sent' : 'delivered', 1))));
      expect(rested).toBe(true);
    }, 40_000);

    it('a slow send the reconciler cannot look up (list failing, callbacks lost) is settled by its own late answer: sent once, with its sid', async () => {
      const { id, numbers, betrayed } = await smsCampaign(4, (i) => i % 2 === 0);
      twilio.failLists({ status: 500, code: 20500, message: 'Internal Server Error' });
      twilio.callbacks({ lose: true });
      twilio.betrayWhen((c) => (betrayed.has(c.to) && c.attempt === 1 ? { mode: 'slow_answer', answerAfterMs: 4000, tickMs: 200 } : undefined));
      await launch(id);
      await twilio.answersIdle();
      const rested = await settle(id);
      expect(await twilioSummary(id)).toEqual(byAddress(numbers.map((n) => expected(n, 'sent', 1))));
      expect(rested).toBe(true);
    }, 30_000);

    it('a first attempt that fails slowly, after the reconciler gave the message a second one, undoes nothing: sent once', async () => {
      // Attempt 1 never reaches Twilio and its 500 comes after 4.5 s, long after the
      // reconciler (2 s) found nothing there; attempt 2 is slow too (3 s, stored on
      // arrival). However the second attempt is started (by the reconciler at once, or once
      // attempt 1 gives up), a late answer belongs to its own claim only: it must not
      // release, fail or resend a later one. No callbacks: only answers and lookups settle it.
      const { id, numbers, betrayed } = await smsCampaign(6, (i) => i % 3 === 0);
      twilio.betrayWhen((c) =>
        !betrayed.has(c.to)
          ? undefined
          : c.attempt === 1
            ? { mode: 'slow_reject', answerAfterMs: 4500, tickMs: 200 }
            : c.attempt === 2
              ? { mode: 'slow_answer', answerAfterMs: 3000, tickMs: 200 }
              : undefined,
      );
      await launch(id);
      const rested = await settle(id, 25_000);
      await twilio.answersIdle();
      expect(await twilioSummary(id)).toEqual(byAddress(numbers.map((n) => expected(n, 'sent', betrayed.has(n) ? 2 : 1))));
      expect(rested).toBe(true);
    }, 45_000);

    it('the status webhook with ?messageId= applies to the message it names, even before its API answer; a signature for one message id does not pass for another', async () => {
      const { id, numbers } = await smsCampaign(2, () => false);
      const [stalled, other] = numbers as [string, string];
      // The API answer to `stalled` never comes and the list cannot help: only its callback can.
      twilio.failLists({ status: 500, code: 20500, message: 'Internal Server Error' });
      twilio.betrayWhen((c) => (c.to === stalled && c.attempt === 1 ? 'stall' : undefined));
      await launch(id);
      const held = await waitFor('Twilio to hold the stalled message', async () => twilio.sent.find((s) => s.to === stalled), 10_000);
      const rows = Object.fromEntries((await messages(id)).map((r) => [r.address, r]));
      const stalledId = rows[stalled]!.id;
      const otherId = rows[other]!.id;
      expect(held.messageId).toBe(stalledId);
      expect(held.statusCallback).toBe(`${PUBLIC}/webhooks/twilio/status?messageId=${stalledId}`);

      const sent = await twilio.postCallback(held.sid, 'sent');
      const delivered = await twilio.postCallback(held.sid, 'delivered');
      expect([sent.answer, delivered.answer]).toEqual([expect.any(Number), expect.any(Number)]);
      expect([sent.answer, delivered.answer].every((a) => typeof a === 'number' && a >= 200 && a < 300)).toBe(true);

      // The same signed callback replayed onto another message id: the URL is signed, so 403, nothing changes.
      const signature = signTwilioRequest(twilio.authToken, delivered.url, delivered.params);
      await t.http().post(`/webhooks/twilio/status?messageId=${otherId}`).type('form').set('X-Twilio-Signature', signature).send(delivered.params).expect(403);

      const rested = await settle(id);
      expect(await twilioSummary(id)).toEqual(byAddress([expected(stalled, 'delivered', 1), expected(other, 'sent', 1)]));
      const after = Object.fromEntries((await messages(id)).map((r) => [r.address, r]));
      expect(after[stalled]!.provider_message_id).toBe(held.sid);
      expect(after[other]!.provider_message_id).toBe(twilio.sent.find((s) => s.to === other)!.sid);
      expect(rested).toBe(true);
    }, 30_000);
  });

  describe('email over SMTP', () => {
    async function emailCampaign(n: number, betrayedIndexes: (i: number) => boolean) {
      const inst = tag();
      const emails = Array.from({ length: n }, (_, i) => `v${i}-${inst}@example.org`);
      await seedVictims(t.ds, inst, emails.map((email) => ({ email, type: 'fixed_line' as const })));
      const id = await approvedCampaign(t, staff, inst, { channels: ['email'], sms: undefined, email: EMAIL_TEMPLATE });
      const betrayed = new Set(emails.filter((_, i) => betrayedIndexes(i)));
      return { id, emails, betrayed };
    }

    /** Per message: its status, how many copies the server kept, and how many DATA transfers it took. */
    async function smtpSummary(campaignId: string) {
      return byAddress(await messages(campaignId)).map((r) => ({ address: r.address, status: r.status, kept: smtp.deliveries(r.id), dataTransfers: smtp.dataAttempts(r.id) }));
    }

    it.each(['drop_after_data', 'stall_after_data'] as SmtpBetrayal[])(
      '%s: SMTP has no lookup, so the message ends unknown, kept once and never sent again',
      async (betrayal) => {
        const { id, emails, betrayed } = await emailCampaign(9, (i) => i % 3 === 0);
        smtp.betrayWhen((a) => (a.to.some((to) => betrayed.has(to)) && a.attempt === 1 ? betrayal : undefined));
        await launch(id);
        const rested = await settle(id);
        expect(await smtpSummary(id)).toEqual(byAddress(emails.map((e) => ({ address: e, status: betrayed.has(e) ? 'unknown' : 'sent', kept: 1, dataTransfers: 1 }))));
        expect(rested).toBe(true);
        const idOf = Object.fromEntries((await messages(id)).map((r) => [r.address, r.id]));
        const listed = await unknownListed();
        expect([...betrayed].map((e) => idOf[e]!).filter((m) => !listed.includes(m))).toEqual([]);
      },
      30_000,
    );

    it('definite answers are not ambiguous: 451 after DATA and 450 at RCPT are retried and sent once; 554 after DATA fails for good', async () => {
      const { id, emails } = await emailCampaign(5, () => false);
      const [deferred, rcptBusy, refused, fine1, fine2] = emails as [string, string, string, string, string];
      smtp.betrayWhen((a) => (a.attempt > 1 ? undefined : a.to.includes(deferred) ? 'defer_after_data' : a.to.includes(refused) ? 'reject_after_data' : undefined));
      smtp.rejectRecipient((address, attempt) => (address === rcptBusy && attempt === 1 ? { code: 450, message: '4.2.0 mailbox busy, try later' } : undefined));
      await launch(id);
      const rested = await settle(id);
      expect(await smtpSummary(id)).toEqual(byAddress([
        { address: deferred, status: 'sent', kept: 1, dataTransfers: 2 },
        { address: rcptBusy, status: 'sent', kept: 1, dataTransfers: 1 },
        { address: refused, status: 'permanent_failure', kept: 0, dataTransfers: 1 },
        { address: fine1, status: 'sent', kept: 1, dataTransfers: 1 },
        { address: fine2, status: 'sent', kept: 1, dataTransfers: 1 },
      ]));
      expect(rested).toBe(true);
    }, 30_000);
  });
});
