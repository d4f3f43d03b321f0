import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/modules/auth/auth.service.js';
import { runCli } from '../support/processes.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL } from '../support/test-db.js';

type CliResult = Awaited<ReturnType<typeof runCli>>;

// Each CLI run is a real process (~2 s of CPU), so every run this file needs starts up
// front, a few at a time, and the tests below only look at the results.
const ENV = { DATABASE_URL: TEST_DATABASE_URL };
const tag = () => randomUUID().slice(0, 8);

type Job = [string[], Record<string, string>?, string?];

async function runAll<K extends string>(jobs: Record<K, Job>, concurrency = 3): Promise<Record<K, CliResult>> {
  const entries = Object.entries(jobs) as Array<[K, Job]>;
  const results = {} as Record<K, CliResult>;
  let next = 0;
  const lane = async () => {
    while (next < entries.length) {
      const [key, [args, env, input]] = entries[next++];
      results[key] = await runCli(args, { ...ENV, ...env }, undefined, input);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return results;
}

describe('CLI', () => {
  let t: TestApp;
  let r: Record<string, CliResult>;
  const password = `cli-password-${tag()}`;
  const email = `cli-${tag()}@test.police.uk`;
  const existing = `cli-existing-${tag()}@test.police.uk`;
  const refused = {
    shortPassword: `cli-short-${tag()}@test.police.uk`,
    badRole: `cli-role-${tag()}@test.police.uk`,
    missingRole: `cli-missing-${tag()}@test.police.uk`,
    unknownCommand: `cli-unknown-${tag()}@test.police.uk`,
    badPort: `cli-port-${tag()}@test.police.uk`,
  };
  const fromEnv = `cli-env-${tag()}@test.police.uk`;
  const fromFlag = `cli-flag-${tag()}@test.police.uk`;
  const lockedOut = `cli-locked-${tag()}@test.police.uk`;
  const managed = { disable: `cli-off-${tag()}@test.police.uk`, role: `cli-role2-${tag()}@test.police.uk`, password: `cli-pw-${tag()}@test.police.uk`, enable: `cli-on-${tag()}@test.police.uk` };
  const bankName = `CLI Bank ${tag()}`;
  const insecureBank = `CLI Insecure ${tag()}`;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.get(AuthService).createUser({ email: existing, password, role: 'analyst' }, { type: 'system', id: 'test' });
    for (const address of Object.values(managed)) {
      await t.app.get(AuthService).createUser({ email: address, password, role: 'supervisor' }, { type: 'system', id: 'test' });
    }
    await t.ds.query(`UPDATE staff_users SET disabled = true WHERE email = $1`, [managed.enable]);
    await t.app.get(AuthService).createUser({ email: lockedOut, password, role: 'operator' }, { type: 'system', id: 'test' });
    for (let i = 0; i < 5; i++) await t.http().post('/api/auth/login').send({ email: lockedOut, password: 'wrong-password' }).expect(401);
    await t.http().post('/api/auth/login').send({ email: lockedOut, password }).expect(429);
    r = await runAll({
      unlock: [['user:unlock', '--email', lockedOut], { QUEUE_PREFIX: t.config.queuePrefix }],
      good: [['user:create', '--email', email, '--role', 'operator', '--name', 'CLI User'], {}, `${password}\n`],
      fromEnv: [['user:create', '--email', fromEnv, '--role', 'analyst'], { OUTREACH_PASSWORD: password }],
      fromFlag: [['user:create', '--email', fromFlag, '--password', password, '--role', 'analyst']],
      noPassword: [['user:create', '--email', `cli-nopw-${tag()}@test.police.uk`, '--role', 'analyst']],
      disable: [['user:disable', '--email', managed.disable.toUpperCase()]],
      setRole: [['user:set-role', '--email', managed.role, '--role', 'analyst']],
      setPassword: [['user:set-password', '--email', managed.password], {}, 'a-new-cli-password\n'],
      enable: [['user:enable', '--email', managed.enable]],
      disableUnknown: [['user:disable', '--email', `cli-nobody-${tag()}@test.police.uk`]],
      badEmail: [['user:create', '--email', 'not-an-email', '--role', 'operator'], { OUTREACH_PASSWORD: password }],
      shortPassword: [['user:create', '--email', refused.shortPassword, '--role', 'operator'], {}, 'short\n'],
      badRole: [['user:create', '--email', refused.badRole, '--role', 'superuser'], { OUTREACH_PASSWORD: password }],
      missingRole: [['user:create', '--email', refused.missingRole], { OUTREACH_PASSWORD: password }],
      unknownCommand: [['user:frobnicate', '--email', refused.unknownCommand, '--role', 'admin'], { OUTREACH_PASSWORD: password }],
      badPort: [['user:create', '--email', refused.badPort, '--role', 'operator'], { PORT: 'abc', OUTREACH_PASSWORD: password }],
      duplicate: [['user:create', '--email', existing.toUpperCase(), '--role', 'admin'], { OUTREACH_PASSWORD: password }],
      bank: [['bank:create', '--name', bankName]],
      insecureBank: [['bank:create', '--name', insecureBank, '--webhook-url', 'http://example.com/hook']],
    });
  }, 120_000);
  afterAll(() => t?.close());

  const usersWithEmail = async (address: string) =>
    (await t.ds.query(`SELECT count(*)::int AS n FROM staff_users WHERE email = lower($1)`, [address]))[0].n as number;

  it('user:create prints the new user as JSON, and that user can log in over HTTP with the password', async () => {
    const { good } = r;
    expect(good.code, good.stderr).toBe(0);
    const user = JSON.parse(good.stdout);
    expect(Object.keys(user).sort()).toEqual(['email', 'id', 'role']);
    expect(user).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), email, role: 'operator' });
    expect(good.stdout + good.stderr).not.toContain(password);

    const login = await t.http().post('/api/auth/login').send({ email, password }).expect(200);
    expect(login.body.accessToken.split('.')).toHaveLength(3);
    const audit = await t.ds.query(`SELECT actor_type, actor_id, details FROM audit_events WHERE action = 'user.created' AND subject_id = $1`, [user.id]);
    expect(audit).toEqual([{ actor_type: 'system', actor_id: 'cli', details: { email, role: 'operator' } }]);
  });

  it('user:create also takes the password from OUTREACH_PASSWORD, or from --password with a warning, and refuses to go without one', async () => {
    for (const [res, address] of [[r.fromEnv, fromEnv], [r.fromFlag, fromFlag]] as const) {
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ email: address, role: 'analyst' });
      await t.http().post('/api/auth/login').send({ email: address, password }).expect(200);
    }
    expect(r.fromEnv.stderr).not.toMatch(/warning/);
    expect(r.fromFlag.stderr).toMatch(/warning: --password is visible to other users in `ps` and stays in your shell history/);
    expect(r.noPassword.code).toBe(1);
    expect(r.noPassword.stderr).toMatch(/No password given: pipe it on stdin or set OUTREACH_PASSWORD/);
    expect(r.noPassword.stdout).toBe('');
  });

  it('user:disable, user:set-role and user:set-password change the user, end their tokens and are audited as the CLI', async () => {
    for (const res of [r.disable, r.setRole, r.setPassword, r.enable]) expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(r.enable.stdout)).toMatchObject({ email: managed.enable, disabled: false });
    await t.http().post('/api/auth/login').send({ email: managed.enable, password }).expect(200);
    expect(JSON.parse(r.disable.stdout)).toMatchObject({ email: managed.disable, disabled: true });
    expect(JSON.parse(r.setRole.stdout)).toMatchObject({ email: managed.role, role: 'analyst' });
    await t.http().post('/api/auth/login').send({ email: managed.disable, password }).expect(401);
    await t.http().post('/api/auth/login').send({ email: managed.password, password }).expect(401);
    await t.http().post('/api/auth/login').send({ email: managed.password, password: 'a-new-cli-password' }).expect(200);
    const rows = await t.ds.query(
      `SELECT u.email, a.action, a.actor_type, a.actor_id, a.details, u.token_version
         FROM audit_events a JOIN staff_users u ON u.id::text = a.subject_id
        WHERE u.email = ANY($1) AND a.action IN ('user.updated', 'user.password_changed') ORDER BY u.email`,
      [Object.values(managed)],
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { email: managed.disable, action: 'user.updated', actor_type: 'system', actor_id: 'cli', token_version: 1, details: { before: { role: 'supervisor', disabled: false }, after: { role: 'supervisor', disabled: true } } },
        { email: managed.role, action: 'user.updated', actor_type: 'system', actor_id: 'cli', token_version: 1, details: { before: { role: 'supervisor', disabled: false }, after: { role: 'analyst', disabled: false } } },
        { email: managed.password, action: 'user.password_changed', actor_type: 'system', actor_id: 'cli', token_version: 1, details: {} },
        { email: managed.enable, action: 'user.updated', actor_type: 'system', actor_id: 'cli', token_version: 1, details: { before: { role: 'supervisor', disabled: true }, after: { role: 'supervisor', disabled: false } } },
      ]),
    );
    expect(rows).toHaveLength(4);
    expect(r.disableUnknown.code).toBe(1);
    expect(r.disableUnknown.stderr).toMatch(/No staff user has the email cli-nobody-/);
  });

  it('user:unlock lifts the login lock on an email, audited', async () => {
    expect(r.unlock.code, r.unlock.stderr).toBe(0);
    await t.http().post('/api/auth/login').send({ email: lockedOut, password }).expect(200);
    const rows = await t.ds.query(`SELECT actor_id, details FROM audit_events WHERE action = 'auth.account_unlocked' AND details->>'email' = $1`, [lockedOut]);
    expect(rows).toEqual([{ actor_id: 'cli', details: { email: lockedOut } }]);
  });

  it('bad input exits non-zero with one clear line naming the problem, and writes no user', async () => {
    const expectations: Array<[CliResult, RegExp]> = [
      [r.badEmail, /"not-an-email" is not a valid email address/],
      [r.shortPassword, /password must be at least 12 characters/],
      [r.badRole, /role must be one of admin, supervisor, operator, analyst \(got "superuser"\)/],
      [r.missingRole, /required option '--role <role>' not specified/],
      [r.unknownCommand, /unknown command 'user:frobnicate'/],
      [r.badPort, /Invalid configuration:\s+- PORT must be a whole number from 0 to 65535 \(got "abc"\)/],
      [r.duplicate, /A user with email .* already exists/],
    ];
    for (const [res, message] of expectations) {
      expect(res.code, res.stderr).not.toBe(0);
      expect(res.code).not.toBeNull(); // it exited by itself, not by runCli's timeout
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(res.stdout).toBe('');
    }
    for (const address of Object.values(refused)) expect(await usersWithEmail(address)).toBe(0);
    expect(await usersWithEmail('not-an-email')).toBe(0);
    expect(await usersWithEmail(existing)).toBe(1);
    const [{ role }] = await t.ds.query(`SELECT role FROM staff_users WHERE email = $1`, [existing]);
    expect(role).toBe('analyst'); // the duplicate did not overwrite the first
  });

  it('bank:create prints a working API key once, storing only its hash', async () => {
    const { bank } = r;
    expect(bank.code, bank.stderr).toBe(0);
    const created = JSON.parse(bank.stdout);
    expect(created).toMatchObject({ id: expect.any(String), name: bankName, apiKey: expect.stringMatching(/^obk_/), webhookUrl: null });
    expect(created.apiKey.startsWith(created.apiKeyPrefix)).toBe(true);
    const profile = await t.http().get('/api/bank/profile').set('authorization', `Bearer ${created.apiKey}`).expect(200);
    expect(profile.body).toMatchObject({ id: created.id, name: bankName });
    const [row] = await t.ds.query(`SELECT api_key_hash FROM banks WHERE id = $1`, [created.id]);
    expect(row.api_key_hash).not.toContain(created.apiKey);
  });

  it('bank:create refuses a plain-http webhook URL and writes no bank', async () => {
    const { insecureBank: res } = r;
    expect(res.code).not.toBe(0);
    expect(res.code).not.toBeNull();
    expect(res.stderr).toMatch(/webhook URL must use https/);
    expect(res.stdout).toBe('');
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM banks WHERE name = $1`, [insecureBank]);
    expect(n).toBe(0);
  });
});
