import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, TestApp, TEST_PASSWORD } from '../support/test-app.js';

describe('staff login', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOGIN_MAX_FAILURES: '5', LOGIN_LOCK_MINUTES: '15' });
  });
  afterAll(() => t.close());

  it('returns an access token for a good password and audits the login', async () => {
    const user = await t.staff('operator');
    expect(user.token.split('.')).toHaveLength(3);
    const rows = await t.ds.query(`SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id`, [user.id]);
    expect(rows.map((r: { action: string }) => r.action)).toEqual(['user.created', 'auth.login']);
  });

  it('accepts the email in any case', async () => {
    const user = await t.staff('analyst');
    await t.http().post('/api/auth/login').send({ email: user.email.toUpperCase(), password: TEST_PASSWORD }).expect(200);
  });

  it('refuses a bad password or an unknown email alike, with 401, and audits both', async () => {
    const user = await t.staff('analyst');
    const bad = await t.http().post('/api/auth/login').send({ email: user.email, password: 'wrong-password' }).expect(401);
    const unknown = await t.http().post('/api/auth/login').send({ email: 'nobody@test.police.uk', password: 'x' }).expect(401);
    expect(bad.body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'Email or password is wrong' });
    expect(unknown.body).toEqual(bad.body);
    const [{ n }] = await t.ds.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE action = 'auth.login_failed' AND (subject_id = $1 OR details->>'email' = 'nobody@test.police.uk')`,
      [user.id],
    );
    expect(n).toBe(2);
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

  it('locks an account for a while after five failures in a row, says so, and refuses even the right password', async () => {
    const user = await t.staff('supervisor');
    for (let i = 0; i < 4; i++) {
      await t.http().post('/api/auth/login').send({ email: user.email, password: 'nope' }).expect(401);
    }
    const fifth = await t.http().post('/api/auth/login').send({ email: user.email, password: 'nope' }).expect(429);
    expect(fifth.body.message).toMatch(/locked after too many failed logins/);
    expect(new Date(fifth.body.lockedUntil).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    const right = await t.http().post('/api/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(429);
    expect(right.body.message).toMatch(/locked/);
    const actions = await t.ds.query(`SELECT action FROM audit_events WHERE subject_id = $1 ORDER BY id`, [user.id]);
    expect(actions.map((a: { action: string }) => a.action).slice(-3)).toEqual([
      'auth.login_failed',
      'auth.account_locked',
      'auth.login_refused_locked',
    ]);
    // Once the lock expires the right password works again and the count restarts.
    await t.ds.query(`UPDATE staff_users SET locked_until = now() - interval '1 second' WHERE id = $1`, [user.id]);
    await t.http().post('/api/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    const [row] = await t.ds.query(`SELECT failed_login_count, locked_until FROM staff_users WHERE id = $1`, [user.id]);
    expect(row).toEqual({ failed_login_count: 0, locked_until: null });
  });

  it('a successful login in between resets the failure count', async () => {
    const user = await t.staff('operator');
    for (let i = 0; i < 4; i++) await t.http().post('/api/auth/login').send({ email: user.email, password: 'nope' }).expect(401);
    await t.http().post('/api/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(200);
    for (let i = 0; i < 4; i++) await t.http().post('/api/auth/login').send({ email: user.email, password: 'nope' }).expect(401);
  });

  it('concurrent failures cannot slip past the limit', async () => {
    const user = await t.staff('operator');
    const results = await Promise.all(
      Array.from({ length: 12 }, () => t.http().post('/api/auth/login').send({ email: user.email, password: 'nope' })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    await t.http().post('/api/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(429);
  });

  it('refuses a disabled user', async () => {
    const user = await t.staff('operator');
    await t.ds.query(`UPDATE staff_users SET disabled = true WHERE id = $1`, [user.id]);
    await t.http().post('/api/auth/login').send({ email: user.email, password: TEST_PASSWORD }).expect(401);
  });

  it('rejects a forged or expired token', async () => {
    const admin = await t.staff('admin');
    const [h, p] = admin.token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: admin.id, role: 'admin', email: admin.email })).toString('base64url')}.AAAA`;
    await t.http().get('/api/audit-events').set('authorization', `Bearer ${forged}`).expect(401);
    await t.http().get('/api/audit-events').set('authorization', `Bearer ${h}.${p}`).expect(401);
    await t.http().get('/api/audit-events').set('authorization', `Bearer ${admin.token}`).expect(200);
  });
});
