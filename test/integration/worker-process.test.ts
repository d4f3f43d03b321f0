import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess } from '../support/processes.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/test-db.js';

describe('api and worker roles', () => {
  let api: TestApp;
  let worker: Awaited<ReturnType<typeof startProcess>>;

  beforeAll(async () => {
    api = await startTestApp({ APP_ROLE: 'api' });
    worker = await startProcess({
      APP_ROLE: 'worker',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: api.config.queuePrefix,
      PORT: '0',
    });
  }, 90_000);
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
  });

  it('a job enqueued by the api role is processed by a separate worker process', async () => {
    const admin = await api.staff('admin');
    const created = await api.http().post('/api/admin/queue-probes').set('authorization', `Bearer ${admin.token}`).expect(202);
    let body: { state: string; result: { worker: { pid: number } } | null } = { state: 'waiting', result: null };
    for (let i = 0; i < 100 && body.state !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      body = (await api.http().get(`/api/admin/queue-probes/${created.body.id}`).set('authorization', `Bearer ${admin.token}`).expect(200)).body;
    }
    expect(body.state).toBe('completed');
    expect(body.result!.worker.pid).toBe(worker.child.pid);
    expect(body.result!.worker.pid).not.toBe(process.pid);
    const [{ n }] = await api.ds.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'queue.probe_processed' AND details->>'probeId' = $1`, [created.body.id]);
    expect(n).toBe(1);
  });

  it('the api role runs no processor, and the worker serves only health and metrics over HTTP', async () => {
    const port = /listening on http:\/\/\S*:(\d+)/.exec(worker.output())![1];
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, { method: 'POST' });
    expect(login.status).toBe(404);
    const docs = await fetch(`http://127.0.0.1:${port}/api/docs`);
    expect(docs.status).toBe(404);
  });

  it('a worker shuts down cleanly on SIGTERM (Nest closes workers, then re-raises the signal)', async () => {
    const started = Date.now();
    const ended = await worker.stop('SIGTERM');
    expect(ended.code === 0 || ended.signal === 'SIGTERM').toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(worker.output()).not.toMatch(/"level":50/);
  });
});
