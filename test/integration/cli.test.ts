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

async function runAll<K extends string>(jobs: Record<K, [string[], Record<string, string>?]>, concurrency = 3): Promise<Record<K, CliResult>> {
  const entries = Object.entries(jobs) as Array<[K, [string[], Record<string, string>?]]>;
  const results = {} as Record<K, CliResult>;
  let next = 0;
  const lane = async () => {
    while (next < entries.length) {
      const [key, [args, env]] = entries[next++];
      results[key] = await runCli(args, { ...ENV, ...env });
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
  const bankName = `CLI Bank ${tag()}`;
  const insecureBank = `CLI Insecure ${tag()}`;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.get(AuthService).createUser({ email: existing, password, role: 'analyst' }, { type: 'system', id: 'test' });
    r = await runAll({
      good: [['user:create', '--email', email, '--password', password, '--role', 'operator', '--name', 'CLI User']],
      badEmail: [['user:create', '--email', 'not-an-email', '--password', password, '--role', 'operator']],
      shortPassword: [['user:create', '--email', refused.shortPassword, '--password', 'short', '--role', 'operator']],
      badRole: [['user:create', '--email', refused.badRole, '--password', password, '--role', 'superuser']],
      missingRole: [['user:create', '--email', refused.missingRole, '--password', password]],
      unknownCommand: [['user:frobnicate', '--email', refused.unknownCommand, '--password', password, '--role', 'admin']],
      badPort: [['user:create', '--email', refused.badPort, '--password', password, '--role', 'operator'], { PORT: 'abc' }],
      duplicate: [['user:create', '--email', existing.toUpperCase(), '--password', password, '--role', 'admin']],
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
