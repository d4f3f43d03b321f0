import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIORITY_SCORE_SQL, priorityScore } from '../../src/common/scoring.js';
import type { ImportView } from '../../src/modules/evidence/evidence-imports.service.js';
import { allPages } from '../support/paging.js';
import { startTestApp, TestApp } from '../support/test-app.js';

// Victims and call records are global tables shared with every other test file of the
// run, and matching covers all call records. Every assertion here is about this file's
// own numbers (UK mobiles 07781 2xxxxx and the landline / foreign numbers below).
const CALLS_HEADER = 'call_id,started_at,duration_seconds,account_id,caller_id,target_number';
const CONTACTS_HEADER = 'phone,email,full_name,source';
const N = {
  v1: '+447781200001', // five calls in five written forms, barclays + hsbc, two accounts
  v2: '+447781200002', // one call of 59 s: no long call
  v3: '+441184960502', // a landline
  v4: '+353851234502', // a foreign mobile
  v5: '+447781200005', // called in 2021 only
  v6: '+447781200006', // appears only in the second import
};
const MINE = Object.values(N);
const REFERENCE_CODE = /^[346789ABCDEFGHJKMNPQRTWXY]{12}$/;
const dir = mkdtempSync(path.join(tmpdir(), 'victims-test-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tag = () => randomUUID().slice(0, 8);

interface VictimView {
  id: string;
  phone: string;
  phoneType: string;
  email: string | null;
  fullName: string | null;
  referenceCode: string;
  status: string;
  callCount: number;
  totalCallSeconds: number;
  longestCallSeconds: number;
  firstCallAt: string;
  lastCallAt: string;
  institutions: string[];
  accountCount: number;
  priorityScore: number;
  channels: string[];
  masked: boolean;
}

function writeCsv(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('PRIORITY_SCORE_SQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('computes in Postgres exactly what priorityScore computes', async () => {
    const samples: Array<[number, number, number]> = [];
    for (const longest of [0, 1, 30, 59, 60, 61, 600, 3599, 3600, 3601, 604_800]) {
      for (const [calls, accounts] of [
        [1, 1],
        [0, 0],
        [2, 1],
        [51, 11],
        [52, 12],
        [1000, 3],
      ] as const) {
        samples.push([longest, calls, accounts]);
      }
    }
    const values = samples.map((_, i) => `($${3 * i + 1}::int, $${3 * i + 2}::int, $${3 * i + 3}::int)`).join(', ');
    const rows: Array<{ score: number }> = await t.ds.query(
      `SELECT ${PRIORITY_SCORE_SQL} AS score FROM (VALUES ${values}) AS t(longest, call_count, account_count)`,
      samples.flat(),
    );
    expect(samples.length).toBeGreaterThanOrEqual(30);
    expect(rows.map((r) => r.score)).toEqual(
      samples.map(([longestCallSeconds, callCount, accountCount]) => priorityScore({ longestCallSeconds, callCount, accountCount })),
    );
  });
});

