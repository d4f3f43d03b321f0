import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { migrate } from '../../src/database/data-source.js';
import { benchCampaign, benchStaff, call, Figure, printFigures, recreateDatabase, seedBenchVictims, startServer, withClient } from './bench-util.js';

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
  await seedBenchVictims(opts.databaseUrl, n, 'barclays');

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

  // The product's own path: create, submit, approve (another person), preview, launch.
  const env = { DATABASE_URL: opts.databaseUrl, REDIS_URL: opts.redisUrl, QUEUE_PREFIX: prefix, JWT_SECRET: 'bench-secret-bench-secret-bench-secret-01' };
  const api = await startServer({ ...env, APP_ROLE: 'api' }, 3900 + Math.floor(Math.random() * 90));
  try {
    const staff = await benchStaff(env, api.base);
    const id = await benchCampaign(api.base, staff, 'barclays', 'Bench warning');
    const previewStarted = process.hrtime.bigint();
    await call('GET', `${api.base}/api/campaigns/${id}/preview`, staff.admin);
    const previewSeconds = Number(process.hrtime.bigint() - previewStarted) / 1e9;
    const started = process.hrtime.bigint();
    const launched = await call('POST', `${api.base}/api/campaigns/${id}/launch`, staff.admin);
    const launchSeconds = Number(process.hrtime.bigint() - started) / 1e9;

    const q = new Queue('sms', { connection: { url: opts.redisUrl }, prefix });
    const counts = await q.getJobCounts('waiting', 'delayed', 'prioritized');
    const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
    await q.obliterate({ force: true });
    await q.close();
    const rows = await withClient(opts.databaseUrl, async (c) => (await c.query(`SELECT count(*)::int AS n FROM messages WHERE campaign_id = $1`, [id])).rows[0].n as number);
    if (rows !== n || jobs !== n || launched.enqueued !== n) throw new Error(`launch made ${rows} messages and ${jobs} jobs, expected ${n}`);

    const floor = rawInsert + rawEnqueue;
    const figures: Figure[] = [
      { name: `raw INSERT … SELECT of ${n.toLocaleString('en-GB')} rows`, value: rawInsert, unit: 's' },
      { name: `raw BullMQ addBulk of ${n.toLocaleString('en-GB')} jobs`, value: n / rawEnqueue, unit: 'jobs/s' },
      { name: 'campaign preview (audience planned through the gate, ETA)', value: previewSeconds, unit: 's' },
      { name: `launch: ${n.toLocaleString('en-GB')} messages (rows + jobs), via HTTP`, value: launchSeconds, unit: 's', budget: '≤ 15', ok: launchSeconds <= 15 },
      { name: '  of which rows planned and written (in its transaction)', value: Number(launched.launch.materialisedSeconds), unit: 's' },
      { name: 'launch time / (raw insert + raw addBulk)', value: launchSeconds / floor, unit: '×' },
      { name: 'peak RSS of the api process', value: api.peakRssMb(), unit: 'MB' },
    ];
    printFigures('campaign launch', figures);
    return figures;
  } finally {
    await api.stop();
  }
}
