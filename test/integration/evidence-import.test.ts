import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, type Manifest } from '../../seeds/dataset-generator.js';
import { migrate } from '../../src/database/data-source.js';
import { SYSTEM_ACTOR } from '../../src/modules/audit/audit.service.js';
import { callImportSpec } from '../../src/modules/evidence/call-import.spec.js';
import { EvidenceImportsService, type ImportView } from '../../src/modules/evidence/evidence-imports.service.js';
import { InstitutionsService } from '../../src/modules/evidence/institutions.service.js';
import { contactImportSpec } from '../../src/modules/victims/contact-import.spec.js';
import { VictimMatchingService } from '../../src/modules/victims/victim-matching.service.js';
import { runCli } from '../support/processes.js';
import { dropDatabase } from '../support/pg.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL } from '../support/test-db.js';

// Numbers of this file: UK mobiles 07781 1xxxxx (the victims tests use 07781 2xxxxx), so
// assertions about victims never depend on what other test files import.
const HEADER = 'call_id,started_at,duration_seconds,account_id,caller_id,target_number';
const MAX_UPLOAD_BYTES = 64 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'evidence-import-test-'));
const uploadDir = path.join(dir, 'uploads');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tag = () => randomUUID().slice(0, 8);

function writeCsv(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('evidence import (calls)', () => {
  let t: TestApp;
  let operator: { id: string; token: string };
  let analyst: { id: string; token: string };

  beforeAll(async () => {
    t = await startTestApp({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES), UPLOAD_DIR: uploadDir });
    operator = await t.staff('operator');
    analyst = await t.staff('analyst');
  });
  afterAll(async () => {
    await t?.close();
  });

  const upload = (file: string, token = operator.token) =>
    t.http().post('/api/evidence/imports').set('authorization', `Bearer ${token}`).attach('file', file);

  async function waitFor(id: string, route = '/api/evidence/imports'): Promise<ImportView> {
    for (let i = 0; i < 400; i++) {
      const res = await t.http().get(`${route}/${id}`).set('authorization', `Bearer ${operator.token}`).expect(200);
      if (['completed', 'failed', 'duplicate'].includes(res.body.status)) return res.body as ImportView;
      await sleep(50);
    }
    throw new Error(`import ${id} did not finish`);
  }

  async function importVia(file: string): Promise<ImportView> {
    const res = await upload(file).expect(202);
    expect(res.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    return waitFor(res.body.id);
  }

  const importNo = async (id: string) => (await t.ds.query(`SELECT no FROM evidence_imports WHERE id = $1`, [id]))[0].no as number;
  const callRows = async (id: string) =>
    t.ds.query(
      `SELECT c.line_no, c.call_id, c.started_at, c.duration_seconds, c.account_id, c.caller_id, i.code AS institution, c.target_e164, c.target_type
         FROM call_records c LEFT JOIN institutions i ON i.id = c.institution_id
        WHERE c.import_no = $1 ORDER BY c.line_no`,
      [await importNo(id)],
    );

  // The main file: every written form of one number, a landline, foreign numbers, quoted
  // fields and the usual kinds of junk. Line numbers in the comments.
  const run = tag();
  const MAIN = [
    /*  1 */ HEADER,
    /*  2 */ `${run}-1,2022-03-01T10:00:00Z,75,acct-1,+443069990101,07781 100001`,
    /*  3 */ `${run}-2,2022-03-01T11:00:00+01:00,30,acct-2,0306 999 0101,+44 7781 100001`,
    /*  4 */ `${run}-3,2022-03-02 09:15:00,5,acct-1,07911 123456,0044 7781-100-001`,
    /*  5 */ `${run}-4,2022-03-03T12:00:00Z,120,acct-3,+443069990102,447781100001`,
    /*  6 */ `${run}-5,2022-03-04T12:00:00Z,0,acct-3,withheld,+44 (0)7781 100001`,
    /*  7 */ ``,
    /*  8 */ `${run}-6,2022-03-05T08:00:00Z,61,acct-4,,0113 496 0501`,
    /*  9 */ `${run}-7,2022-03-05T08:30:00Z,12,acct-4,,+61 412 345 601`,
    /* 10 */ `${run}-8,2022-03-05T09:00:00Z,40,acct-5,,001 212 555 0123`,
    /* 11 */ `${run}-9,2022-03-05T09:00:00Z,40,acct-5,,unknown`,
    /* 12 */ `${run}-10,2022-03-05T09:00:00Z,40,acct-5,,0772`,
    /* 13 */ `${run}-11,2022-03-05T09:00:00Z,40,acct-5,,0772345678901234`,
    /* 14 */ `${run}-12,2022-03-05T09:00:00Z,40,acct-5,,07781 1OOOO1`,
    /* 15 */ `${run}-13,2022-03-05T09:00:00Z,40,acct-5,,07781100001'; DROP TABLE victims; --`,
    /* 16 */ `${run}-14,2021-02-29T10:00:00Z,10,acct-5,,07781 100001`,
    /* 17 */ `${run}-15,2022-03-06T10:00:00Z,-5,acct-5,,07781 100001`,
    /* 18 */ `${run}-16,2022-03-06T10:00:00Z,10,acct-6,+443069990101`,
    /* 19 */ `"${run}-17","2022-03-06T10:00:00Z","65","acct, with comma","+443069990103","07781 100002"`,
    /* 20 */ `${run}-18,2022-03-06T11:00:00Z,33,"multi`,
    /* 21 */ `line account",+443069990104,07781 100003`,
    /* 22 */ `${run}-19,2022-03-06T12:00:00Z,33,acct-7,,`,
  ].join('\r\n'); // CRLF, no newline at the end
  let main: ImportView;
  let mainFile: string;

  beforeAll(async () => {
    mainFile = writeCsv('main.csv', '\ufeff' + MAIN);
    main = await importVia(mainFile);
  });

  it('POST /api/evidence/imports answers 202 {id}; GET shows the finished import with its counts', async () => {
    expect(main).toMatchObject({
      kind: 'calls',
      status: 'completed',
      fileName: 'main.csv',
      progress: 1,
      rowsTotal: 19,
      rowsAccepted: 10,
      rowsRejected: 9,
      failureReason: null,
      fileSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(main.bytesProcessed).toBe(main.fileBytes);
    expect(main.rejectedByReason).toEqual({
      'target_number: not a phone number': 3,
      'target_number: too short': 1,
      'target_number: too long': 1,
      'target_number: empty': 1,
      'started_at is not an ISO 8601 date and time': 1,
      'duration_seconds must be a whole number from 0 to 604800': 1,
      'the row has 5 fields but the header has 6': 1,
    });
  });

  it('reports every rejected row with its line number, reason, column and value', () => {
    expect(main.errors).toEqual([
      { line: 11, reason: 'target_number: not a phone number', column: 'target_number', value: 'unknown' },
      { line: 12, reason: 'target_number: too short', column: 'target_number', value: '0772' },
      { line: 13, reason: 'target_number: too long', column: 'target_number', value: '0772345678901234' },
      { line: 14, reason: 'target_number: not a phone number', column: 'target_number', value: '07781 1OOOO1' },
      { line: 15, reason: 'target_number: not a phone number', column: 'target_number', value: "07781100001'; DROP TABLE victims; --" },
      { line: 16, reason: 'started_at is not an ISO 8601 date and time', column: 'started_at', value: '2021-02-29T10:00:00Z' },
      { line: 17, reason: 'duration_seconds must be a whole number from 0 to 604800', column: 'duration_seconds', value: '-5' },
      { line: 18, reason: 'the row has 5 fields but the header has 6' },
      { line: 22, reason: 'target_number: empty', column: 'target_number', value: '' },
    ].map((e) => expect.objectContaining(e)));
  });

  it('stores accepted rows normalised: every written form of a number becomes the same E.164', async () => {
    const rows = await callRows(main.id);
    expect(rows.map((r: { line_no: number }) => r.line_no)).toEqual([2, 3, 4, 5, 6, 8, 9, 10, 19, 20]);
    const byLine = new Map(rows.map((r: { line_no: number }) => [r.line_no, r]));
    for (const line of [2, 3, 4, 5, 6]) expect(byLine.get(line)).toMatchObject({ target_e164: '+447781100001', target_type: 'mobile' });
    expect(byLine.get(8)).toMatchObject({ target_e164: '+441134960501', target_type: 'fixed_line' });
    expect(byLine.get(9)).toMatchObject({ target_e164: '+61412345601', target_type: 'mobile' });
    expect(byLine.get(10)).toMatchObject({ target_e164: '+12125550123', target_type: 'other' });
    expect(byLine.get(19)).toMatchObject({ call_id: `${run}-17`, account_id: 'acct, with comma', target_e164: '+447781100002', duration_seconds: 65 });
    expect(byLine.get(20)).toMatchObject({ account_id: 'multi\nline account', target_e164: '+447781100003' });
  });

  it('reads times as UTC (offsets applied, none = UTC) and attributes calls to the institution whose number was shown', async () => {
    const rows = await callRows(main.id);
    const byLine = new Map(rows.map((r: { line_no: number }) => [r.line_no, r])) as Map<number, Record<string, unknown>>;
    expect((byLine.get(2)!.started_at as Date).toISOString()).toBe('2022-03-01T10:00:00.000Z');
    expect((byLine.get(3)!.started_at as Date).toISOString()).toBe('2022-03-01T10:00:00.000Z');
    expect((byLine.get(4)!.started_at as Date).toISOString()).toBe('2022-03-02T09:15:00.000Z');
    expect(byLine.get(2)).toMatchObject({ caller_id: '+443069990101', institution: 'barclays' });
    expect(byLine.get(3)).toMatchObject({ caller_id: '+443069990101', institution: 'barclays' }); // written nationally
    expect(byLine.get(4)).toMatchObject({ caller_id: '+447911123456', institution: null });
    expect(byLine.get(5)).toMatchObject({ caller_id: '+443069990102', institution: 'hsbc' });
    expect(byLine.get(6)).toMatchObject({ caller_id: 'withheld', institution: null });
    expect(byLine.get(8)).toMatchObject({ caller_id: null, institution: null });
  });

  it('SQL in the number field is data, never executed: the tables are intact', async () => {
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'victims'`);
    expect(n).toBe(1);
    const [{ stored }] = await t.ds.query(`SELECT count(*)::int AS stored FROM call_records WHERE call_id = $1`, [`${run}-13`]);
    expect(stored).toBe(0);
  });

  it('audits the upload (by whom) and the completion', async () => {
    const rows = await t.ds.query(`SELECT action, actor_type, actor_id FROM audit_events WHERE subject_id = $1 ORDER BY id`, [main.id]);
    expect(rows).toEqual([
      { action: 'evidence.calls_import_created', actor_type: 'staff', actor_id: operator.id },
      { action: 'evidence.calls_import_completed', actor_type: 'system', actor_id: null },
    ]);
  });

  it('re-importing the same file imports nothing and says so', async () => {
    const before = await t.ds.query(`SELECT count(*)::int AS n FROM call_records WHERE call_id LIKE $1`, [`${run}-%`]);
    const again = await importVia(mainFile);
    expect(again.id).not.toBe(main.id);
    expect(again).toMatchObject({ status: 'duplicate', duplicateOf: main.id, fileSha256: main.fileSha256, rowsAccepted: 0 });
    expect(again.failureReason).toMatch(/already imported/);
    expect(await callRows(again.id)).toEqual([]);
    const after = await t.ds.query(`SELECT count(*)::int AS n FROM call_records WHERE call_id LIKE $1`, [`${run}-%`]);
    expect(after).toEqual(before);
    // the first import is unchanged
    expect(await waitFor(main.id)).toMatchObject({ status: 'completed', rowsAccepted: 10 });
  });

  it('a wrong header fails the import with a message naming the column, keeping nothing; the fixed file then imports', async () => {
    const id = tag();
    const rows = [`${id}-1,2022-03-01T10:00:00Z,75,acct-1,,07781 100010`, `${id}-2,2022-03-01T10:00:00Z,75,acct-1,,07781 100011`];
    const bad = await importVia(writeCsv(`bad-header-${id}.csv`, ['call_id,started_at,duration,account_id,caller_id,target_number', ...rows].join('\n') + '\n'));
    expect(bad).toMatchObject({ status: 'failed', rowsAccepted: 0 });
    expect(bad.failureReason).toMatch(/missing column\(s\) duration_seconds/);
    expect(await callRows(bad.id)).toEqual([]);
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM call_records WHERE call_id LIKE $1`, [`${id}-%`]);
    expect(n).toBe(0);

    const reordered = 'target_number,caller_id,account_id,duration_seconds,started_at,call_id,extra';
    const fixed = await importVia(
      writeCsv(`fixed-${id}.csv`, [reordered, ...rows.map((r) => r.split(',').reverse().join(',') + ',x')].join('\n') + '\n'),
    );
    expect(fixed).toMatchObject({ status: 'completed', rowsAccepted: 2, rowsRejected: 0 });
    expect((await callRows(fixed.id)).map((r: { target_e164: string }) => r.target_e164)).toEqual(['+447781100010', '+447781100011']);
  });

  it('an empty file and a header-only file are handled', async () => {
    const empty = await importVia(writeCsv(`empty-${tag()}.csv`, ''));
    expect(empty.status).toBe('failed');
    expect(empty.failureReason).toMatch(/empty/i);
    const headerOnly = await importVia(writeCsv(`header-only.csv`, HEADER + '\n'));
    expect(headerOnly).toMatchObject({ status: 'completed', rowsTotal: 0, rowsAccepted: 0, rowsRejected: 0 });
  });

  it('a timestamp with an impossible offset is a rejected row, not a failed import', async () => {
    const id = tag();
    const view = await importVia(
      writeCsv(
        `offset-${id}.csv`,
        [HEADER, `${id}-1,2022-03-01T10:00:00+01:99,75,acct-1,,07781 100020`, `${id}-2,2022-03-01T10:00:00+01:30,75,acct-1,,07781 100021`].join('\n'),
      ),
    );
    expect(view).toMatchObject({ status: 'completed', rowsAccepted: 1, rowsRejected: 1 });
    expect(view.errors).toEqual([expect.objectContaining({ line: 2, column: 'started_at' })]);
  });

  it('control characters in text fields do not break the import', async () => {
    const id = tag();
    const view = await importVia(
      writeCsv(`control-${id}.csv`, [HEADER, `${id}-1,2022-03-01T10:00:00Z,75,acct\\1\ttab,+443069990101,07781 100030`, `${id}-2,2022-03-01T10:00:00Z,75,"a\\.b",,07781 100031`].join('\n')),
    );
    expect(view).toMatchObject({ status: 'completed', rowsAccepted: 2, rowsRejected: 0 });
    const rows = await callRows(view.id);
    expect(rows.map((r: { account_id: string }) => r.account_id)).toEqual(['acct\\1\ttab', 'a\\.b']);
  });

  it('a NUL character in a text field does not fail the whole file (it is stored as U+FFFD, like invalid UTF-8)', async () => {
    const id = tag();
    const view = await importVia(
      writeCsv(`nul-${id}.csv`, [HEADER, `${id}-1,2022-03-01T10:00:00Z,75,acct\u00001,,07781 100035`, `${id}-2,2022-03-01T10:00:00Z,75,acct-2,,07781 100036`].join('\n')),
    );
    expect(view).toMatchObject({ status: 'completed', rowsAccepted: 2, rowsRejected: 0 });
    expect((await callRows(view.id)).map((r: { account_id: string }) => r.account_id)).toEqual(['acct\ufffd1', 'acct-2']);
  });

  it('refuses an upload above MAX_UPLOAD_BYTES with 413 and creates no import', async () => {
    const name = `too-big-${tag()}.csv`;
    const line = `x,2022-03-01T10:00:00Z,75,acct-1,,07781 100001\n`;
    const file = writeCsv(name, HEADER + '\n' + line.repeat(Math.ceil((MAX_UPLOAD_BYTES * 1.5) / line.length)));
    const res = await upload(file);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large', message: expect.any(String) });
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM evidence_imports WHERE file_name = $1`, [name]);
    expect(n).toBe(0);
    // the partial upload is not left behind
    await sleep(100);
    const uploads = readdirSync(uploadDir).map((f) => path.join(uploadDir, f));
    expect(uploads.filter((f) => statSync(f).size >= MAX_UPLOAD_BYTES)).toEqual([]);
  });

  it('answers 400 without a file, 403 to an analyst, 404 for an unknown or malformed id', async () => {
    const none = await t.http().post('/api/evidence/imports').set('authorization', `Bearer ${operator.token}`).field('other', 'x').expect(400);
    expect(none.body.message).toMatch(/multipart field named "file"/);
    await upload(mainFile, analyst.token).expect(403);
    await t.http().post('/api/evidence/imports').attach('file', mainFile).expect(401);
    const unknown = await t.http().get(`/api/evidence/imports/${randomUUID()}`).set('authorization', `Bearer ${operator.token}`).expect(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, error: 'Not Found', message: 'No import with that id' });
    await t.http().get(`/api/evidence/imports/not-an-id`).set('authorization', `Bearer ${operator.token}`).expect(404);
    // analysts may read an import's status, with rejected values masked like every number
    const seen = await t.http().get(`/api/evidence/imports/${main.id}`).set('authorization', `Bearer ${analyst.token}`).expect(200);
    const tooLong = seen.body.errors.find((e: { line: number }) => e.line === 13);
    expect(tooLong.value).toBe('07************34');
    expect(JSON.stringify(seen.body)).not.toContain('0772345678901234');
  });

  it('deletes the saved upload once it is imported; the database keeps its hash', async () => {
    const [{ summary, file_sha256 }] = await t.ds.query(`SELECT summary, file_sha256 FROM evidence_imports WHERE id = $1`, [main.id]);
    expect(summary.owned).toBe(true);
    expect(existsSync(summary.path)).toBe(false);
    expect(file_sha256).toBe(main.fileSha256);
  });

  it('the CLI imports a file and prints a JSON summary with the id and counts; a file already imported is reported as a duplicate', async () => {
    const id = tag();
    const file = writeCsv(
      `cli-${id}.csv`,
      [HEADER, `${id}-1,2022-04-01T10:00:00Z,75,acct-1,,07781 100040`, `${id}-2,2022-04-01T10:00:00Z,75,acct-1,,not a number`].join('\n') + '\n',
    );
    // Each CLI run is a process of its own (a few seconds of CPU): both at once.
    const env = { DATABASE_URL: TEST_DATABASE_URL };
    const [fresh, again] = await Promise.all([runCli(['evidence:import', file], env), runCli(['evidence:import', mainFile], env)]);
    expect(fresh.code, fresh.stderr).toBe(0);
    const summary = JSON.parse(fresh.stdout);
    expect(summary).toMatchObject({ id: expect.any(String), kind: 'calls', status: 'completed', rowsTotal: 2, rowsAccepted: 1, rowsRejected: 1 });
    expect(summary.firstErrors).toEqual([expect.objectContaining({ line: 3, reason: 'target_number: not a phone number' })]);
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM call_records WHERE call_id LIKE $1`, [`${id}-%`]);
    expect(n).toBe(1);

    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'duplicate', duplicateOf: main.id, rowsAccepted: 0, message: expect.stringMatching(/already imported/) });
  }, 60_000);
});