describe('victims: matching, contacts, queries and masking', () => {
  let t: TestApp;
  let operator: { id: string; token: string };
  let analyst: { id: string; token: string };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startTestApp();
    [operator, analyst] = await Promise.all([t.staff('operator'), t.staff('analyst')]);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function waitFor(route: string, id: string): Promise<ImportView> {
    for (let i = 0; i < 400; i++) {
      const res = await t.http().get(`${route}/${id}`).set(as(operator.token)).expect(200);
      if (['completed', 'failed', 'duplicate'].includes(res.body.status)) return res.body as ImportView;
      await sleep(50);
    }
    throw new Error(`import ${id} did not finish`);
  }
  async function importFile(route: '/api/evidence/imports' | '/api/contacts/imports', file: string): Promise<ImportView> {
    const res = await t.http().post(route).set(as(operator.token)).attach('file', file).expect(202);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    return waitFor(route, res.body.id);
  }
  /** POST /api/victims/match and wait until the worker has matched. */
  async function match(): Promise<void> {
    const count = async () =>
      (await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'victims.matched' AND actor_id = $1`, [operator.id]))[0].n as number;
    const before = await count();
    const res = await t.http().post('/api/victims/match').set(as(operator.token)).expect(202);
    expect(res.body).toMatchObject({ jobId: expect.anything(), status: 'queued' });
    for (let i = 0; i < 400; i++) {
      if ((await count()) > before) return;
      await sleep(50);
    }
    throw new Error('matching did not finish');
  }
  const rowsFor = async (numbers = MINE) =>
    t.ds.query(`SELECT * FROM victims WHERE phone_e164 = ANY ($1) ORDER BY phone_e164`, [numbers]) as Promise<Array<Record<string, any>>>;
  const byPhone = async () => new Map((await rowsFor()).map((r) => [r.phone_e164 as string, r]));

  /** Every page of GET /api/victims?query, checking the order and that no victim repeats. */
  async function listAll(query: Record<string, string | number>, token = operator.token, limit = 500): Promise<VictimView[]> {
    const items = await allPages<VictimView>(t, '/api/victims', query, token, limit);
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1], items[i]];
      expect(a.priorityScore > b.priorityScore || (a.priorityScore === b.priorityScore && a.id > b.id)).toBe(true);
    }
    return items;
  }
  const mine = (items: VictimView[]) => items.filter((v) => MINE.includes(v.phone)).map((v) => v.phone).sort();

  // ---- first import and match -------------------------------------------------
  const run = tag();
  let first: ImportView;
  let contacts: ImportView;
  let contactsFile: string;
  const refs = new Map<string, string>();

  beforeAll(async () => {
    first = await importFile(
      '/api/evidence/imports',
      writeCsv(`calls-1-${run}.csv`, [
        CALLS_HEADER,
        `${run}-1,2022-03-01T10:00:00Z,10,acct-a,+443069990101,07781 200001`,
        `${run}-2,2022-03-02T10:00:00Z,75,acct-a,+443069990101,+44 7781 200001`,
        `${run}-3,2022-03-03T10:00:00Z,30,acct-b,+443069990102,0044 7781-200-001`,
        `${run}-4,2022-03-04T10:00:00Z,5,acct-b,+443069990102,447781200001`,
        `${run}-5,2022-03-05T10:00:00Z,20,acct-a,withheld,+44 (0)7781 200001`,
        `${run}-6,2022-03-06T10:00:00Z,59,acct-c,+443069990103,07781200002`,
        `${run}-7,2022-03-07T10:00:00Z,300,acct-c,,0118 496 0502`,
        `${run}-8,2022-03-08T10:00:00Z,90,acct-c,,+353 85 123 4502`,
        `${run}-9,2021-06-01T10:00:00Z,65,acct-d,,07781 200005`,
        `${run}-10,2021-06-01T10:00:00Z,65,acct-d,,07781 2OOOO5`,
        `${run}-11,2021-06-01T10:00:00Z,65,acct-d,,07781200005 OR 1=1`,
      ]),
    );
    await match();
    for (const r of await rowsFor()) refs.set(r.phone_e164, r.reference_code);
  });

  it('the import accepted the good rows and rejected the junk with line numbers', () => {
    expect(first).toMatchObject({ status: 'completed', rowsAccepted: 9, rowsRejected: 2 });
    expect(first.errors.map((e) => [e.line, e.reason])).toEqual([
      [11, 'target_number: not a phone number'],
      [12, 'target_number: not a phone number'],
    ]);
  });

  it('one victim per number however it was written, with call count, durations, first/last call, institutions and accounts', async () => {
    const v = await byPhone();
    expect([...v.keys()].sort()).toEqual([N.v1, N.v2, N.v3, N.v4, N.v5].sort());
    expect(v.get(N.v1)).toMatchObject({
      phone_type: 'mobile',
      status: 'identified',
      call_count: 5,
      total_call_seconds: '140',
      longest_call_seconds: 75,
      institutions: ['barclays', 'hsbc'],
      account_count: 2,
      channels: ['sms'],
      priority_score: priorityScore({ longestCallSeconds: 75, callCount: 5, accountCount: 2 }),
    });
    expect(v.get(N.v1)!.first_call_at.toISOString()).toBe('2022-03-01T10:00:00.000Z');
    expect(v.get(N.v1)!.last_call_at.toISOString()).toBe('2022-03-05T10:00:00.000Z');
    expect(v.get(N.v2)).toMatchObject({ call_count: 1, longest_call_seconds: 59, institutions: ['lloyds'], priority_score: priorityScore({ longestCallSeconds: 59, callCount: 1, accountCount: 1 }) });
    expect(v.get(N.v3)).toMatchObject({ phone_type: 'fixed_line', channels: [], longest_call_seconds: 300, institutions: [] });
    expect(v.get(N.v4)).toMatchObject({ phone_type: 'mobile', longest_call_seconds: 90 });
    for (const r of v.values()) expect(r.reference_code).toMatch(REFERENCE_CODE);
    expect(new Set([...v.values()].map((r) => r.reference_code)).size).toBe(v.size);
  });

  it('a long call outranks any number of short ones', async () => {
    const v = await byPhone();
    for (const long of [N.v1, N.v3, N.v4, N.v5]) expect(v.get(long)!.priority_score).toBeGreaterThan(v.get(N.v2)!.priority_score);
  });

  it('POST /api/victims/match is for operators and above', async () => {
    await t.http().post('/api/victims/match').set(as(analyst.token)).expect(403);
    await t.http().post('/api/victims/match').expect(401);
  });

  // ---- contacts ------------------------------------------------------------------

  it('a contacts import validates and lower-cases emails, links contacts to victims and counts those that match none', async () => {
    contactsFile = writeCsv(`contacts-${run}.csv`, [
      CONTACTS_HEADER,
      '+44 7781 200001,Jane.Doe@Example.COM,Jane Doe,victim_report', // 2: victim v1
      '07781 200002,,No Email,bank', // 3: victim v2, no email
      '07781 299999,nobody@example.com,Nobody,bank', // 4: no such victim
      '07781 200006,later@example.org,Later Victim,victim_report', // 5: a victim only after the next import
      'unknown,x@example.com,Junk,bank', // 6: bad phone
      '07781 200005,not-an-email,Bad Email,bank', // 7: bad email
      `"07781200005'; DROP TABLE contacts; --",sql@example.com,Bobby,bank`, // 8: SQL
      '07781 200005,a@example.com', // 9: too few fields
    ]);
    contacts = await importFile('/api/contacts/imports', contactsFile);
    expect(contacts).toMatchObject({ kind: 'contacts', status: 'completed', rowsTotal: 8, rowsAccepted: 4, rowsRejected: 4 });
    expect(contacts.errors.map((e) => [e.line, e.reason])).toEqual([
      [6, 'phone: not a phone number'],
      [7, 'email is not a valid address'],
      [8, 'phone: not a phone number'],
      [9, 'the row has 2 fields but the header has 4'],
    ]);
    expect(contacts.summary).toEqual({ matchedVictim: 2, unmatched: 2, victimsEnriched: 2 });

    const stored = await t.ds.query(`SELECT line_no, phone_e164, email, full_name, source FROM contacts WHERE import_id = $1 ORDER BY line_no`, [contacts.id]);
    expect(stored).toEqual([
      { line_no: 2, phone_e164: N.v1, email: 'jane.doe@example.com', full_name: 'Jane Doe', source: 'victim_report' },
      { line_no: 3, phone_e164: N.v2, email: null, full_name: 'No Email', source: 'bank' },
      { line_no: 4, phone_e164: '+447781299999', email: 'nobody@example.com', full_name: 'Nobody', source: 'bank' },
      { line_no: 5, phone_e164: N.v6, email: 'later@example.org', full_name: 'Later Victim', source: 'victim_report' },
    ]);
    const v = await byPhone();
    expect(v.get(N.v1)).toMatchObject({ email: 'jane.doe@example.com', full_name: 'Jane Doe', channels: ['sms', 'email'] });
    expect(v.get(N.v2)).toMatchObject({ email: null, full_name: 'No Email', channels: ['sms'] });
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM victims WHERE phone_e164 = '+447781299999'`);
    expect(n).toBe(0); // a contact never creates a victim
  });

  it('the same contacts file again imports nothing; a wrong header keeps nothing', async () => {
    const again = await importFile('/api/contacts/imports', contactsFile);
    expect(again).toMatchObject({ status: 'duplicate', duplicateOf: contacts.id });
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM contacts WHERE import_id = $1`, [again.id]);
    expect(n).toBe(0);

    const bad = await importFile('/api/contacts/imports', writeCsv(`contacts-bad-${run}.csv`, ['phone,mail,full_name,source', '07781 200001,x@example.com,X,bank']));
    expect(bad.status).toBe('failed');
    expect(bad.failureReason).toMatch(/missing column\(s\) email/);
    const [{ kept }] = await t.ds.query(`SELECT count(*)::int AS kept FROM contacts WHERE import_id = $1`, [bad.id]);
    expect(kept).toBe(0);
    await t.http().post('/api/contacts/imports').set(as(analyst.token)).attach('file', contactsFile).expect(403);
    await t.http().get(`/api/contacts/imports/${randomUUID()}`).set(as(operator.token)).expect(404);
  });

  // ---- queries --------------------------------------------------------------------

  it('GET /api/victims filters by longest call, institution, status, channel and call dates', async () => {
    expect(mine(await listAll({}))).toEqual([N.v1, N.v2, N.v3, N.v4, N.v5].sort());
    expect(mine(await listAll({ minLongestCallSeconds: 60 }))).toEqual([N.v1, N.v3, N.v4, N.v5].sort());
    expect(mine(await listAll({ minLongestCallSeconds: 76 }))).toEqual([N.v3, N.v4].sort());
    expect(mine(await listAll({ institution: 'barclays' }))).toEqual([N.v1]);
    expect(mine(await listAll({ institution: 'lloyds' }))).toEqual([N.v2]);
    expect(mine(await listAll({ channel: 'email' }))).toEqual([N.v1]);
    expect(mine(await listAll({ channel: 'sms' }))).toEqual([N.v1, N.v2, N.v4, N.v5].sort());
    expect(mine(await listAll({ calledAfter: '2022-03-06' }))).toEqual([N.v2, N.v3, N.v4].sort()); // last call on or after
    expect(mine(await listAll({ calledBefore: '2022-01-01T00:00:00Z' }))).toEqual([N.v5]); // first call before
    expect(mine(await listAll({ calledAfter: '2022-03-02T00:00:00Z', calledBefore: '2022-03-07T00:00:00Z', minLongestCallSeconds: 60 }))).toEqual([N.v1]);

    await t.ds.query(`UPDATE victims SET status = 'notified' WHERE phone_e164 = $1`, [N.v5]);
    expect(mine(await listAll({ status: 'notified' }))).toEqual([N.v5]);
    expect(mine(await listAll({ status: 'identified' }))).toEqual([N.v1, N.v2, N.v3, N.v4].sort());
  });

  it('pages with a cursor in priority order, each victim once', async () => {
    const whole = await listAll({});
    const paged = await listAll({}, operator.token, 2);
    // Other test files add victims to the same database meanwhile: compare this file's own
    // victims, and require that no victim is listed twice across pages.
    const ours = (items: VictimView[]) => items.filter((v) => MINE.includes(v.phone)).map((v) => v.id);
    expect(ours(paged)).toEqual(ours(whole));
    expect(new Set(paged.map((v) => v.id)).size).toBe(paged.length);
    const first = await t.http().get('/api/victims').query({ limit: 1 }).set(as(operator.token)).expect(200);
    expect(first.body.items).toHaveLength(1);
    if (whole.length > 1) expect(first.body.nextCursor).toEqual(expect.any(String));
  });

  it.each([
    [{ minLongestCallSeconds: 'abc' }, /minLongestCallSeconds must be a whole number/],
    [{ minLongestCallSeconds: '-1' }, /minLongestCallSeconds must be a whole number, 0 or more/],
    [{ minLongestCallSeconds: '1.5' }, /minLongestCallSeconds must be a whole number/],
    [{ institution: "barclays'; DROP TABLE victims; --" }, /institution must be an institution code/],
    [{ status: 'bogus' }, /status must be one of identified, notified/],
    [{ channel: 'fax' }, /channel must be sms or email/],
    [{ calledAfter: 'yesterday' }, /calledAfter must be an ISO 8601 date/],
    [{ calledBefore: '2021-02-30' }, /calledBefore must be an ISO 8601 date/],
    [{ limit: '0' }, /limit must be a whole number from 1 to 500/],
    [{ limit: '501' }, /limit must be a whole number from 1 to 500/],
    [{ limit: 'ten' }, /limit must be a whole number/],
    [{ cursor: 'not-a-cursor' }, /cursor is not valid/],
    [{ cursor: Buffer.from(JSON.stringify(['1; DROP', 'x'])).toString('base64url') }, /cursor is not valid/],
    [{ colour: 'red' }, /colour/],
  ] as Array<[Record<string, string>, RegExp]>)('GET /api/victims?%o → 400 with a readable message', async (query, message) => {
    const res = await t.http().get('/api/victims').query(query).set(as(operator.token)).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toMatch(message);
  });

  it('GET /api/victims/:id: 404 for an unknown or malformed id', async () => {
    const res = await t.http().get(`/api/victims/${randomUUID()}`).set(as(operator.token)).expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'No victim with that id' });
    await t.http().get('/api/victims/12345').set(as(operator.token)).expect(404);
    await t.http().get(`/api/victims/${randomUUID()}`).expect(401);
  });

  // ---- masking and audit ------------------------------------------------------------

  it('operators see a victim whole, and each such read is audited', async () => {
    const v1 = (await byPhone()).get(N.v1)!;
    const res = await t.http().get(`/api/victims/${v1.id}`).set(as(operator.token)).expect(200);
    expect(res.body).toMatchObject({ id: v1.id, phone: N.v1, email: 'jane.doe@example.com', fullName: 'Jane Doe', referenceCode: v1.reference_code, masked: false, callCount: 5 });
    const viewed = await t.ds.query(`SELECT actor_type, actor_id FROM audit_events WHERE action = 'victim.viewed' AND subject_id = $1`, [v1.id]);
    expect(viewed).toEqual([{ actor_type: 'staff', actor_id: operator.id }]);

    const listedEvents = () =>
      t.ds.query(
        `SELECT details FROM audit_events
          WHERE action = 'victims.listed' AND actor_id = $1 AND details->'ids' ? $2 AND details->'filters'->>'institution' = 'barclays'
          ORDER BY id`,
        [operator.id, v1.id],
      );
    const eventsBefore = await listedEvents();
    const list = await listAll({ institution: 'barclays' });
    expect(list.find((v) => v.id === v1.id)).toMatchObject({ phone: N.v1, email: 'jane.doe@example.com', masked: false });
    const eventsAfter = await listedEvents();
    expect(eventsAfter).toHaveLength(eventsBefore.length + 1);
    expect(eventsAfter.at(-1).details).toMatchObject({ count: list.length, filters: { institution: 'barclays', limit: 500 } });
    expect(eventsAfter.at(-1).details.ids).toEqual(list.map((v) => v.id));
  });

  it('analysts see masked numbers, emails, names and reference codes, and their reads are not whole reads', async () => {
    const v1 = (await byPhone()).get(N.v1)!;
    const auditsBefore = await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND action IN ('victim.viewed', 'victims.listed')`, [analyst.id]);
    const res = await t.http().get(`/api/victims/${v1.id}`).set(as(analyst.token)).expect(200);
    expect(res.body).toMatchObject({ id: v1.id, masked: true, callCount: 5, longestCallSeconds: 75, institutions: ['barclays', 'hsbc'] });
    const body = JSON.stringify(res.body);
    expect(body).not.toContain('7781200001');
    expect(body).not.toContain('jane.doe');
    expect(body).not.toContain('Jane Doe');
    expect(body).not.toContain(v1.reference_code);
    expect(res.body.phone).toMatch(/^\+447\*+001$/);
    expect(res.body.email).toMatch(/^j\*\*\*@e\*\*\*\.com$/);
    expect(res.body.fullName).toBe('J. D.');

    const list = await listAll({ channel: 'email' }, analyst.token);
    const item = list.find((v) => v.id === v1.id)!;
    expect(item).toMatchObject({ masked: true, phone: res.body.phone, email: res.body.email });
    for (const v of list) {
      expect(v.masked).toBe(true);
      expect(v.phone).toContain('*');
    }
    const auditsAfter = await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE actor_id = $1 AND action IN ('victim.viewed', 'victims.listed')`, [analyst.id]);
    expect(auditsAfter).toEqual(auditsBefore);
  });

  // ---- matching again -----------------------------------------------------------------

  it('matching again after a new import updates the figures, adds new victims, and never duplicates a victim, changes a reference code or resets a status', async () => {
    await t.ds.query(`UPDATE victims SET status = 'responded' WHERE phone_e164 = $1`, [N.v1]);
    const before = await byPhone();
    const second = await importFile(
      '/api/evidence/imports',
      writeCsv(`calls-2-${run}.csv`, [
        CALLS_HEADER,
        `${run}-20,2022-04-01T10:00:00Z,200,acct-e,+443069990104,07781200001`,
        `${run}-21,2022-04-02T10:00:00Z,120,acct-e,+443069990104,07781 200002`,
        `${run}-22,2022-04-03T10:00:00Z,70,acct-e,,+44 7781 200006`,
        `${run}-23,2022-04-04T10:00:00Z,15,acct-e,,0044 7781 200006`,
      ]),
    );
    expect(second).toMatchObject({ status: 'completed', rowsAccepted: 4, rowsRejected: 0 });
    await match();

    const after = await byPhone();
    expect([...after.keys()].sort()).toEqual([...MINE].sort());
    const [{ dupes }] = await t.ds.query(
      `SELECT count(*)::int AS dupes FROM (SELECT phone_e164 FROM victims WHERE phone_e164 = ANY ($1) GROUP BY 1 HAVING count(*) > 1) d`,
      [MINE],
    );
    expect(dupes).toBe(0);
    for (const phone of [N.v1, N.v2, N.v3, N.v4, N.v5]) {
      expect(after.get(phone)!.id).toBe(before.get(phone)!.id);
      expect(after.get(phone)!.reference_code).toBe(refs.get(phone));
      expect(after.get(phone)!.status).toBe(before.get(phone)!.status);
    }
    expect(after.get(N.v1)).toMatchObject({
      status: 'responded',
      call_count: 6,
      total_call_seconds: '340',
      longest_call_seconds: 200,
      account_count: 3,
      institutions: ['barclays', 'hsbc', 'natwest'],
      email: 'jane.doe@example.com',
      priority_score: priorityScore({ longestCallSeconds: 200, callCount: 6, accountCount: 3 }),
    });
    expect(after.get(N.v1)!.last_call_at.toISOString()).toBe('2022-04-01T10:00:00.000Z');
    expect(after.get(N.v5)).toMatchObject({ status: 'notified', call_count: 1 });
    // v2 now has a long call: it moves into the first band
    expect(after.get(N.v2)).toMatchObject({ call_count: 2, longest_call_seconds: 120 });
    expect(after.get(N.v2)!.priority_score).toBeGreaterThanOrEqual(1_000_000);
    // v6 is new, and the contact imported before it existed is linked now
    expect(after.get(N.v6)).toMatchObject({
      status: 'identified',
      call_count: 2,
      longest_call_seconds: 70,
      email: 'later@example.org',
      full_name: 'Later Victim',
      channels: ['sms', 'email'],
    });
    expect(after.get(N.v6)!.reference_code).toMatch(REFERENCE_CODE);
  });

  it('matching with nothing new changes nothing of ours', async () => {
    const before = await rowsFor();
    await match();
    const after = await rowsFor();
    expect(after.map((r) => [r.id, r.reference_code, r.status, r.call_count, r.priority_score, r.updated_at.getTime()])).toEqual(
      before.map((r) => [r.id, r.reference_code, r.status, r.call_count, r.priority_score, r.updated_at.getTime()]),
    );
  });
});
