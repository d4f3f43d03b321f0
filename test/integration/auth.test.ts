import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/modules/auth/auth.service.js';
import { startTestApp, TestApp, TEST_PASSWORD } from '../support/test-app.js';

// The app trusts X-Forwarded-For from loopback, so each test picks the caller's address.
let nextAddress = 1;
const address = () => `198.51.100.${nextAddress++}`;
const NOBODY = () => `nobody-${randomUUID().slice(0, 8)}@test.police.uk`;
const NO_SUCH_CAMPAIGN = '00000000-0000-4000-8000-000000000000';

function login(t: TestApp, email: string, password: string, from: string) {
  return t.http().post('/api/auth/login').set('x-forwarded-for', from).send({ email, password });
}

async function actions(t: TestApp, userId: string): Promise<string[]> {
  const rows = await t.ds.query(`SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id`, [userId]);
  return rows.map((r: { action: string }) => r.action);
}

describe('staff login', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '5', LOGIN_LOCK_MINUTES: '15' });
  });
  afterAll(() => t.close());

  it('returns an access token for a good password and audits the login', async () => {
    const user = await t.staff('operator');
    expect(user.token.split('.')).toHaveLength(3);
    expect(await actions(t, user.id)).toEqual(['user.created', 'auth.login']);
    const claims = jwt.decode(user.token) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: user.id, tv: 0, iss: 'outreach', aud: 'outreach-staff', exp: expect.any(Number) });
    expect(claims).not.toHaveProperty('role'); // the guard reads the live role
  });

  it('accepts the email in any case', async () => {
    const user = await t.staff('analyst');
    await login(t, user.email.toUpperCase(), TEST_PASSWORD, address()).expect(200);
  });

  it('refuses a bad password, an unknown email and a disabled account alike, with 401, and audits each reason', async () => {
    const user = await t.staff('analyst');
    const disabled = await t.staff('analyst');
    await t.ds.query(`UPDATE staff_users SET disabled = true WHERE id = $1`, [disabled.id]);
    const nobody = NOBODY();
    const from = address();
    const bad = await login(t, user.email, 'wrong-password', from).expect(401);
    const unknown = await login(t, nobody, 'x', from).expect(401);
    const off = await login(t, disabled.email, TEST_PASSWORD, from).expect(401);
    expect(bad.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Email or password is wrong' });
    expect(unknown.body).toEqual(bad.body);
    expect(off.body).toEqual(bad.body);
    const rows = await t.ds.query(
      `SELECT details->>'reason' AS reason FROM audit_events WHERE action = 'auth.login_failed' AND details->>'email' = ANY($1) ORDER BY id`,
      [[user.email, nobody, disabled.email]],
    );
    expect(rows.map((r: { reason: string }) => r.reason)).toEqual(['bad_password', 'unknown_email', 'disabled']);
  });

  it('rejects malformed bodies with 400 and a readable message', async () => {
    const res = await t.http().post('/api/auth/login').send({ email: 'not-an-email', password: 'x', admin: true }).expect(400);
    expect(res.body.statusCode).toBe(400);
    expect(res.body.error).toBe('Bad Request');
    expect(res.body.message).toContain('property admin should not exist');
    expect(res.body.message).toContain('email must be an email address');
    const bad = await t.http().post('/api/auth/login').set('content-type', 'application/json').send('{"email":').expect(400);
    expect(bad.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/JSON/) });
  });

  it('after five failures from one address, that address is locked out of the account, but the owner elsewhere is not', async () => {
    const user = await t.staff('supervisor');
    const stranger = address();
    for (let i = 0; i < 5; i++) await login(t, user.email, 'nope', stranger).expect(401);
    const locked = await login(t, user.email, TEST_PASSWORD, stranger).expect(429);
    expect(locked.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/Too many failed logins for this email from your address.*Retry-After/),
    });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(14 * 60);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    expect((await actions(t, user.id)).slice(-3)).toEqual(['auth.login_failed', 'auth.account_locked', 'auth.login_refused_locked']);

    // The owner, from their own address, is not locked out by the stranger.
    await login(t, user.email, TEST_PASSWORD, address()).expect(200);
    await login(t, user.email, TEST_PASSWORD, stranger).expect(429);
  });

  it('a successful login in between starts the count afresh', async () => {
    const user = await t.staff('operator');
    const from = address();
    for (let i = 0; i < 4; i++) await login(t, user.email, 'nope', from).expect(401);
    await login(t, user.email, TEST_PASSWORD, from).expect(200);
    for (let i = 0; i < 5; i++) await login(t, user.email, 'nope', from).expect(401);
    await login(t, user.email, 'nope', from).expect(429);
  });

  it('a locked account, a disabled one and an unknown email answer alike, step by step', async () => {
    const real = await t.staff('supervisor');
    const disabled = await t.staff('operator');
    await t.ds.query(`UPDATE staff_users SET disabled = true WHERE id = $1`, [disabled.id]);
    const from = address();
    const answers: Record<string, Array<{ status: number; body: unknown; retryAfter: boolean }>> = { real: [], disabled: [], unknown: [] };
    const emails = { real: real.email, disabled: disabled.email, unknown: NOBODY() };
    for (let i = 0; i < 7; i++) {
      for (const [kind, email] of Object.entries(emails)) {
        // The last two tries use the right password; a locked account still refuses it.
        const res = await login(t, email, i >= 5 ? TEST_PASSWORD : 'nope', from);
        answers[kind].push({ status: res.status, body: res.body, retryAfter: 'retry-after' in res.headers });
      }
    }
    expect(answers.real.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429, 429]);
    expect(answers.real.slice(5).every((a) => a.retryAfter)).toBe(true);
    expect(answers.disabled).toEqual(answers.real);
    expect(answers.unknown).toEqual(answers.real);
  });

  it('takes about the same time for an unknown email, a wrong password and a disabled account', async () => {
    const user = await t.staff('analyst');
    const disabled = await t.staff('analyst');
    await t.ds.query(`UPDATE staff_users SET disabled = true WHERE id = $1`, [disabled.id]);
    const cases = { wrong: [user.email, 'wrong-password'], unknown: [NOBODY(), 'wrong-password'], off: [disabled.email, TEST_PASSWORD] };
    const samples: Record<string, number[]> = { wrong: [], unknown: [], off: [] };
    // Taken in turn, so that a slow moment of a busy machine falls on all three alike.
    for (let i = 0; i < 11; i++) {
      for (const [kind, [email, password]] of Object.entries(cases)) {
        const start = performance.now();
        await login(t, email, password, address()).expect(401);
        samples[kind].push(performance.now() - start);
      }
    }
    // The fastest of each is the least disturbed by whatever else the machine is doing.
    const [wrong, unknown, off] = [Math.min(...samples.wrong), Math.min(...samples.unknown), Math.min(...samples.off)];
    // An argon2 check is tens of milliseconds: skipping it anywhere shows as a factor, not noise.
    for (const other of [unknown, off]) {
      expect(other / wrong).toBeGreaterThan(0.6);
      expect(other / wrong).toBeLessThan(1.67);
    }
  });

  it('parallel attempts from one address get exactly five password checks', async () => {
    const user = await t.staff('operator');
    const from = address();
    const results = await Promise.all(Array.from({ length: 12 }, () => login(t, user.email, 'nope', from)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
    expect((await actions(t, user.id)).filter((a) => a === 'auth.login_failed')).toHaveLength(5);
    await login(t, user.email, TEST_PASSWORD, from).expect(429);
  });
});

