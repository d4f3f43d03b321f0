import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp, TestApp } from '../support/test-app.js';

describe('GET /health', () => {
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((a) => a.close())));

  it('answers 200 when Postgres and Redis answer', async () => {
    const t = await startTestApp();
    apps.push(t);
    const res = await t.http().get('/health').expect(200);
    expect(res.body.details).toEqual({ postgres: { status: 'up' }, redis: { status: 'up' } });
  });

  it('answers 503 naming Redis when Redis is unreachable, and enqueueing fails fast with 503', async () => {
    const t = await startTestApp({ APP_ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:6390' });
    apps.push(t);
    const res = await t.http().get('/health').expect(503);
    expect(res.body.details.redis.status).toBe('down');
    expect(res.body.details.postgres.status).toBe('up');
    const admin = await t.staff('admin');
    const started = Date.now();
    const probe = await t.http().post('/api/admin/queue-probes').set('authorization', `Bearer ${admin.token}`).expect(503);
    expect(probe.body.message).toMatch(/queue is unavailable/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('serves metrics and the OpenAPI document', async () => {
    const t = apps[0];
    const metrics = await t.http().get('/metrics').expect(200);
    expect(metrics.text).toContain('process_cpu_seconds_total');
    const docs = await t.http().get('/api/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toContain('/api/auth/login');
  });
});
