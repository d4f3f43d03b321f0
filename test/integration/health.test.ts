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
    // up/down only: no driver text (hosts, ports, timings) for whoever calls a public route
    expect(res.body.details).toEqual({ postgres: { status: 'up' }, redis: { status: 'down' } });
    expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable', status: 'error' });
    expect(res.body.message).toBe('Unavailable: redis');
    expect(JSON.stringify(res.body)).not.toMatch(/6390|127\.0\.0\.1|ECONNREFUSED|connect|timed out|within/i);
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

  it('metrics ask for the token when one is set, with a constant-time check', async () => {
    const token = 'metrics-token-0123456789';
    const t = await startTestApp({ METRICS_TOKEN: token, APP_ROLE: 'api' });
    apps.push(t);
    for (const auth of [undefined, 'Bearer wrong-token-0123456789', `Basic ${token}`, `Bearer ${token}x`, 'Bearer ']) {
      const req = t.http().get('/metrics');
      const res = await (auth ? req.set('authorization', auth) : req).expect(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/metrics token/) });
      expect(res.text).not.toContain('process_cpu_seconds_total');
    }
    const ok = await t.http().get('/metrics').set('authorization', `Bearer ${token}`).expect(200);
    expect(ok.text).toContain('process_cpu_seconds_total');
  });

  it('in production: API docs off unless enabled, metrics off without a token', async () => {
    const prod = await startTestApp({ NODE_ENV: 'production', APP_ROLE: 'api' });
    apps.push(prod);
    await prod.http().get('/api/docs-json').expect(404);
    await prod.http().get('/api/docs').expect(404);
    const metrics = await prod.http().get('/metrics').expect(404);
    expect(metrics.body.message).toMatch(/METRICS_TOKEN/);
    await prod.http().get('/health').expect(200);

    const enabled = await startTestApp({ NODE_ENV: 'production', APP_ROLE: 'api', API_DOCS_ENABLED: 'true', METRICS_TOKEN: 'metrics-token-0123456789' });
    apps.push(enabled);
    const docs = await enabled.http().get('/api/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toContain('/api/auth/login');
    await enabled.http().get('/metrics').expect(401);
    await enabled.http().get('/metrics').set('authorization', 'Bearer metrics-token-0123456789').expect(200);
  });
});
