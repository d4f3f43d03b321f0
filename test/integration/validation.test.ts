import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN, addTestInstitution, seedVictims, SMS_TEMPLATE, tag } from '../support/campaigns.js';
import { startTestApp, TestApp } from '../support/test-app.js';

/**
 * Input the routes used to turn into 500s (Postgres errors) or campaigns that could
 * never launch: each now answers 400 with the standard shape and a message naming the
 * field, and writes nothing.
 */
describe('validation everywhere', () => {
  let t: TestApp;
  const tokens: Record<string, string> = {};
  const staffIds: Record<string, string> = {};
  const ID = '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b';
  const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

  beforeAll(async () => {
    t = await startTestApp({ APP_ROLE: 'api', PUBLIC_BASE_URL: 'https://outreach.police.uk', ORG_NAME: 'City Police' });
    for (const role of ['admin', 'supervisor', 'operator'] as const) {
      const s = await t.staff(role);
      tokens[role] = s.token;
      staffIds[role] = s.id;
    }
    await addTestInstitution(t.ds);
  });
  afterAll(() => t?.close());

  const as = (who: string) => ({ Authorization: `Bearer ${tokens[who]}` });

  // Other test files write to the same database at the same time: count only what this
  // file's staff did (test/integration/bad-input.test.ts counts every table, in a database of its own).
  async function fingerprint(): Promise<string> {
    const [row] = await t.ds.query(
      `SELECT (SELECT count(*) FROM campaigns WHERE created_by = ANY($1::uuid[]) OR updated_by = ANY($1::uuid[]))::int AS campaigns,
              (SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id WHERE c.created_by = ANY($1::uuid[]))::int AS messages,
              (SELECT count(*) FROM suppressions WHERE created_by = ANY($1::uuid[]))::int AS suppressions,
              (SELECT count(*) FROM audit_events WHERE actor_id = ANY($1::text[]))::int AS audit`,
      [Object.values(staffIds)],
    );
    return JSON.stringify(row);
  }

  function expect400(res: { status: number; body: Record<string, unknown> }, words: RegExp) {
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(String(res.body.message)).toMatch(words);
  }

  describe('GET /api/victims filters', () => {
    it.each([
      [{ minLongestCallSeconds: '3000000000' }, /minLongestCallSeconds must be a whole number.*at most 2147483647/],
      [{ minLongestCallSeconds: '1e300' }, /minLongestCallSeconds must be a whole number/],
      [{ calledAfter: '2024-W01-1' }, /calledAfter must be an ISO 8601 date: a day/],
      [{ calledAfter: '2024-001' }, /calledAfter must be/],
      [{ calledAfter: '2024-02-30' }, /calledAfter must be/],
      [{ calledBefore: '2024-01-31T09:00:00' }, /calledBefore must be .*with an offset/],
      [{ calledBefore: '2024-01-31T25:00:00Z' }, /calledBefore must be/],
      [{ institution: 'barclays\u0000' }, /institution contains a NUL character/],
      [{ cursor: cursor([1e300, ID]) }, /cursor is not valid/],
      [{ cursor: cursor([3000000000, ID]) }, /cursor is not valid/],
      [{ cursor: cursor([1, '-'.repeat(36)]) }, /cursor is not valid/],
      [{ cursor: cursor(['1', ID]) }, /cursor is not valid/],
      [{ limit: '1e300' }, /limit must be/],
    ])('%j → 400', async (query, words) => {
      expect400(await t.http().get('/api/victims').query(query).set(as('operator')), words);
    });

    it('takes a real leap day and an RFC 3339 time with an offset', async () => {
      await t.http().get('/api/victims').query({ calledAfter: '2024-02-29', calledBefore: '2024-03-01T09:00:00+01:00', institution: tag() }).set(as('operator')).expect(200);
    });
  });

  it.each([
    ['/api/campaigns', [{ cursor: cursor(['2024-W01-1', ID]) }, { cursor: cursor([1e300, ID]) }, { cursor: cursor(['2024-01-01T00:00:00Z', '-'.repeat(36)]) }]],
    ['/api/suppressions', [{ cursor: cursor([1e300]) }, { cursor: cursor(['-1']) }, { cursor: cursor(['1e300']) }, { cursor: cursor(['9'.repeat(30)]) }]],
  ] as const)('GET %s refuses out-of-range cursors', async (path, queries) => {
    for (const query of queries) expect400(await t.http().get(path).query(query).set(as('operator')), /cursor is not valid/);
  });

  it.each(['/api/victims/', '/api/campaigns/', '/api/evidence/imports/', '/api/contacts/imports/', '/api/campaigns/:id/stats', '/api/campaigns/:id/preview'])(
    'GET %s with an id of 36 dashes is an unknown id, not a database error',
    async (path) => {
      const url = path.includes(':id') ? path.replace(':id', '-'.repeat(36)) : path + '-'.repeat(36);
      const res = await t.http().get(url).set(as('admin'));
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    },
  );

  it('an id of 36 dashes is unknown for the queue probe and the campaign moves too', async () => {
    expect((await t.http().get(`/api/admin/queue-probes/${'-'.repeat(36)}`).set(as('admin'))).status).toBe(404);
    expect((await t.http().post(`/api/campaigns/${'-'.repeat(36)}/submit`).set(as('admin'))).status).toBe(404);
  });

  describe('text that cannot be stored', () => {
    const sms = (extra: Record<string, unknown>) => ({ name: `Valid ${tag()}`, channels: ['sms'], sms: { body: SMS_TEMPLATE }, sendWindow: ALWAYS_OPEN, ...extra });

    it.each([
      ['NUL in a top-level field', sms({ name: 'War\u0000ning' }), /^name contains a NUL character/],
      ['NUL in a nested field', sms({ audience: { institution: 'a\u0000' } }), /^audience\.institution contains a NUL character/],
      ['NUL in an array item', sms({ sendWindow: { ...ALWAYS_OPEN, days: ['mon', 'tu\u0000e'] } }), /^sendWindow\.days\[1\] contains a NUL/],
      ['a lone surrogate', sms({ sms: { body: `${SMS_TEMPLATE} \ud800` } }), /^sms\.body contains a lone UTF-16 surrogate/],
      ['a prototype key', JSON.parse(`{"__proto__": {"x": 1}, "name": "x", "channels": ["sms"]}`), /__proto__ is not a field/],
    ])('%s → 400 naming the field, nothing written', async (_what, body, words) => {
      const before = await fingerprint();
      expect400(await t.http().post('/api/campaigns').set(as('operator')).send(body), words);
      expect(await fingerprint()).toBe(before);
    });

    it('a lone surrogate written as a JSON escape is refused too', async () => {
      const before = await fingerprint();
      const res = await t.http().post('/api/suppressions').set(as('operator')).set('content-type', 'application/json')
        .send('{"channel":"email","address":"a\\ud800@example.com","reason":"opt_out"}');
      expect400(res, /^address contains a lone UTF-16 surrogate/);
      expect(await fingerprint()).toBe(before);
    });

    it('NUL in a path parameter names it', async () => {
      expect400(await t.http().get('/api/campaigns/%00').set(as('operator')), /^id contains a NUL character/);
    });

    it('a body nested absurdly deep is refused', async () => {
      const deep = JSON.parse('{"audience":' + '{"a":'.repeat(40) + '1' + '}'.repeat(40) + '}');
      expect400(await t.http().post('/api/campaigns').set(as('operator')).send(deep), /nests more than 20 levels/);
    });
  });

  it('a body sent to a route that reads none is refused before anything happens', async () => {
    const before = await fingerprint();
    expect400(await t.http().post('/api/victims/match').set(as('operator')).send({ minLongestCallSeconds: 60 }), /takes no request body/);
    expect400(await t.http().post('/api/admin/queue-probes').set(as('admin')).send(['x']), /takes no request body/);
    expect(await fingerprint()).toBe(before);
    await t.http().post('/api/admin/queue-probes').set(as('admin')).send({}).expect(202);
  });

  describe('a campaign audience', () => {
    it.each([
      [{ minLongestCallSeconds: 3000000000 }, /audience\.minLongestCallSeconds must be a whole number/],
      [{ minLongestCallSeconds: 1e300 }, /audience\.minLongestCallSeconds must be a whole number/],
      [{ calledAfter: '2024-W01-1' }, /audience\.calledAfter must be an ISO 8601 date/],
      [{ calledBefore: '2024-02-30' }, /audience\.calledBefore must be/],
    ])('%j is refused at save', async (audience, words) => {
      const before = await fingerprint();
      const res = await t.http().post('/api/campaigns').set(as('operator'))
        .send({ name: `Bad ${tag()}`, channels: ['sms'], audience, sms: { body: SMS_TEMPLATE }, sendWindow: ALWAYS_OPEN });
      expect400(res, words);
      expect(await fingerprint()).toBe(before);
    });

    // Stored before these rules, or written around the API: it must answer 400 with what
    // to do, never a Postgres error, and an edit that keeps it is refused.
    it('already stored with a bad filter answers 400 on preview and launch, and stats still work', async () => {
      const inst = tag();
      await seedVictims(t.ds, inst, [{}]);
      const created = await t.http().post('/api/campaigns').set(as('operator'))
        .send({ name: `Stored ${inst}`, channels: ['sms'], audience: { institution: inst }, sms: { body: SMS_TEMPLATE }, sendWindow: ALWAYS_OPEN }).expect(201);
      const id = created.body.id as string;
      await t.http().post(`/api/campaigns/${id}/submit`).set(as('operator')).expect(200);
      await t.http().post(`/api/campaigns/${id}/approve`).set(as('supervisor')).expect(200);
      for (const audience of [{ institution: inst, minLongestCallSeconds: 3000000000 }, { institution: inst, calledAfter: '2024-W01-1' }]) {
        await t.ds.query(`UPDATE campaigns SET audience = $2 WHERE id = $1`, [id, JSON.stringify(audience)]);
        const before = await fingerprint();
        expect400(await t.http().get(`/api/campaigns/${id}/preview`).set(as('operator')), /saved audience cannot be used: audience\.\w+ must be.*Edit the campaign's audience/);
        expect400(await t.http().post(`/api/campaigns/${id}/launch`).set(as('supervisor')), /saved audience cannot be used/);
        expect400(await t.http().patch(`/api/campaigns/${id}`).set(as('operator')).send({ name: 'Renamed' }), /audience\.\w+ must be/);
        expect(await fingerprint()).toBe(before);
        await t.http().get(`/api/campaigns/${id}/stats`).set(as('operator')).expect(200);
      }
      const [row] = await t.ds.query(`SELECT status, name FROM campaigns WHERE id = $1`, [id]);
      expect(row).toMatchObject({ status: 'approved', name: `Stored ${inst}` });
      // Fixing the audience is the way out.
      await t.http().patch(`/api/campaigns/${id}`).set(as('operator')).send({ audience: { institution: inst } }).expect(200);
      await t.http().get(`/api/campaigns/${id}/preview`).set(as('operator')).expect(200);
    });
  });
});
