import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextWindowStart, WEEKDAYS } from '../../src/common/compliance-gate.js';
import { messageJobId } from '../../src/modules/campaigns/message-jobs.js';
import { QueueProducer } from '../../src/modules/queues/queue-producer.js';
import { addTestInstitution, EMAIL_TEMPLATE, randomMobile, seedVictims as seedVictimsIn, SMS_TEMPLATE, tag, VictimSeed } from '../support/campaigns.js';
import { startTestApp, TestApp } from '../support/test-app.js';

// Victims are shared with every other test file of the run: each test gives its own
// victims an institution code of its own and chooses its audience by it.
const SMS = SMS_TEMPLATE;
const EMAIL = EMAIL_TEMPLATE;
const mobile = randomMobile;

describe('campaigns', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // No workers: launched messages stay queued for the assertions.
    t = await startTestApp({ APP_ROLE: 'api', PUBLIC_BASE_URL: 'https://outreach.police.uk', ORG_NAME: 'City Police' });
    for (const who of ['admin', 'supervisor', 'supervisor2', 'operator', 'analyst'] as const) {
      const s = await t.staff(who.replace('2', '') as 'admin');
      tokens[who] = s.token;
      ids[who] = s.id;
    }
    await addTestInstitution(t.ds);
  });
  afterAll(() => t?.close());

  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  const seedVictims = (institution: string, seeds: VictimSeed[]) => seedVictimsIn(t.ds, institution, seeds);

  function body(institution: string, extra: Record<string, unknown> = {}) {
    return { name: `Warning ${institution}`, channels: ['sms'], audience: { institution }, sms: { body: SMS }, ...extra };
  }

  async function create(institution: string, extra: Record<string, unknown> = {}, who = 'operator') {
    const res = await t.http().post('/api/campaigns').set(as(who)).send(body(institution, extra));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; status: string; version: number };
  }

  async function approved(institution: string, extra: Record<string, unknown> = {}) {
    const c = await create(institution, extra);
    await t.http().post(`/api/campaigns/${c.id}/submit`).set(as('operator')).expect(200);
    await t.http().post(`/api/campaigns/${c.id}/approve`).set(as('supervisor')).expect(200);
    return c;
  }

  const messages = (campaignId: string) =>
    t.ds.query(
      `SELECT m.id, m.victim_id, m.channel, m.address, m.status, m.block_reason, m.subject, m.body, m.not_before
         FROM messages m WHERE m.campaign_id = $1 ORDER BY m.id`,
      [campaignId],
    ) as Promise<Array<{ id: string; victim_id: string; channel: string; address: string; status: string; block_reason: string | null; subject: string | null; body: string; not_before: Date | null }>>;

  const queue = (name: 'sms' | 'email'): Queue => t.app.get(QueueProducer).queue(name);

  describe('POST /api/templates/preview', () => {
    it('renders with sample values and counts GSM-7 segments', async () => {
      const res = await t.http().post('/api/templates/preview').set(as('operator')).send({ channel: 'sms', body: SMS }).expect(200);
      expect(res.body.encoding).toBe('GSM-7');
      expect(res.body.rendered.body).toContain('https://outreach.police.uk/report');
      expect(res.body.rendered.body).not.toContain('((');
      expect(res.body.segments).toBe(Math.ceil(res.body.characters / 153));
      expect(res.body.violations).toEqual([]);
      expect(res.body.longest.maxSegments).toBe(3);
    });

    it('names non-GSM characters with replacements and switches to UCS-2', async () => {
      const res = await t.http().post('/api/templates/preview').set(as('analyst'))
        .send({ channel: 'sms', body: 'City Police: don\u2019t reply \u2014 call 101\u2026' }).expect(200);
      expect(res.body.encoding).toBe('UCS-2');
      const chars = Object.fromEntries(res.body.nonGsmCharacters.map((c: { char: string; suggestion?: string }) => [c.char, c.suggestion]));
      expect(chars).toMatchObject({ '\u2019': "'", '\u2014': '-', '\u2026': '...' });
    });

    it('lists each content rule broken', async () => {
      const res = await t.http().post('/api/templates/preview').set(as('operator'))
        .send({ channel: 'sms', body: 'Your account is at risk. Reply with your PIN or visit https://secure-bank-login.com now' }).expect(200);
      const rules = res.body.violations.map((v: { rule: string }) => v.rule).sort();
      expect(rules).toEqual(['asks_for_secret', 'link_not_allowed', 'sender_not_named']);
    });

    it('answers 400 for an unknown placeholder, naming it', async () => {
      const res = await t.http().post('/api/templates/preview').set(as('operator')).send({ channel: 'sms', body: 'City Police ((refrence))' }).expect(400);
      expect(res.body.message).toContain('((refrence))');
    });

    it('previews an email with its subject', async () => {
      const res = await t.http().post('/api/templates/preview').set(as('operator')).send({ channel: 'email', ...EMAIL }).expect(200);
      expect(res.body.rendered.subject).toMatch(/^City Police: a warning about calls from /);
      expect(res.body.violations).toEqual([]);
    });

    it.each([
      [{ channel: 'fax', body: 'x' }, 'channel must be sms or email'],
      [{ channel: 'sms' }, 'body must be text'],
      [{ channel: 'sms', body: 'x', extra: 1 }, 'property extra should not exist'],
    ])('rejects %j', async (payload, message) => {
      const res = await t.http().post('/api/templates/preview').set(as('operator')).send(payload).expect(400);
      expect(res.body.message).toContain(message);
    });
  });

  describe('creating and editing', () => {
    it('creates a draft with the default send window, audited', async () => {
      const c = await create(tag());
      const res = await t.http().get(`/api/campaigns/${c.id}`).set(as('analyst')).expect(200);
      expect(res.body).toMatchObject({ status: 'draft', channels: ['sms'], channelStrategy: 'all', allowedActions: ['edit', 'submit', 'cancel'] });
      expect(res.body.sendWindow).toMatchObject({ start: '09:00', end: '20:00', timezone: 'Europe/London' });
      const [a] = await t.ds.query(`SELECT actor_id FROM audit_events WHERE action = 'campaign.created' AND subject_id = $1`, [c.id]);
      expect(a.actor_id).toBe(ids.operator);
    });

    it.each([
      [{ channels: ['sms'], sms: undefined }, 'sms.body is required when channels include sms'],
      [{ channels: ['email'] }, 'email.subject and email.body are required'],
      [{ channels: [] }, 'channels must name at least one channel'],
      [{ channels: ['sms', 'sms'] }, 'channels lists a channel twice'],
      [{ channels: ['pigeon'] }, 'channels must be sms and/or email'],
      [{ sendWindow: { start: '9am', end: '20:00', timezone: 'Europe/London', days: ['mon'] } }, 'sendWindow.start must be a 24-hour time'],
      [{ sendWindow: { start: '09:00', end: '20:00', timezone: 'Mars/Olympus', days: ['mon'] } }, 'not a known time zone'],
      [{ sendWindow: { start: '09:00', end: '09:00', timezone: 'Europe/London', days: ['mon'] } }, 'starts and ends at the same time'],
      [{ sendWindow: { start: '09:00', end: '20:00', timezone: 'Europe/London', days: ['someday'] } }, 'sendWindow.days must be among'],
      [{ startAt: '2020-01-01T10:00:00Z' }, 'startAt is in the past'],
      [{ startAt: 'tomorrow' }, 'startAt must be an ISO 8601 date and time'],
      [{ audience: { limit: 0 } }, 'audience.limit must be from 1'],
      [{ audience: { calledAfter: '2024-01-01', calledBefore: '2023-01-01' } }, 'calledAfter must be before'],
      [{ channelStrategy: 'some' }, 'channelStrategy must be all or first_available'],
      [{ name: '' }, 'name must not be empty'],
      [{ colour: 'blue' }, 'property colour should not exist'],
      [{ sms: { body: 'Hello ((name)), City Police here' } }, '((name))'],
      [{ sms: { body: 'Please confirm your PIN to City Police at https://bit.ly/x' } }, 'content rule'],
    ] as Array<[Record<string, unknown>, string]>)('refuses %j with a message, writing nothing', async (extra, message) => {
      const name = `bad-${tag()}`;
      const res = await t.http().post('/api/campaigns').set(as('operator')).send({ ...body(tag()), ...extra, ...(extra.name === '' ? {} : { name }) });
      expect(res.status).toBe(400);
      expect(res.body.message).toContain(message);
      expect(await t.ds.query(`SELECT 1 FROM campaigns WHERE name = $1`, [name])).toHaveLength(0);
    });

    it('names every content rule broken in the 400', async () => {
      const res = await t.http().post('/api/campaigns').set(as('operator'))
        .send(body(tag(), { sms: { body: 'Send us your card number at https://evil.example.com' } })).expect(400);
      expect(res.body.violations.map((v: { rule: string }) => v.rule).sort()).toEqual(['asks_for_secret', 'link_not_allowed', 'sender_not_named']);
    });

    it('analysts cannot create', async () => {
      await t.http().post('/api/campaigns').set(as('analyst')).send(body(tag())).expect(403);
    });

    it('editing a submitted campaign sends it back to draft and clears the approval trail', async () => {
      const c = await create(tag());
      await t.http().post(`/api/campaigns/${c.id}/submit`).set(as('operator')).expect(200);
      const res = await t.http().patch(`/api/campaigns/${c.id}`).set(as('operator')).send({ name: 'Renamed' }).expect(200);
      expect(res.body).toMatchObject({ status: 'draft', name: 'Renamed', submittedBy: null, version: c.version + 2 });
    });

    it('editing an approved campaign sends it back to draft; a bad edit changes nothing', async () => {
      const c = await approved(tag());
      await t.http().patch(`/api/campaigns/${c.id}`).set(as('operator')).send({ sms: { body: 'no sender named here' } }).expect(400);
      expect((await t.http().get(`/api/campaigns/${c.id}`).set(as('operator'))).body.status).toBe('approved');
      const res = await t.http().patch(`/api/campaigns/${c.id}`).set(as('operator')).send({ audience: { institution: 'other', limit: 5 } }).expect(200);
      expect(res.body).toMatchObject({ status: 'draft', approvedBy: null, audience: { institution: 'other', limit: 5 } });
    });

    it('lists campaigns newest first with a cursor', async () => {
      await create(tag());
      await create(tag());
      const first = await t.http().get('/api/campaigns?limit=1').set(as('analyst')).expect(200);
      expect(first.body.items).toHaveLength(1);
      const second = await t.http().get(`/api/campaigns?limit=1&cursor=${first.body.nextCursor}`).set(as('analyst')).expect(200);
      expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
      await t.http().get('/api/campaigns?cursor=junk').set(as('analyst')).expect(400);
    });

    it('answers 404 for unknown and malformed ids', async () => {
      await t.http().get(`/api/campaigns/${randomUUID()}`).set(as('operator')).expect(404);
      await t.http().get(`/api/campaigns/not-an-id`).set(as('operator')).expect(404);
      await t.http().post(`/api/campaigns/${randomUUID()}/submit`).set(as('operator')).expect(404);
    });
  });

  describe('the state machine over HTTP', () => {
    it('goes draft → pending_approval → approved → running ↔ paused → cancelled, each move audited with its actor', async () => {
      const inst = tag();
      await seedVictims(inst, [{}, {}]);
      const c = await create(inst);
      const step = async (action: string, who: string, status: string) => {
        const res = await t.http().post(`/api/campaigns/${c.id}/${action}`).set(as(who));
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.status).toBe(status);
      };
      await step('submit', 'operator', 'pending_approval');
      await step('approve', 'supervisor', 'approved');
      await step('launch', 'supervisor2', 'running');
      await step('pause', 'supervisor', 'paused');
      await step('resume', 'admin', 'running');
      await step('cancel', 'supervisor', 'cancelled');
      const audit = await t.ds.query(`SELECT action, actor_id FROM audit_events WHERE subject_id = $1 ORDER BY id`, [c.id]);
      expect(audit.map((a: { action: string }) => a.action)).toEqual([
        'campaign.created', 'campaign.submitted', 'campaign.approved', 'campaign.launched', 'campaign.paused', 'campaign.resumed', 'campaign.cancelled',
      ]);
      expect(audit.map((a: { actor_id: string }) => a.actor_id)).toEqual([ids.operator, ids.operator, ids.supervisor, ids.supervisor2, ids.supervisor, ids.admin, ids.supervisor]);
      // Cancel leaves nothing waiting.
      const left = await t.ds.query(`SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1 AND status IN ('pending','queued')`, [c.id]);
      expect(left[0].n).toBe(0);
    });

    it('refuses self-approval, by the author or the submitter', async () => {
      const c = await create(tag(), {}, 'supervisor');
      await t.http().post(`/api/campaigns/${c.id}/submit`).set(as('supervisor')).expect(200);
      const res = await t.http().post(`/api/campaigns/${c.id}/approve`).set(as('supervisor')).expect(403);
      expect(res.body.message).toMatch(/another supervisor or admin must approve/);
      const d = await create(tag());
      await t.http().post(`/api/campaigns/${d.id}/submit`).set(as('supervisor2')).expect(200);
      await t.http().post(`/api/campaigns/${d.id}/approve`).set(as('supervisor2')).expect(403);
      await t.http().post(`/api/campaigns/${d.id}/approve`).set(as('admin')).expect(200);
    });

    it('operators cannot approve, launch, pause or cancel', async () => {
      const c = await create(tag());
      for (const action of ['approve', 'launch', 'pause', 'resume', 'cancel']) {
        await t.http().post(`/api/campaigns/${c.id}/${action}`).set(as('operator')).expect(403);
      }
      await t.http().post(`/api/campaigns/${c.id}/submit`).set(as('analyst')).expect(403);
    });

    it('answers 409 to every illegal move and changes nothing', async () => {
      const c = await create(tag());
      const before = (await t.http().get(`/api/campaigns/${c.id}`).set(as('admin'))).body;
      for (const action of ['approve', 'launch', 'pause', 'resume']) {
        const res = await t.http().post(`/api/campaigns/${c.id}/${action}`).set(as('admin')).expect(409);
        expect(res.body.message).toContain('The campaign is draft');
      }
      await t.http().post(`/api/campaigns/${c.id}/submit`).set(as('operator')).expect(200);
      await t.http().post(`/api/campaigns/${c.id}/submit`).set(as('operator')).expect(409);
      await t.http().post(`/api/campaigns/${c.id}/cancel`).set(as('admin')).expect(200);
      for (const action of ['submit', 'approve', 'launch', 'pause', 'resume', 'cancel']) {
        await t.http().post(`/api/campaigns/${c.id}/${action}`).set(as('admin')).expect((r) => expect([409, 403]).toContain(r.status));
      }
      await t.http().patch(`/api/campaigns/${c.id}`).set(as('admin')).send({ name: 'late edit' }).expect(409);
      const after = (await t.http().get(`/api/campaigns/${c.id}`).set(as('admin'))).body;
      expect(after).toMatchObject({ status: 'cancelled', name: before.name, version: before.version + 2 });
      const moves = await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE subject_id = $1`, [c.id]);
      expect(moves[0].n).toBe(3);
    });

    it('refuses to launch an empty audience', async () => {
      const c = await approved(tag());
      const res = await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2')).expect(409);
      expect(res.body.message).toMatch(/audience is empty/);
      expect((await t.http().get(`/api/campaigns/${c.id}`).set(as('admin'))).body.status).toBe('approved');
    });
  });

  describe('launch', () => {
    it('accounts for every audience member: queued, or suppressed with the reason', async () => {
      const inst = tag();
      const opted = mobile();
      const capped = mobile();
      const [ok, landline, suppressed, optedOut, cappedId, emailOnly, both, nothing] = await seedVictims(inst, [
        { email: null },
        { type: 'fixed_line' },
        { phone: opted },
        { status: 'opted_out' },
        { phone: capped },
        { type: 'fixed_line', email: `only-${inst}@example.org` },
        { email: `Both-${inst}@Example.org` },
        { type: 'other', email: null },
      ]);
      // Not an opt-out reason: an opt-out would also make this SMS-only victim opted_out (opt-outs.test.ts).
      await t.ds.query(`INSERT INTO suppressions (channel, address, reason) VALUES ('sms', $1, 'do_not_contact')`, [opted]);
      // Two messages from another campaign within the cap period: the cap (2 per 7 days) is reached.
      const other = await create(`${inst}x`);
      await t.ds.query(
        `INSERT INTO messages (campaign_id, victim_id, channel, address, status, body, sent_at)
         VALUES ($1, $2, 'sms', $3, 'delivered', 'x', now() - interval '1 day'), ($1, $2, 'email', 'c@example.org', 'sent', 'x', now() - interval '2 days')`,
        [other.id, cappedId, capped],
      );
      const c = await approved(inst, { channels: ['sms', 'email'], email: EMAIL, sendWindow: { start: '00:00', end: '23:59', timezone: 'Europe/London', days: [...WEEKDAYS] } });

      const preview = await t.http().get(`/api/campaigns/${c.id}/preview`).set(as('analyst')).expect(200);
      const launch = await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2'));
      expect(launch.status, JSON.stringify(launch.body)).toBe(200);
      expect(launch.body.audienceSize).toBe(8);

      const rows = await messages(c.id);
      const byVictim = (id: string) => rows.filter((r) => r.victim_id === id).map((r) => `${r.channel}:${r.status}:${r.block_reason ?? ''}`).sort();
      expect(new Set(rows.map((r) => r.victim_id)).size).toBe(8);
      expect(byVictim(ok)).toEqual(['sms:queued:']);
      expect(byVictim(landline)).toEqual(['sms:suppressed:address_unusable:not_a_mobile']);
      expect(byVictim(suppressed)).toEqual(['sms:suppressed:suppressed:do_not_contact']);
      expect(byVictim(optedOut)).toEqual(['sms:suppressed:opted_out']);
      expect(byVictim(cappedId)).toEqual(['sms:suppressed:frequency_cap:2 in 7 days']);
      expect(byVictim(emailOnly)).toEqual(['email:queued:', 'sms:suppressed:address_unusable:not_a_mobile']);
      expect(byVictim(both)).toEqual(['email:queued:', 'sms:queued:']);
      expect(byVictim(nothing)).toEqual(['sms:suppressed:address_unusable:not_a_mobile']);

      // Rendered per victim; the email address lower-cased.
      const [victim] = await t.ds.query(`SELECT reference_code FROM victims WHERE id = $1`, [both]);
      const bothRows = rows.filter((r) => r.victim_id === both);
      expect(bothRows.find((r) => r.channel === 'sms')!.body).toContain(victim.reference_code);
      expect(bothRows.find((r) => r.channel === 'sms')!.body).toContain('Camptest Bank');
      expect(bothRows.find((r) => r.channel === 'email')).toMatchObject({ address: `both-${inst}@example.org`, subject: 'City Police: a warning about calls from Camptest Bank' });

      // The preview planned exactly what the launch did.
      expect(preview.body.audience).toBe(8);
      expect(preview.body.perChannel.sms.queued).toBe(2);
      expect(preview.body.perChannel.email.queued).toBe(2);
      expect(preview.body.blocked).toEqual(launch.body.launch.blocked);
      expect(preview.body.eta.text).toMatch(/^finishes around \w{3} \d{1,2} \w{3}, \d\d:\d\d$/);
      expect(preview.body.sms.segmentsPerMessage).toBeGreaterThanOrEqual(1);

      // One job per queued message, id derived from the message id.
      for (const r of rows.filter((x) => x.status === 'queued')) {
        const job = await queue(r.channel as 'sms').getJob(messageJobId(r.id));
        expect(job?.data).toEqual({ messageId: r.id });
      }
      const [audit] = await t.ds.query(`SELECT details FROM audit_events WHERE action = 'campaign.launched' AND subject_id = $1`, [c.id]);
      expect(audit.details.audience).toBe(8);
    });

    it('first_available picks the first channel the gate lets through', async () => {
      const inst = tag();
      const phone = mobile();
      const [smsBlocked, smsFine] = await seedVictims(inst, [{ phone, email: `fa-${inst}@example.org` }, { email: `fb-${inst}@example.org` }]);
      await t.ds.query(`INSERT INTO suppressions (channel, address, reason) VALUES ('sms', $1, 'do_not_contact')`, [phone]);
      const c = await approved(inst, { channels: ['sms', 'email'], channelStrategy: 'first_available', email: EMAIL, sendWindow: { start: '00:00', end: '23:59', timezone: 'UTC', days: [...WEEKDAYS] } });
      await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2')).expect(200);
      const rows = await messages(c.id);
      expect(rows.filter((r) => r.victim_id === smsBlocked).map((r) => `${r.channel}:${r.status}`)).toEqual(['email:queued']);
      expect(rows.filter((r) => r.victim_id === smsFine).map((r) => `${r.channel}:${r.status}`)).toEqual(['sms:queued']);
    });

    it('defers every message to the next window when the window is closed, with delayed jobs', async () => {
      const inst = tag();
      await seedVictims(inst, [{}, {}, {}]);
      // A window that opens only on the day after tomorrow: closed now, whatever the time.
      const day = WEEKDAYS[(new Date().getUTCDay() + 2) % 7];
      const window = { start: '10:00', end: '11:00', timezone: 'UTC', days: [day] };
      const c = await approved(inst, { sendWindow: window });
      const res = await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2')).expect(200);
      expect(res.body.launch.perChannel.sms).toMatchObject({ queued: 3, deferred: 3, sendNow: 0 });
      const expected = nextWindowStart(new Date(), window).getTime();
      for (const r of await messages(c.id)) {
        expect(r.status).toBe('queued');
        expect(r.not_before!.getTime()).toBe(expected);
        const job = await queue('sms').getJob(messageJobId(r.id));
        expect(await job!.getState()).toBe('delayed');
        expect(job!.opts.delay).toBeGreaterThan(24 * 3600 * 1000 - 60_000);
      }
    });

    it('a campaign starting later is scheduled, its messages not before the start', async () => {
      const inst = tag();
      await seedVictims(inst, [{}]);
      const startAt = new Date(Date.now() + 3 * 86_400_000);
      startAt.setUTCHours(12, 0, 0, 0);
      const c = await approved(inst, { startAt: startAt.toISOString(), sendWindow: { start: '09:00', end: '20:00', timezone: 'UTC', days: [...WEEKDAYS] } });
      const res = await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2')).expect(200);
      expect(res.body.status).toBe('scheduled');
      const [m] = await messages(c.id);
      expect(m.not_before!.toISOString()).toBe(startAt.toISOString());
    });

    it('launching twice (even at once) creates nothing twice', async () => {
      const inst = tag();
      await seedVictims(inst, Array.from({ length: 20 }, () => ({})));
      const c = await approved(inst, { sendWindow: { start: '00:00', end: '23:59', timezone: 'UTC', days: [...WEEKDAYS] } });
      const [a, b] = await Promise.all([
        t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2')),
        t.http().post(`/api/campaigns/${c.id}/launch`).set(as('admin')),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('admin')).expect(409);
      const rows = await messages(c.id);
      expect(rows).toHaveLength(20);
      // Offering the jobs again adds none: the job id is the message's.
      const counts = await queue('sms').getJobCounts('waiting', 'delayed', 'prioritized');
      const { CampaignLaunchService } = await import('../../src/modules/campaigns/campaign-launch.service.js');
      expect(await t.app.get(CampaignLaunchService).enqueueQueued(c.id)).toBe(20);
      expect(await queue('sms').getJobCounts('waiting', 'delayed', 'prioritized')).toEqual(counts);
      const launched = await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'campaign.launched' AND subject_id = $1`, [c.id]);
      expect(launched[0].n).toBe(1);
    });

    it('respects the audience limit, highest priority first', async () => {
      const inst = tag();
      const victims = await seedVictims(inst, [{ score: 10 }, { score: 30 }, { score: 20 }]);
      const c = await approved(inst, { audience: { institution: inst, limit: 2 }, sendWindow: { start: '00:00', end: '23:59', timezone: 'UTC', days: [...WEEKDAYS] } });
      await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2')).expect(200);
      expect((await messages(c.id)).map((r) => r.victim_id).sort()).toEqual([victims[1], victims[2]].sort());
    });

    it('leaves out victims contacted recently when asked', async () => {
      const inst = tag();
      const [recent, fresh] = await seedVictims(inst, [{}, {}]);
      const other = await create(`${inst}x`);
      await t.ds.query(`INSERT INTO messages (campaign_id, victim_id, channel, address, status, body, sent_at) VALUES ($1, $2, 'sms', 'x', 'sent', 'x', now() - interval '3 days')`, [other.id, recent]);
      const c = await approved(inst, { audience: { institution: inst, excludeContactedWithinDays: 5 }, sendWindow: { start: '00:00', end: '23:59', timezone: 'UTC', days: [...WEEKDAYS] } });
      await t.http().post(`/api/campaigns/${c.id}/launch`).set(as('supervisor2')).expect(200);
      expect((await messages(c.id)).map((r) => r.victim_id)).toEqual([fresh]);
    });
  });

  describe('provider rates', () => {
    it('an admin changes them at runtime: stored, audited, and set as the queues\u2019 global rate limit', async () => {
      const before = await t.http().get('/api/settings/provider-rates').set(as('analyst')).expect(200);
      expect(before.body).toMatchObject({ sms: expect.any(Number), email: expect.any(Number) });
      await t.http().put('/api/settings/provider-rates').set(as('supervisor')).send({ sms: 5, email: 7 }).expect(403);
      await t.http().put('/api/settings/provider-rates').set(as('admin')).send({ sms: 0, email: 7 }).expect(400);
      const res = await t.http().put('/api/settings/provider-rates').set(as('admin')).send({ sms: 5, email: 7 }).expect(200);
      expect(res.body).toMatchObject({ sms: 5, email: 7, source: 'admin', updatedBy: ids.admin, appliedToQueues: true });
      expect(await queue('sms').getGlobalRateLimit()).toMatchObject({ max: 5, duration: 1000 });
      expect(await queue('email').getGlobalRateLimit()).toMatchObject({ max: 7, duration: 1000 });
      const [a] = await t.ds.query(`SELECT details FROM audit_events WHERE action = 'settings.provider_rates_changed' ORDER BY id DESC LIMIT 1`);
      expect(a.details.to).toEqual({ sms: 5, email: 7 });
    });
  });
});