// ---------------------------------------------------------------------------

describe('a generated data set reproduces its manifest', () => {
  // A database of its own: the counts below are global totals.
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${url.pathname.slice(1)}_manifest_${randomUUID().slice(0, 8)}`;
  const dbUrl = url.toString();
  const outDir = path.join(dir, 'dataset');
  let t: TestApp;
  let manifest: Manifest;
  let calls: ImportView;
  let contacts: ImportView;
  let matched: Awaited<ReturnType<VictimMatchingService['match']>>;

  beforeAll(async () => {
    const [m] = await Promise.all([generateDataset({ outDir, targets: 2000, calls: 20000, seed: 5 }), migrate(dbUrl)]);
    manifest = m;
    t = await startTestApp({ DATABASE_URL: dbUrl });
    await t.app.get(InstitutionsService).ensureSeeded();
    const imports = t.app.get(EvidenceImportsService);
    const callsId = await imports.create('calls', path.join(outDir, 'calls.csv'), 'calls.csv', SYSTEM_ACTOR);
    calls = await imports.run(callsId, callImportSpec());
    matched = await t.app.get(VictimMatchingService).match(SYSTEM_ACTOR);
    const contactsId = await imports.create('contacts', path.join(outDir, 'contacts.csv'), 'contacts.csv', SYSTEM_ACTOR);
    contacts = await imports.run(contactsId, contactImportSpec());
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await dropDatabase(url.toString());
    rmSync(dir, { recursive: true, force: true });
  });

  const one = async (sql: string) => Object.values((await t.ds.query(sql))[0])[0] as number;

  it('call rows accepted and rejected, by reason', async () => {
    expect(calls.status).toBe('completed');
    expect(calls.rowsTotal).toBe(manifest.calls.rowsTotal);
    expect(calls.rowsAccepted).toBe(manifest.calls.rowsAccepted);
    expect(calls.rowsRejected).toBe(manifest.calls.rowsRejected);
    const byReason = Object.fromEntries(Object.entries(manifest.calls.rejectedByReason).map(([k, v]) => [`target_number: ${k}`, v]));
    expect(calls.rejectedByReason).toEqual(byReason);
    expect(await one(`SELECT count(*)::int FROM call_records`)).toBe(manifest.calls.rowsAccepted);
    expect(await one(`SELECT count(*)::int FROM call_records WHERE duration_seconds >= 60`)).toBe(manifest.calls.longCalls);
    expect(await one(`SELECT count(DISTINCT account_id)::int FROM call_records`)).toBe(manifest.accounts.distinct);
  });

  it('victims: one per distinct number, long calls, types', async () => {
    expect(matched).toMatchObject({ victims: manifest.victims.distinct, created: manifest.victims.distinct, withLongCall: manifest.victims.withLongCall });
    expect(await one(`SELECT count(*)::int FROM victims`)).toBe(manifest.victims.distinct);
    expect(await one(`SELECT count(*)::int FROM victims WHERE longest_call_seconds >= 60`)).toBe(manifest.victims.withLongCall);
    expect(await one(`SELECT count(*)::int FROM victims WHERE phone_type = 'mobile'`)).toBe(manifest.victims.mobiles);
    expect(await one(`SELECT count(*)::int FROM victims WHERE phone_type = 'mobile' AND phone_e164 LIKE '+44%'`)).toBe(manifest.victims.ukMobiles);
    expect(await one(`SELECT count(*)::int FROM victims WHERE phone_type = 'fixed_line'`)).toBe(manifest.victims.fixedLines);
    expect(await one(`SELECT count(*)::int FROM victims WHERE phone_type = 'other'`)).toBe(manifest.victims.other);
    expect(await one(`SELECT coalesce(sum(call_count), 0)::int FROM victims`)).toBe(manifest.calls.rowsAccepted);
  });

  it('institutions: calls and victims per impersonated institution', async () => {
    const callsByCode = Object.fromEntries(
      (await t.ds.query(`SELECT i.code, count(*)::int AS n FROM call_records c JOIN institutions i ON i.id = c.institution_id GROUP BY i.code`)).map(
        (r: { code: string; n: number }) => [r.code, r.n],
      ),
    );
    const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, n]) => n > 0));
    expect(callsByCode).toEqual(nonZero(manifest.institutions.callsByCode));
    expect(await one(`SELECT count(*)::int FROM call_records WHERE institution_id IS NULL`)).toBe(manifest.institutions.callsUnattributed);
    const victimsByCode = Object.fromEntries(
      (await t.ds.query(`SELECT code, count(*)::int AS n FROM victims, unnest(institutions) AS code GROUP BY code`)).map((r: { code: string; n: number }) => [r.code, r.n]),
    );
    expect(victimsByCode).toEqual(nonZero(manifest.institutions.victimsByCode));
  });

  it('contacts: accepted, rejected (bad phone, bad email), matched to victims', async () => {
    expect(contacts.status).toBe('completed');
    expect(contacts.rowsTotal).toBe(manifest.contacts.rowsTotal);
    expect(contacts.rowsAccepted).toBe(manifest.contacts.rowsAccepted);
    expect(contacts.rowsRejected).toBe(manifest.contacts.rowsRejected);
    const badPhone = Object.entries(contacts.rejectedByReason)
      .filter(([k]) => k.startsWith('phone: '))
      .reduce((s, [, n]) => s + n, 0);
    expect(badPhone).toBe(manifest.contacts.rejectedBadPhone);
    expect(contacts.rejectedByReason['email is not a valid address'] ?? 0).toBe(manifest.contacts.rejectedBadEmail);
    expect(await one(`SELECT count(*)::int FROM contacts WHERE email IS NULL`)).toBe(manifest.contacts.acceptedWithoutEmail);
    expect(contacts.summary).toMatchObject({
      matchedVictim: manifest.contacts.matched,
      unmatched: manifest.contacts.rowsAccepted - manifest.contacts.matched,
      victimsEnriched: manifest.contacts.victimsMatched,
    });
    expect(await one(`SELECT count(*)::int FROM contacts c JOIN victims v ON v.phone_e164 = c.phone_e164`)).toBe(manifest.contacts.matched);
    expect(await one(`SELECT count(*)::int FROM contacts WHERE email <> lower(email)`)).toBe(0);
  });

  it('matching again changes nothing', async () => {
    const before = await t.ds.query(`SELECT id, reference_code, priority_score FROM victims ORDER BY id`);
    const again = await t.app.get(VictimMatchingService).match(SYSTEM_ACTOR);
    expect(again).toMatchObject({ victims: manifest.victims.distinct, created: 0, updated: 0 });
    expect(await t.ds.query(`SELECT id, reference_code, priority_score FROM victims ORDER BY id`)).toEqual(before);
  });
});
