import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Queue } from 'bullmq';
import { WEEKDAYS } from '../../src/common/compliance-gate.js';
import { migrate } from '../../src/database/data-source.js';
import { cli, Figure, printFigures, recreateDatabase, ROOT, startFlags, withClient } from './bench-util.js';

const PASSWORD = 'bench-password-123456';

/**
 * Launch of a 200,000-message campaign (DESIGN.md §6: ≤ 15 s for message rows + jobs),
 * through the HTTP API of the built server, as staff would do it. The raw engines, in
 * the same run: a bare INSERT … SELECT of as many rows and bare BullMQ addBulk of as
 * many jobs, whose sum is the floor a launch could reach.
 */
export async function launchBench(opts: { messages: number; databaseUrl: string; redisUrl: string }): Promise<Figure[]> {
  await recreateDatabase(opts.databaseUrl);
  await migrate(opts.databaseUrl);
  const n = opts.messages;
  await withClient(opts.databaseUrl, async (c) => {
    await c.query(
      `INSERT INTO victims (phone_e164, phone_type, reference_code, call_count, longest_call_seconds, institutions, priority_score, channels)
       SELECT '+4477' || lpad(i::text, 8, '0'), 'mobile', upper(substr(md5(i::text), 1, 12)), 3, 90 + i % 400, ARRAY['barclays'], i % 10000, ARRAY['sms']
         FROM generate_series(1, $1) AS i`,
      [n],
    );
    await c.query(`INSERT INTO institutions (code, name) VALUES ('barclays', 'Barclays') ON CONFLICT DO NOTHING`);
    await c.query('VACUUM ANALYZE victims');
  });

  // Raw engines.
  const rawInsert = await withClient(opts.databaseUrl, async (c) => {
    await c.query(`CREATE TABLE raw_messages (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, victim_id uuid, address text, body text)`);
    const t = process.hrtime.bigint();
    await c.query(`INSERT INTO raw_messages (victim_id, address, body) SELECT id, phone_e164, 'City Police: ' || reference_code FROM victims`);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    await c.query(`DROP TABLE raw_messages`);
    return s;
  });
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const rawQueue = new Queue('raw', { connection: { url: opts.redisUrl }, prefix });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 5000) {
    await rawQueue.addBulk(Array.from({ length: Math.min(5000, n - i) }, (_, j) => ({ name: 'send', data: { messageId: String(i + j) }, opts: { jobId: `m-${i + j}` } })));
  }
  const rawEnqueue = Number(process.hrtime.bigint() - t0) / 1e9;
  await rawQueue.obliterate({ force: true });
  await rawQueue.close();

  // Staff, then the product's own path: create, submit, approve, launch.
  const env = { DATABASE_URL: opts.databaseUrl, REDIS_URL: opts.redisUrl, QUEUE_PREFIX: prefix };
  for (const role of ['operator', 'supervisor', 'admin']) {
    await cli(['user:create', '--email', `${role}@bench.police.uk`, '--password', PASSWORD, '--role', role], env);
  }
  const port = 3900 + Math.floor(Math.random() * 90);
  const server = spawn(process.execPath, [...startFlags(), 'dist/src/main.js'], {
    cwd: ROOT,
    env: { ...process.env, ...env, APP_ROLE: 'api', PORT: String(port), LOG_LEVEL: 'warn', JWT_SECRET: 'bench-secret-bench-secret-bench-secret-01' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let peakRss = 0;
  const sampler = setInterval(() => {
    void readRss(server.pid!).then((kb) => (peakRss = Math.max(peakRss, kb)));
  }, 100);
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitFor(`${base}/health`);
    const token = async (role: string) => {
      const r = await call('POST', `${base}/api/auth/login`, undefined, { email: `${role}@bench.police.uk`, password: PASSWORD });
      return r.accessToken as string;
    };
    const [operator, supervisor, admin] = [await token('operator'), await token('supervisor'), await token('admin')];
    const campaign = await call('POST', `${base}/api/campaigns`, operator, {
      name: 'Bench warning',
      channels: ['sms'],
      audience: {},
      sms: { body: 'City Police: you may have been called by fraudsters posing as ((institution)). Ref ((reference)). ((report_url))' },
      sendWindow: { start: '00:00', end: '23:59', timezone: 'UTC', days: [...WEEKDAYS] },
    });
    await call('POST', `${base}/api/campaigns/${campaign.id}/submit`, operator);
    await call('POST', `${base}/api/campaigns/${campaign.id}/approve`, supervisor);
    const previewStarted = process.hrtime.bigint();
    await call('GET', `${base}/api/campaigns/${campaign.id}/preview`, admin);
    const previewSeconds = Number(process.hrtime.bigint() - previewStarted) / 1e9;
    const started = process.hrtime.bigint();
    const launched = await call('POST', `${base}/api/campaigns/${campaign.id}/launch`, admin);
    const launchSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    const q = new Queue('sms', { connection: { url: opts.redisUrl }, prefix });
    const counts = await q.getJobCounts('waiting', 'delayed', 'prioritized');
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
    await q.obliterate({ force: true });
    await q.close();
    const rows = await withClient(opts.databaseUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1`, [campaign.id])).rows[0].n as number);
    if (rows !== n || jobs !== n || launched.enqueued !== n) throw new Error(`launch made ${rows} messages and ${jobs} jobs, expected ${n}`);

    const floor = rawInsert + rawEnqueue;
    const figures: Figure[] = [
      { name: `raw INSERT … SELECT of ${n.toLocaleString('en-GB')} rows`, value: rawInsert, unit: 's' },
      { name: `raw BullMQ addBulk of ${n.toLocaleString('en-GB')} jobs`, value: n / rawEnqueue, unit: 'jobs/s' },
      { name: 'campaign preview (audience planned through the gate, ETA)', value: previewSeconds, unit: 's' },
      { name: `launch: ${n.toLocaleString('en-GB')} messages (rows + jobs), via HTTP`, value: launchSeconds, unit: 's', budget: '≤ 15', ok: launchSeconds <= 15 },
      { name: '  of which rows planned and written (in its transaction)', value: Number(launched.launch.materialisedSeconds), unit: 's' },
      { name: 'launch time / (raw insert + raw addBulk)', value: launchSeconds / floor, unit: '×' },
      { name: 'peak RSS of the api process', value: peakRss / 1024, unit: 'MB' },
    ];
    printFigures('campaign launch', figures);
    return figures;
  } finally {
    clearInterval(sampler);
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
}

async function call(method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer in 30 s`);
}

async function readRss(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}
