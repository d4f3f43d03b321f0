import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { allPages } from '../support/paging.js';
import { startTestApp, TestApp } from '../support/test-app.js';

// The suppressions table is shared with every other test file of the run: every
// assertion here is about this file's own addresses (emails tagged with `run`, and the
// UK mobiles 07723 456789 and 07781 4xxxxx).
const dir = mkdtempSync(path.join(tmpdir(), 'suppressions-test-'));
const uploadDir = mkdtempSync(path.join(tmpdir(), 'suppressions-uploads-'));
const run = randomUUID().slice(0, 8);
const mail = (name: string) => `${name}-${run}@example.com`;

interface SuppressionView {
  id: string;
  channel: 'sms' | 'email';
  address: string;
  reason: string;
  source: string;
  note: string | null;
  createdBy: string | null;
  createdAt: string;
  masked: boolean;
}

function writeCsv(name: string, lines: string[]): string {
  const file = path.join(dir, `${name}-${run}.csv`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

describe('suppressions: the do-not-contact list', () => {
  let t: TestApp;
  let admin: { id: string; token: string };
  let supervisor: { id: string; token: string };
  let operator: { id: string; token: string };
  let analyst: { id: string; token: string };
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    t = await startTestApp({ UPLOAD_DIR: uploadDir });
    [admin, supervisor, operator, analyst] = await Promise.all([t.staff('admin'), t.staff('supervisor'), t.staff('operator'), t.staff('analyst')]);
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(uploadDir, { recursive: true, force: true });
  });

  const rowsAt = (channel: string, addresses: string[]) =>
    t.ds.query(`SELECT * FROM suppressions WHERE channel = $1 AND address = ANY ($2) ORDER BY id`, [channel, addresses]) as Promise<
      Array<Record<string, any>>
    >;
  const count = async (sql: string, params: unknown[] = []) => ((await t.ds.query(sql, params))[0].n as number);
  // Other test files write suppressions at the same time: count only this file's
  // addresses, and the audit rows of this file's staff.
  const totals = async () => ({
    suppressions: await count(
      String.raw`SELECT count(*)::int AS n FROM suppressions WHERE address LIKE $1 OR address ~ '^\+4477234567\d\d$' OR address ~ '^\+4477814\d000\d$'`,
      [`%-${run}@example.%`],
    ),
    audit: await count(`SELECT count(*)::int AS n FROM audit_events WHERE action LIKE 'suppression%' AND actor_id = ANY ($1::text[])`, [
      [admin.id, supervisor.id, operator.id, analyst.id],
    ]),
  });
  const auditFor = (id: string) =>
    t.ds.query(`SELECT actor_type, actor_id, action, subject_type, details, host(ip) AS ip FROM audit_events WHERE subject_type = 'suppression' AND subject_id = $1 ORDER BY id`, [
      id,
    ]) as Promise<Array<Record<string, any>>>;

  /** Every page of GET /api/suppressions?query, checking the order and that no row repeats. */
  async function listAll(query: Record<string, string | number>, token = operator.token, limit = 500): Promise<SuppressionView[]> {
    const items = await allPages<SuppressionView>(t, '/api/suppressions', query, token, limit);
    for (let i = 1; i < items.length; i++) expect(BigInt(items[i - 1].id) > BigInt(items[i].id)).toBe(true);
    return items;
  }

  // ---- create ---------------------------------------------------------------------

  let smsId: string;

  it('an SMS address in any written form is one row in E.164, audited in the same breath', async () => {
    const first = await t
      .http()
      .post('/api/suppressions')
      .set(as(operator.token))
      .send({ channel: 'sms', address: '07723 456789', reason: 'opt_out', note: '  replied STOP  ' })
      .expect(201);
    expect(first.body).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      channel: 'sms',
      address: '+447723456789',
      reason: 'opt_out',
      source: 'staff',
      note: 'replied STOP',
      createdBy: operator.id,
      created: true,
    });
    expect(new Date(first.body.createdAt).getTime()).not.toBeNaN();
    smsId = first.body.id;

    for (const written of ['+44 7723 456789', '0044 7723-456-789', '447723456789']) {
      const again = await t.http().post('/api/suppressions').set(as(supervisor.token)).send({ channel: 'sms', address: written, reason: 'complaint' }).expect(200);
      expect(again.body).toMatchObject({ id: smsId, address: '+447723456789', reason: 'opt_out', createdBy: operator.id, created: false });
    }
    expect(await rowsAt('sms', ['+447723456789'])).toHaveLength(1);

    const audit = await auditFor(smsId);
    expect(audit).toEqual([
      {
        actor_type: 'staff',
        actor_id: operator.id,
        action: 'suppression.created',
        subject_type: 'suppression',
        details: { channel: 'sms', reason: 'opt_out', source: 'staff' },
        ip: '127.0.0.1',
      },
    ]);
    expect(JSON.stringify(audit)).not.toContain('7723');
  });

  it('an email address is trimmed and lower-cased; the same address again answers 200 created: false with no new row', async () => {
    const address = mail('Jane.Doe').replace('example.com', 'Example.COM');
    const res = await t.http().post('/api/suppressions').set(as(admin.token)).send({ channel: 'email', address: `  ${address} `, reason: 'hard_bounce' }).expect(201);
    expect(res.body).toMatchObject({ channel: 'email', address: address.toLowerCase(), reason: 'hard_bounce', source: 'staff', note: null, created: true });
    const before = await totals();
    const again = await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address: address.toUpperCase(), reason: 'complaint' }).expect(200);
    expect(again.body).toMatchObject({ id: res.body.id, address: address.toLowerCase(), reason: 'hard_bounce', created: false });
    expect(await totals()).toEqual(before);
    // The same text under the other channel is a different (and here invalid) address.
    await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'sms', address, reason: 'opt_out' }).expect(400);
  });

  it.each([
    [{ channel: 'fax', address: '07723 456780', reason: 'opt_out' }, /^channel must be sms or email$/],
    [{ channel: 'sms', address: '07723 456780', reason: 'bored' }, /^reason must be one of opt_out, hard_bounce, do_not_contact, complaint$/],
    [{ channel: 'sms', address: '07723 456780', reason: 'provider_opt_out' }, /^reason must be one of opt_out, hard_bounce, do_not_contact, complaint$/],
    [{ channel: 'sms', address: '0772', reason: 'opt_out' }, /^address is not a phone number \(too short\)$/],
    [{ channel: 'sms', address: '07723 45678O', reason: 'opt_out' }, /^address is not a phone number$/],
    [{ channel: 'sms', address: "07723456780'; DROP TABLE suppressions; --", reason: 'opt_out' }, /^address is not a phone number$/],
    [{ channel: 'sms', address: '', reason: 'opt_out' }, /^address is empty$/],
    [{ channel: 'email', address: 'not-an-email', reason: 'opt_out' }, /^address is not a valid email address$/],
    [{ channel: 'email', address: 'jane@example', reason: 'opt_out' }, /^address is not a valid email address$/],
    [{ channel: 'email', address: 'ja\u0000ne@example.com', reason: 'opt_out' }, /^address contains a NUL character/],
    [{ channel: 'email', address: `${'a'.repeat(320)}@example.com`, reason: 'opt_out' }, /^address must be at most 320 characters$/],
    [{ channel: 'sms', address: 7723456780, reason: 'opt_out' }, /^address must be text$/],
    [{ channel: 'sms', reason: 'opt_out' }, /^address is required$/],
    [{ address: '07723 456780', reason: 'opt_out' }, /^channel must be sms or email$/],
    [{ channel: 'sms', address: '07723 456780' }, /^reason must be one of/],
    [{}, /channel must be sms or email; address is required; reason must be one of/],
    [{ channel: 'sms', address: '07723 456780', reason: 'opt_out', colour: 'red' }, /property colour should not exist/],
    [{ channel: 'sms', address: '07723 456780', reason: 'opt_out', note: 'x'.repeat(501) }, /^note must be at most 500 characters$/],
    [{ channel: 'sms', address: '07723 456780', reason: 'opt_out', note: 42 }, /^note must be text$/],
  ] as Array<[Record<string, unknown>, RegExp]>)('POST %o → 400 naming the problem, nothing written', async (body, message) => {
    const before = await totals();
    const res = await t.http().post('/api/suppressions').set(as(operator.token)).send(body).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toMatch(message);
    expect(await totals()).toEqual(before);
  });

  it('a note of exactly 500 characters is fine; analysts may not add', async () => {
    const address = mail('long-note');
    await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address, reason: 'do_not_contact', note: 'n'.repeat(500) }).expect(201);
    expect((await rowsAt('email', [address]))[0].note).toHaveLength(500);
    const before = await totals();
    await t.http().post('/api/suppressions').set(as(analyst.token)).send({ channel: 'email', address: mail('analyst'), reason: 'opt_out' }).expect(403);
    await t.http().post('/api/suppressions').send({ channel: 'email', address: mail('anonymous'), reason: 'opt_out' }).expect(401);
    expect(await totals()).toEqual(before);
  });

  // ---- list ----------------------------------------------------------------------

  it('GET filters by channel, reason and address (in any written form), and pages newest first', async () => {
    const mobiles = ['07781 400001', '07781 400002', '07781 400003'];
    const created: string[] = [];
    for (const [i, address] of mobiles.entries()) {
      const res = await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'sms', address, reason: i === 0 ? 'complaint' : 'do_not_contact' }).expect(201);
      created.push(res.body.id);
    }
    const emailId = (
      await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address: mail('list'), reason: 'complaint' }).expect(201)
    ).body.id as string;
    const mine = [...created, emailId];
    const ids = (items: SuppressionView[]) => items.map((s) => s.id).filter((id) => mine.includes(id));

    expect(ids(await listAll({}))).toEqual([...mine].reverse());
    expect(ids(await listAll({ channel: 'sms' }))).toEqual([...created].reverse());
    expect(ids(await listAll({ reason: 'complaint' }))).toEqual([emailId, created[0]]);
    expect(ids(await listAll({ channel: 'sms', reason: 'do_not_contact' }))).toEqual([created[2], created[1]]);

    for (const written of ['+44 7781 400002', '07781400002', '447781400002']) {
      const res = await t.http().get('/api/suppressions').query({ address: written }).set(as(operator.token)).expect(200);
      expect(res.body.items.map((s: SuppressionView) => s.id)).toEqual([created[1]]);
    }
    const byEmail = await t.http().get('/api/suppressions').query({ address: ` ${mail('LIST').toUpperCase()}` }).set(as(operator.token)).expect(200);
    expect(byEmail.body.items.map((s: SuppressionView) => s.id)).toEqual([emailId]);
    expect((await t.http().get('/api/suppressions').query({ address: mail('list'), channel: 'email', reason: 'opt_out' }).set(as(operator.token)).expect(200)).body.items).toEqual([]);
    expect((await t.http().get('/api/suppressions').query({ address: '07781 499999' }).set(as(operator.token)).expect(200)).body.items).toEqual([]);

    // paging: limit 1 and 2 give the same rows, in the same order, as one big page
    const whole = await listAll({});
    expect((await listAll({}, operator.token, 2)).map((s) => s.id)).toEqual(whole.map((s) => s.id));
    expect((await listAll({}, operator.token, 1)).map((s) => s.id)).toEqual(whole.map((s) => s.id));
    const first = await t.http().get('/api/suppressions').query({ limit: 1 }).set(as(operator.token)).expect(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.nextCursor).toEqual(expect.any(String));
  });

  it('analysts see addresses masked; staff above see them whole', async () => {
    const whole = (await listAll({ channel: 'sms' }, operator.token)).find((s) => s.id === smsId)!;
    expect(whole).toMatchObject({ address: '+447723456789', masked: false });
    const items = await listAll({}, analyst.token);
    expect(items.length).toBeGreaterThan(0);
    for (const s of items) expect(s.masked).toBe(true);
    const sms = items.find((s) => s.id === smsId)!;
    expect(sms.address).toBe('+447******789');
    const email = items.find((s) => s.channel === 'email')!;
    expect(email.address).toMatch(/^.\*\*\*@.\*\*\*\.[a-z]+$/);
    expect(JSON.stringify(items)).not.toContain(run);
    expect(JSON.stringify(items)).not.toContain('7723456789');
  });

  it.each([
    [{ channel: 'fax' }, /^channel must be sms or email$/],
    [{ reason: 'bored' }, /^reason must be one of opt_out, hard_bounce, do_not_contact, complaint, provider_opt_out, unsubscribe, sms_stop$/],
    [{ channel: 'sms', address: 'jane@example.com' }, /^address is not a phone number$/],
    [{ channel: 'email', address: '07723 456789' }, /^address is not a valid email address$/],
    [{ address: 'nonsense' }, /^address is neither a phone number nor a valid email address$/],
    [{ limit: '0' }, /limit must be a whole number from 1 to 500/],
    [{ limit: '501' }, /limit must be a whole number from 1 to 500/],
    [{ limit: 'ten' }, /limit must be a whole number/],
    [{ cursor: 'not-a-cursor' }, /cursor is not valid/],
    [{ cursor: Buffer.from(JSON.stringify(['1; DROP TABLE suppressions'])).toString('base64url') }, /cursor is not valid/],
    [{ colour: 'red' }, /colour/],
  ] as Array<[Record<string, string>, RegExp]>)('GET ?%o → 400 with a readable message', async (query, message) => {
    const res = await t.http().get('/api/suppressions').query(query).set(as(operator.token)).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.body.message).toMatch(message);
  });

  // ---- delete ----------------------------------------------------------------------

  it('only admins delete; the row goes and the deletion is audited', async () => {
    const address = mail('to-delete');
    const id = (await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address, reason: 'complaint' }).expect(201)).body.id as string;

    await t.http().delete(`/api/suppressions/${id}`).set(as(operator.token)).expect(403);
    await t.http().delete(`/api/suppressions/${id}`).set(as(supervisor.token)).expect(403);
    await t.http().delete(`/api/suppressions/${id}`).expect(401);
    expect(await rowsAt('email', [address])).toHaveLength(1);

    const res = await t.http().delete(`/api/suppressions/${id}`).set(as(admin.token)).expect(204);
    expect(res.text).toBe('');
    expect(await rowsAt('email', [address])).toHaveLength(0);
    const audit = await auditFor(id);
    expect(audit.map((a) => a.action)).toEqual(['suppression.created', 'suppression.deleted']);
    expect(audit[1]).toMatchObject({ actor_type: 'staff', actor_id: admin.id, details: { channel: 'email', reason: 'complaint' }, ip: '127.0.0.1' });

    const again = await t.http().delete(`/api/suppressions/${id}`).set(as(admin.token)).expect(404);
    expect(again.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'No suppression with that id' });
    expect(await auditFor(id)).toHaveLength(2);
    // and it can be added again
    await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address, reason: 'opt_out' }).expect(201);
  });

  it.each(['999999999999', '0', '-1', 'abc', '1.5', randomUUID(), '99999999999999999999999'])('DELETE /api/suppressions/%s → 404', async (id) => {
    const res = await t.http().delete(`/api/suppressions/${id}`).set(as(admin.token)).expect(404);
    expect(res.body.message).toBe('No suppression with that id');
  });

  // ---- CSV import ----------------------------------------------------------------------

  /**
   * Uploads a file and, when it is accepted (202), waits for the worker to finish it and
   * answers its counts; any other status answers the error body.
   */
  async function importCsv(file: string, token = operator.token, status = 202) {
    const res = await t.http().post('/api/suppressions/imports').set(as(token)).attach('file', file).expect(status);
    if (status !== 202) return res.body;
    expect(res.body).toEqual({ id: expect.any(String), status: 'queued' });
    const view = await waitForImport(res.body.id as string);
    expect(view).toMatchObject({ id: res.body.id, status: 'completed', failureReason: null, startedAt: expect.any(String), finishedAt: expect.any(String) });
    // The worker deletes the upload just after it commits.
    await vi.waitFor(() => expect(readdirSync(uploadDir)).toEqual([]), { timeout: 5000 });
    const { rowsTotal, inserted, alreadySuppressed, rejected, errors } = view;
    return { rowsTotal, inserted, alreadySuppressed, rejected, errors };
  }
  async function waitForImport(id: string, token = analyst.token) {
    for (let i = 0; i < 600; i++) {
      const view = (await t.http().get(`/api/suppressions/imports/${id}`).set(as(token)).expect(200)).body;
      if (view.status === 'completed' || view.status === 'failed') return view;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`import ${id} did not finish`);
  }
  const importAudits = () =>
    t.ds.query(`SELECT actor_id, details, host(ip) AS ip FROM audit_events WHERE action = 'suppressions.imported' ORDER BY id`) as Promise<
      Array<Record<string, any>>
    >;

  it('a good file: columns in any order, extra columns ignored, optional note; rows kept with source import and one audit row', async () => {
    const before = (await importAudits()).length;
    const res = await importCsv(
      writeCsv('good', [
        'Reason,extra,ADDRESS,note,channel',
        `opt_out,x,07781 410001,replied STOP,sms`,
        `hard_bounce,y,${mail('Bounce').toUpperCase()},,email`,
        `do_not_contact,z,+44 7781 410002,"police request, 2024",SMS`,
      ]),
    );
    expect(res).toEqual({ rowsTotal: 3, inserted: 3, alreadySuppressed: 0, rejected: 0, errors: [] });
    const sms = await rowsAt('sms', ['+447781410001', '+447781410002']);
    expect(sms.map((r) => [r.address, r.reason, r.source, r.note, r.created_by])).toEqual([
      ['+447781410001', 'opt_out', 'import', 'replied STOP', operator.id],
      ['+447781410002', 'do_not_contact', 'import', 'police request, 2024', operator.id],
    ]);
    expect((await rowsAt('email', [mail('bounce')]))[0]).toMatchObject({ reason: 'hard_bounce', source: 'import', note: null });
    const audits = await importAudits();
    expect(audits).toHaveLength(before + 1);
    expect(audits.at(-1)).toEqual({ actor_id: operator.id, details: { inserted: 3, alreadySuppressed: 0, rejected: 0 }, ip: '127.0.0.1' });
    expect(readdirSync(uploadDir)).toEqual([]);
  });

  it('bad rows are rejected with their line numbers and reasons; good rows are kept', async () => {
    const res = await importCsv(
      writeCsv('bad-rows', [
        'channel,address,reason', // 1
        'sms,07781 420001,opt_out', // 2 good
        'fax,07781 420002,opt_out', // 3
        'sms,07781 420003,bored', // 4
        'sms,0772,opt_out', // 5
        '', // 6: blank, not a record
        'email,not-an-email,complaint', // 7
        'sms,07781 420004', // 8
        'sms,07781 420005,opt_out,extra', // 9
        '"sms","07781 420006","complaint"', // 10 good, quoted
        'email,"multi', // 11: a quoted field with a line break
        'line@example.com",opt_out', // 12
        'sms,07781 420007,provider_opt_out', // 13
        `email,${mail('good-row')},complaint`, // 14 good
      ]),
    );
    expect(res).toMatchObject({ rowsTotal: 11, inserted: 3, alreadySuppressed: 0, rejected: 8 });
    expect(res.errors).toEqual([
      { line: 3, reason: 'channel must be sms or email' },
      { line: 4, reason: 'reason must be one of opt_out, hard_bounce, do_not_contact, complaint' },
      { line: 5, reason: 'address is not a phone number (too short)' },
      { line: 7, reason: 'address is not a valid email address' },
      { line: 8, reason: 'the row has 2 fields but the header has 3' },
      { line: 9, reason: 'the row has 4 fields but the header has 3' },
      { line: 11, reason: 'address is not a valid email address' },
      { line: 13, reason: 'reason must be one of opt_out, hard_bounce, do_not_contact, complaint' },
    ]);
    expect((await rowsAt('sms', ['+447781420001', '+447781420006'])).map((r) => r.address)).toEqual(['+447781420001', '+447781420006']);
    expect(await rowsAt('email', [mail('good-row')])).toHaveLength(1);
    expect(await rowsAt('sms', ['+447781420002', '+447781420003', '+447781420004', '+447781420005', '+447781420007'])).toEqual([]);
    expect((await importAudits()).at(-1)!.details).toEqual({ inserted: 3, alreadySuppressed: 0, rejected: 8 });
    expect(readdirSync(uploadDir)).toEqual([]);
  });

  it('a wrong header is 400 and keeps nothing, not even the good rows', async () => {
    const before = await totals();
    const res = await importCsv(writeCsv('bad-header', ['channel,addr,reason', `email,${mail('never')},opt_out`]), operator.token, 400);
    const imports = await count(`SELECT count(*)::int AS n FROM suppression_imports`);
    expect(res).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(res.message).toMatch(/missing column\(s\) address/);
    const dupes = await importCsv(writeCsv('dupe-header', ['channel,address,reason,reason', `email,${mail('never')},opt_out,opt_out`]), operator.token, 400);
    expect(dupes.message).toMatch(/duplicate column\(s\) reason/);
    const empty = await importCsv(writeCsv('empty', []), operator.token, 400);
    expect(empty.message).toMatch(/The file is empty/);
    const noBreak = await importCsv(writeCsv('no-line-break', ['x'.repeat(200_000)]), operator.token, 400);
    expect(noBreak.message).toMatch(/first line is longer than 64 KiB/);
    expect(await rowsAt('email', [mail('never')])).toEqual([]);
    expect(await totals()).toEqual(before);
    // refused before anything was queued
    expect(await count(`SELECT count(*)::int AS n FROM suppression_imports`)).toBe(imports);
    expect(readdirSync(uploadDir)).toEqual([]);
  });

  it('a header with no data rows is fine: all zeros', async () => {
    const res = await importCsv(writeCsv('header-only', ['channel,address,reason,note']));
    expect(res).toEqual({ rowsTotal: 0, inserted: 0, alreadySuppressed: 0, rejected: 0, errors: [] });
    expect((await importAudits()).at(-1)!.details).toEqual({ inserted: 0, alreadySuppressed: 0, rejected: 0 });
  });

  it('duplicates within the file and of existing rows count as already suppressed; the first in the file wins', async () => {
    const res = await importCsv(
      writeCsv('dupes', [
        'channel,address,reason',
        'sms,+44 7723 456789,complaint', // 2: exists (created through the API)
        'sms,07781 430001,complaint', // 3: new
        'sms,447781430001,opt_out', // 4: same as line 3
        `email,${mail('dupe')},hard_bounce`, // 5: new
        `email,${mail('DUPE').toUpperCase()},opt_out`, // 6: same as line 5
        'sms,07781 410001,opt_out', // 7: from the good import
      ]),
    );
    expect(res).toEqual({ rowsTotal: 6, inserted: 2, alreadySuppressed: 4, rejected: 0, errors: [] });
    expect((await rowsAt('sms', ['+447781430001']))[0]).toMatchObject({ reason: 'complaint', source: 'import' });
    expect((await rowsAt('email', [mail('dupe')]))[0]).toMatchObject({ reason: 'hard_bounce' });
    expect((await rowsAt('sms', ['+447723456789']))[0]).toMatchObject({ id: smsId, reason: 'opt_out', source: 'staff' });
  });

  it('a file of several batches, with repeats across batches and more than 100 bad rows', async () => {
    const n = 12_000;
    const lines = ['channel,address,reason'];
    for (let i = 0; i < n; i++) lines.push(`email,bulk${i}-${run}@example.org,opt_out`);
    for (let i = 0; i < 50; i++) lines.push(`email,bulk${i}-${run}@example.org,complaint`); // repeats of the first batch
    for (let i = 0; i < 150; i++) lines.push(`email,junk${i},opt_out`);
    const res = await importCsv(writeCsv('bulk', lines));
    expect(res).toMatchObject({ rowsTotal: n + 200, inserted: n, alreadySuppressed: 50, rejected: 150 });
    expect(res.errors).toHaveLength(100);
    expect(res.errors[0]).toEqual({ line: n + 52, reason: 'address is not a valid email address' });
    expect(res.errors[99].line).toBe(n + 151);
    expect(await count(`SELECT count(*)::int AS n FROM suppressions WHERE address LIKE $1`, [`bulk%-${run}@example.org`])).toBe(n);
  });

  it('imports are for operators and above, and need a file', async () => {
    // An earlier test's queued import may still be deleting its upload: what matters is
    // that these refused requests add no file of their own.
    const before = new Set(readdirSync(uploadDir));
    const file = writeCsv('forbidden', ['channel,address,reason', `email,${mail('forbidden')},opt_out`]);
    await importCsv(file, analyst.token, 403);
    await t.http().post('/api/suppressions/imports').attach('file', file).expect(401);
    expect(await rowsAt('email', [mail('forbidden')])).toEqual([]);
    const none = await t.http().post('/api/suppressions/imports').set(as(operator.token)).expect(400);
    expect(none.body.message).toMatch(/multipart field named "file"/);
    expect(readdirSync(uploadDir).filter((f) => !before.has(f))).toEqual([]);
  });

  it('an import is a queued job: 202 at once, its row says queued then completed, and unknown ids are 404', async () => {
    const file = writeCsv('queued', ['channel,address,reason', `email,${mail('queued')},complaint`]);
    const res = await t.http().post('/api/suppressions/imports').set(as(operator.token)).attach('file', file).expect(202);
    const row = await t.ds.query(`SELECT requested_by, host(requested_ip) AS ip, file_name FROM suppression_imports WHERE id = $1`, [res.body.id]);
    expect(row).toEqual([{ requested_by: operator.id, ip: '127.0.0.1', file_name: `queued-${run}.csv` }]);
    const done = await waitForImport(res.body.id);
    expect(done).toMatchObject({ status: 'completed', inserted: 1, fileName: `queued-${run}.csv` });
    expect(JSON.stringify(done)).not.toContain(uploadDir); // the server's path stays on the server
    expect(await rowsAt('email', [mail('queued')])).toHaveLength(1);
    for (const id of [randomUUID(), 'nope', '1']) {
      const missing = await t.http().get(`/api/suppressions/imports/${id}`).set(as(operator.token)).expect(404);
      expect(missing.body).toMatchObject({ statusCode: 404, message: 'No suppression import with that id' });
    }
  });

  // ---- opt-outs: two people to remove ----------------------------------------------------

  const removalAudit = (id: string) => auditFor(id).then((rows) => rows.map((a) => a.action));

  it('an opt-out cannot be deleted by one person: DELETE is 409 saying how, and the database refuses it too', async () => {
    const address = mail('opted-out');
    const id = (await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address, reason: 'opt_out' }).expect(201)).body.id as string;
    const res = await t.http().delete(`/api/suppressions/${id}`).set(as(admin.token)).expect(409);
    expect(res.body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    expect(res.body.message).toMatch(/opt-out.*two people.*POST \/api\/suppressions\/\d+\/removal-requests/);
    expect(await rowsAt('email', [address])).toHaveLength(1);
    expect(await removalAudit(id)).toEqual(['suppression.created']);

    // the rule holds below the API: plain SQL, a rewrite into another reason, a truncate
    await expect(t.ds.query(`DELETE FROM suppressions WHERE id = $1`, [id])).rejects.toThrow(/can only be removed by two people/);
    await expect(t.ds.query(`UPDATE suppressions SET reason = 'complaint' WHERE id = $1`, [id])).rejects.toThrow(/cannot be changed/);
    await expect(t.ds.query(`UPDATE suppressions SET address = 'x' || address WHERE id = $1`, [id])).rejects.toThrow(/cannot be changed/);
    await expect(t.ds.query(`TRUNCATE suppressions`)).rejects.toThrow(/cannot be truncated/);
    expect(await rowsAt('email', [address])).toHaveLength(1);
    // a reason the other way (a bounce becoming an opt-out) is allowed
    const bounce = (await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address: mail('bounce-to-opt-out'), reason: 'hard_bounce' }).expect(201)).body.id;
    await t.ds.query(`UPDATE suppressions SET reason = 'opt_out' WHERE id = $1`, [bounce]);
  });

  it('two-person removal: an admin asks with a reason; the same admin cannot approve; another admin or a supervisor can; all audited', async () => {
    const address = '07781 450001';
    const id = (await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'sms', address, reason: 'opt_out' }).expect(201)).body.id as string;
    const ask = (token: string, body: object) => t.http().post(`/api/suppressions/${id}/removal-requests`).set(as(token)).send(body);

    await ask(supervisor.token, { reason: 'asked by phone to be told again' }).expect(403);
    await ask(operator.token, { reason: 'x' }).expect(403);
    expect((await ask(admin.token, {}).expect(400)).body.message).toMatch(/reason is required/);
    expect((await ask(admin.token, { reason: '   ' }).expect(400)).body.message).toMatch(/reason must say why/);
    expect((await ask(admin.token, { reason: 'r'.repeat(501) }).expect(400)).body.message).toMatch(/at most 500/);
    const asked = (await ask(admin.token, { reason: 'victim phoned and asked to hear from us again' }).expect(201)).body;
    expect(asked).toMatchObject({ suppressionId: id, channel: 'sms', address: '+447781450001', suppressionReason: 'opt_out', status: 'pending', requestedBy: admin.id, decidedBy: null });
    expect((await ask(admin.token, { reason: 'again' }).expect(409)).body.message).toMatch(new RegExp(`already waiting for approval \\(removal request ${asked.id}\\)`));

    const decide = (token: string, what: 'approve' | 'reject', body: object = {}) =>
      t.http().post(`/api/suppressions/removal-requests/${asked.id}/${what}`).set(as(token)).send(body);
    const self = await decide(admin.token, 'approve').expect(409);
    expect(self.body.message).toMatch(/You asked for this removal: a second person/);
    await decide(operator.token, 'approve').expect(403);
    await decide(analyst.token, 'approve').expect(403);
    expect(await rowsAt('sms', ['+447781450001'])).toHaveLength(1);
    // and the database will not take one person's approval either
    await expect(t.ds.query(`UPDATE suppression_removals SET status = 'approved', decided_by = requested_by, decided_at = now() WHERE id = $1`, [asked.id])).rejects.toThrow(
      /suppression_removals_two_people/,
    );

    const pending = (await t.http().get('/api/suppressions/removal-requests').query({ status: 'pending' }).set(as(supervisor.token)).expect(200)).body.items;
    expect(pending.map((r: { id: string }) => r.id)).toContain(asked.id);
    expect((await t.http().get('/api/suppressions/removal-requests').query({ status: 'done' }).set(as(supervisor.token)).expect(400)).body.message).toMatch(
      /status must be one of pending, approved, rejected/,
    );

    const approved = (await decide(supervisor.token, 'approve', { note: 'checked with the victim' }).expect(200)).body;
    expect(approved).toMatchObject({ id: asked.id, status: 'approved', decidedBy: supervisor.id, decisionNote: 'checked with the victim', address: '+447781450001' });
    expect(await rowsAt('sms', ['+447781450001'])).toEqual([]);
    expect(await removalAudit(id)).toEqual(['suppression.created', 'suppression.removal_requested', 'suppression.removal_approved', 'suppression.deleted']);
    const audits = await auditFor(id);
    expect(audits[1]).toMatchObject({ actor_id: admin.id, details: { removalId: asked.id, requestReason: 'victim phoned and asked to hear from us again', reason: 'opt_out' } });
    expect(audits[2]).toMatchObject({ actor_id: supervisor.id, details: { removalId: asked.id, requestedBy: admin.id, note: 'checked with the victim' } });
    expect((await decide(admin.token, 'approve').expect(409)).body.message).toBe('This removal is already approved');
    expect((await decide(supervisor.token, 'reject').expect(409)).body.message).toBe('This removal is already approved');
    await t.http().post('/api/suppressions/removal-requests/999999999/approve').set(as(supervisor.token)).send({}).expect(404);
    await t.http().post('/api/suppressions/removal-requests/abc/approve').set(as(supervisor.token)).send({}).expect(404);
  });

  it('a removal can be rejected, or withdrawn by the admin who asked: the opt-out stays', async () => {
    const address = mail('kept');
    const id = (await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address, reason: 'opt_out' }).expect(201)).body.id as string;
    const first = (await t.http().post(`/api/suppressions/${id}/removal-requests`).set(as(admin.token)).send({ reason: 'typo' }).expect(201)).body;
    await t.http().post(`/api/suppressions/removal-requests/${first.id}/reject`).set(as(admin.token)).send({ note: 'withdrawn' }).expect(200);
    const second = (await t.http().post(`/api/suppressions/${id}/removal-requests`).set(as(admin.token)).send({ reason: 'again' }).expect(201)).body;
    const rejected = (await t.http().post(`/api/suppressions/removal-requests/${second.id}/reject`).set(as(supervisor.token)).send({}).expect(200)).body;
    expect(rejected).toMatchObject({ status: 'rejected', decidedBy: supervisor.id });
    await t.http().post(`/api/suppressions/removal-requests/${second.id}/approve`).set(as(supervisor.token)).send({}).expect(409);
    expect(await rowsAt('email', [address])).toHaveLength(1);
    await expect(t.ds.query(`DELETE FROM suppressions WHERE id = $1`, [id])).rejects.toThrow(/two people/);
    expect(await removalAudit(id)).toEqual(['suppression.created', 'suppression.removal_requested', 'suppression.removal_rejected', 'suppression.removal_requested', 'suppression.removal_rejected']);
  });

  it('a suppression that is not an opt-out has no removal request: 409 pointing at DELETE; unknown ids 404', async () => {
    const id = (await t.http().post('/api/suppressions').set(as(operator.token)).send({ channel: 'email', address: mail('bounced'), reason: 'hard_bounce' }).expect(201)).body.id;
    const res = await t.http().post(`/api/suppressions/${id}/removal-requests`).set(as(admin.token)).send({ reason: 'x' }).expect(409);
    expect(res.body.message).toMatch(/not an opt-out.*DELETE \/api\/suppressions\//);
    await t.http().post('/api/suppressions/999999999/removal-requests').set(as(admin.token)).send({ reason: 'x' }).expect(404);
    await t.http().post('/api/suppressions/zzz/removal-requests').set(as(admin.token)).send({ reason: 'x' }).expect(404);
  });
});
