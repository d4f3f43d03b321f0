import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditService } from '../../src/modules/audit/audit.service.js';
import { startTestApp, TestApp } from '../support/test-app.js';

describe('audit log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('records who did what to which record, with details', async () => {
    await t.app.get(AuditService).record({
      actor: { type: 'staff', id: 'u-1', ip: '::ffff:127.0.0.1' },
      action: 'test.something',
      subjectType: 'victim',
      subjectId: 'v-1',
      details: { why: 'because' },
    });
    const [row] = await t.ds.query(`SELECT * FROM audit_events WHERE action = 'test.something'`);
    expect(row).toMatchObject({ actor_type: 'staff', actor_id: 'u-1', subject_type: 'victim', subject_id: 'v-1', details: { why: 'because' }, ip: '127.0.0.1' });
  });

  it('audits user and bank creation', async () => {
    const user = await t.staff('analyst');
    const bank = await t.bank();
    const rows = await t.ds.query(
      `SELECT action, subject_id FROM audit_events WHERE action IN ('user.created','bank.created') AND subject_id IN ($1, $2)`,
      [user.id, bank.id],
    );
    expect(rows).toHaveLength(2);
  });

  it('is append-only: the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    const [{ id }] = await t.ds.query(`SELECT id FROM audit_events ORDER BY id DESC LIMIT 1`);
    await expect(t.ds.query(`UPDATE audit_events SET action = 'tampered' WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(t.ds.query(`DELETE FROM audit_events WHERE id = $1`, [id])).rejects.toThrow(/append-only/);
    await expect(t.ds.query(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE id = $1 AND action <> 'tampered'`, [id]);
    expect(n).toBe(1);
  });

  it('rejects an unknown actor type', async () => {
    await expect(
      t.app.get(AuditService).record({ actor: { type: 'hacker' as never }, action: 'x' }),
    ).rejects.toThrow();
  });

  it('lets admins read the log, filtered', async () => {
    const admin = await t.staff('admin');
    const res = await t.http().get(`/api/audit-events?subjectId=${admin.id}`).set('authorization', `Bearer ${admin.token}`).expect(200);
    expect(res.body.map((r: { action: string }) => r.action).sort()).toEqual(['auth.login', 'user.created']);
    await t.http().get('/api/audit-events?limit=abc').set('authorization', `Bearer ${admin.token}`).expect(400);
  });
});