describe('many addresses guessing one account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_ACCOUNT_MAX_FAILURES: '4' });
  });
  afterAll(() => t.close());

  it('stop new addresses once the account-wide ceiling is reached, but not an address the owner logged in from', async () => {
    const user = await t.staff('supervisor');
    const owner = address();
    await login(t, user.email, TEST_PASSWORD, owner).expect(200);
    const unknown = NOBODY();
    for (let i = 0; i < 4; i++) {
      await login(t, user.email, 'guess', address()).expect(401);
      await login(t, unknown, 'guess', address()).expect(401);
    }
    const refused = await login(t, user.email, TEST_PASSWORD, address()).expect(429);
    const refusedUnknown = await login(t, unknown, TEST_PASSWORD, address()).expect(429);
    expect(refusedUnknown.body).toEqual(refused.body);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(59 * 60);
    await login(t, user.email, TEST_PASSWORD, owner).expect(200);
    const locks = await t.ds.query(`SELECT details FROM audit_events WHERE subject_id = $1 AND action = 'auth.account_locked'`, [user.id]);
    expect(locks).toEqual([{ details: { email: user.email, scope: 'account' } }]);
  });
});

describe('staff tokens', () => {
  let t: TestApp;
  let other: TestApp;
  const CACHE_MS = 300;
  beforeAll(async () => {
    t = await startTestApp({ ACCESS_CACHE_MS: String(CACHE_MS) });
    // A second api process on the same database: it hears of changes only through Postgres.
    other = await startTestApp({ ACCESS_CACHE_MS: String(CACHE_MS) });
  });
  afterAll(async () => {
    await other.close();
    await t.close();
  });

  const sign = (claims: Record<string, unknown>, options: jwt.SignOptions = {}) =>
    jwt.sign(claims, t.config.jwtSecret, { algorithm: 'HS256', issuer: 'outreach', audience: 'outreach-staff', expiresIn: 600, ...options });
  const audit = (token: string, app = t) => app.http().get('/api/audit-events').set('authorization', `Bearer ${token}`);

  it('rejects a forged, truncated, expired, exp-less, wrong-issuer, wrong-audience or wrong-algorithm token', async () => {
    const admin = await t.staff('admin');
    const [h, p] = admin.token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: admin.id, tv: 0 })).toString('base64url')}.AAAA`;
    const claims = { sub: admin.id, tv: 0 };
    // A token made here the way the app makes them works, so each refusal below is for its one flaw.
    await audit(sign(claims)).expect(200);
    const bad = {
      forged,
      truncated: `${h}.${p}`,
      expired: jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, t.config.jwtSecret, { algorithm: 'HS256', issuer: 'outreach', audience: 'outreach-staff' }),
      noExp: jwt.sign({ ...claims, iat: Math.floor(Date.now() / 1000) }, t.config.jwtSecret, { algorithm: 'HS256', issuer: 'outreach', audience: 'outreach-staff' }),
      wrongIssuer: sign(claims, { issuer: 'someone-else' }),
      noIssuer: jwt.sign(claims, t.config.jwtSecret, { algorithm: 'HS256', audience: 'outreach-staff', expiresIn: 600 }),
      wrongAudience: sign(claims, { audience: 'outreach-banks' }),
      wrongAlgorithm: sign(claims, { algorithm: 'HS384' }),
      none: jwt.sign(claims, '', { algorithm: 'none', issuer: 'outreach', audience: 'outreach-staff', expiresIn: 600 }),
      badSubject: sign({ sub: 'not-a-uuid', tv: 0 }),
      noVersion: sign({ sub: admin.id }),
    };
    for (const [name, token] of Object.entries(bad)) {
      const res = await audit(token);
      expect(res.status, name).toBe(401);
      expect(res.body, name).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    }
  });

  it('logout answers 204 and ends every token of that user at once; logging in again works', async () => {
    const admin = await t.staff('admin');
    const second = (await login(t, admin.email, TEST_PASSWORD, address()).expect(200)).body.accessToken as string;
    await audit(admin.token, other).expect(200); // warms the other process's cache
    await t.http().post('/api/auth/logout').set('authorization', `Bearer ${admin.token}`).expect(204);
    await audit(admin.token).expect(401);
    await audit(second).expect(401);
    await new Promise((r) => setTimeout(r, CACHE_MS + 50));
    await audit(admin.token, other).expect(401);
    expect(await actions(t, admin.id)).toContain('auth.logout');
    const fresh = (await login(t, admin.email, TEST_PASSWORD, address()).expect(200)).body.accessToken as string;
    await audit(fresh).expect(200);
  });

  it('a password change ends old tokens', async () => {
    const admin = await t.staff('admin');
    await audit(admin.token).expect(200);
    await t.app.get(AuthService).setPassword(admin.email, 'a-brand-new-password', { type: 'system', id: 'test' });
    await audit(admin.token).expect(401);
    await login(t, admin.email, TEST_PASSWORD, address()).expect(401);
    const fresh = (await login(t, admin.email, 'a-brand-new-password', address()).expect(200)).body.accessToken as string;
    await audit(fresh).expect(200);
    expect(await actions(t, admin.id)).toContain('user.password_changed');
  });

  it('a disabled user is refused at once on this process and within the cache window on another', async () => {
    const admin = await t.staff('admin');
    const victim = await t.staff('operator');
    const read = (app: TestApp) => app.http().get('/api/victims?limit=1').set('authorization', `Bearer ${victim.token}`);
    await read(t).expect(200);
    await read(other).expect(200);
    await t.http().patch(`/api/users/${victim.id}`).set('authorization', `Bearer ${admin.token}`).send({ disabled: true }).expect(200);
    await read(t).expect(401);
    await new Promise((r) => setTimeout(r, CACHE_MS + 50));
    await read(other).expect(401);
  });

  it('checks `disabled` itself, not only the token version', async () => {
    const user = await t.staff('analyst');
    await audit(user.token).expect(403);
    await t.ds.query(`UPDATE staff_users SET disabled = true WHERE id = $1`, [user.id]); // no version bump
    await new Promise((r) => setTimeout(r, CACHE_MS + 50));
    await t.http().get('/api/victims?limit=1').set('authorization', `Bearer ${user.token}`).expect(401);
  });

  it('a demoted supervisor can no longer launch: old tokens end, and the role is read live', async () => {
    const admin = await t.staff('admin');
    const sup = await t.staff('supervisor');
    const launch = (token: string) => t.http().post(`/api/campaigns/${NO_SUCH_CAMPAIGN}/launch`).set('authorization', `Bearer ${token}`);
    expect((await launch(sup.token)).status).toBe(404); // let through: no such campaign
    await t.http().patch(`/api/users/${sup.id}`).set('authorization', `Bearer ${admin.token}`).send({ role: 'operator' }).expect(200);
    await launch(sup.token).expect(401);
    const asOperator = (await login(t, sup.email, TEST_PASSWORD, address()).expect(200)).body.accessToken as string;
    await launch(asOperator).expect(403);

    // A role changed behind the app's back (no version bump) still counts once the cache ages out.
    const sup2 = await t.staff('supervisor');
    expect((await launch(sup2.token)).status).toBe(404);
    await t.ds.query(`UPDATE staff_users SET role = 'analyst' WHERE id = $1`, [sup2.id]);
    await new Promise((r) => setTimeout(r, CACHE_MS + 50));
    await launch(sup2.token).expect(403);
  });
});
