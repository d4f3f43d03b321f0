import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictException } from '@nestjs/common';
import { UsersService } from '../../src/modules/auth/users.service.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { ownDatabase } from '../support/test-db.js';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

describe('users API', () => {
  let t: TestApp;
  let admin: { id: string; email: string; token: string };
  beforeAll(async () => {
    t = await startTestApp();
    admin = await t.staff('admin');
    await t.staff('admin'); // so that `admin` is never the last one, even when this file runs alone
  });
  afterAll(() => t.close());

  const patch = (id: string, body: unknown, token = admin.token) =>
    t.http().patch(`/api/users/${id}`).set('authorization', `Bearer ${token}`).send(body as object);
  const auditCount = async () => (await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'user.updated'`))[0].n as number;

  it('lists users page by page, without password hashes', async () => {
    const a = await t.staff('analyst');
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { items: Array<{ id: string }>; nextCursor: string | null } } = await t.http().get('/api/users').query(cursor ? { limit: 1, cursor } : { limit: 1 }).set('authorization', `Bearer ${admin.token}`).expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(1);
      for (const u of res.body.items) {
        expect(seen.has(u.id)).toBe(false);
        seen.add(u.id);
        expect(Object.keys(u).sort()).toEqual(['createdAt', 'disabled', 'displayName', 'email', 'id', 'lastLoginAt', 'role']);
      }
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 1000);
    expect(seen.has(a.id)).toBe(true);
    expect(seen.has(admin.id)).toBe(true);
    expect(pages).toBeGreaterThan(1);
  });

  it('refuses bad paging with 400', async () => {
    for (const query of [{ limit: 0 }, { limit: 'many' }, { cursor: 'not-a-cursor' }, { cursor: Buffer.from('["a","b"]').toString('base64url') }]) {
      const res = await t.http().get('/api/users').query(query).set('authorization', `Bearer ${admin.token}`);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    }
  });

  it('disables, enables and re-roles a user, audited with before and after', async () => {
    const user = await t.staff('supervisor');
    const off = await patch(user.id, { disabled: true }).expect(200);
    expect(off.body).toMatchObject({ id: user.id, role: 'supervisor', disabled: true });
    await patch(user.id, { disabled: false, role: 'analyst' }).expect(200);
    const rows = await t.ds.query(
      `SELECT actor_type, actor_id, details, host(ip) AS ip FROM audit_events WHERE action = 'user.updated' AND subject_id = $1 ORDER BY id`,
      [user.id],
    );
    expect(rows).toEqual([
      { actor_type: 'staff', actor_id: admin.id, ip: '127.0.0.1', details: { before: { role: 'supervisor', disabled: false }, after: { role: 'supervisor', disabled: true } } },
      { actor_type: 'staff', actor_id: admin.id, ip: '127.0.0.1', details: { before: { role: 'supervisor', disabled: true }, after: { role: 'analyst', disabled: false } } },
    ]);
    const [row] = await t.ds.query(`SELECT role, disabled, token_version FROM staff_users WHERE id = $1`, [user.id]);
    expect(row).toEqual({ role: 'analyst', disabled: false, token_version: 2 });
  });

  it('a change to nothing new writes nothing', async () => {
    const user = await t.staff('operator');
    const before = await auditCount();
    await patch(user.id, { role: 'operator', disabled: false }).expect(200);
    expect(await auditCount()).toBe(before);
  });

  it('404 for an unknown id, 400 for a bad id or body, 409 for your own account; nothing written', async () => {
    const user = await t.staff('operator');
    const before = await auditCount();
    const cases: Array<[string, unknown, number, RegExp]> = [
      [UNKNOWN, { disabled: true }, 404, /No staff user has the id/],
      ['not-a-uuid', { disabled: true }, 400, /id must be a UUID/],
      ['------------------------------------', { disabled: true }, 400, /id must be a UUID/],
      [user.id, {}, 400, /Send role, disabled or both/],
      [user.id, { role: 'root' }, 400, /role must be one of admin, supervisor, operator, analyst/],
      [user.id, { disabled: 'yes' }, 400, /disabled must be true or false/],
      [user.id, { disabled: true, email: 'x@y.z' }, 400, /property email should not exist/],
      [admin.id, { disabled: true }, 409, /your own account/],
      [admin.id, { role: 'analyst' }, 409, /your own account/],
    ];
    for (const [id, body, status, message] of cases) {
      const res = await patch(id, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body).toMatchObject({ statusCode: status, message: expect.stringMatching(message) });
    }
    expect(await auditCount()).toBe(before);
    const [row] = await t.ds.query(`SELECT role, disabled FROM staff_users WHERE id = $1`, [user.id]);
    expect(row).toEqual({ role: 'operator', disabled: false });
  });
});

describe('the last active admin', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Other test files create admins in the shared database; here there is exactly one.
    t = await startTestApp({ DATABASE_URL: await ownDatabase('auth_admins') });
  });
  afterAll(() => t?.close());

  it('cannot be disabled or demoted, by themselves, another process or the CLI; a second admin makes it possible', async () => {
    const only = await t.staff('admin');
    const res = await t.http().patch(`/api/users/${only.id}`).set('authorization', `Bearer ${only.token}`).send({ disabled: true }).expect(409);
    expect(res.body).toEqual({ statusCode: 409, error: 'Conflict', message: 'This is the last active admin: make another user an admin first' });
    const users = t.app.get(UsersService);
    const cli = { type: 'system' as const, id: 'cli' };
    await expect(users.update(only.id, { role: 'supervisor' }, cli)).rejects.toBeInstanceOf(ConflictException);
    await expect(users.update(only.id, { disabled: true }, cli)).rejects.toThrow(/last active admin/);

    const second = await t.staff('supervisor');
    await users.update(second.id, { role: 'admin' }, cli);
    // Both at once: one of the two demotions must lose.
    const results = await Promise.allSettled([users.update(only.id, { role: 'operator' }, cli), users.update(second.id, { role: 'operator' }, cli)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM staff_users WHERE role = 'admin' AND NOT disabled`);
    expect(n).toBe(1);
  });
});
