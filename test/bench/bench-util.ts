import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { withClient } from '../support/pg.js';

export { dropDatabase as recreateDatabase, withClient } from '../support/pg.js';

export const ROOT = path.resolve(__dirname, '../..');

export interface Figure {
  name: string;
  value: number;
  unit: string;
  budget?: string;
  ok?: boolean;
}

export function printFigures(title: string, figures: Figure[]): void {
  console.log(`\n== ${title}`);
  for (const f of figures) {
    const v = f.value >= 1000 ? Math.round(f.value).toLocaleString('en-GB') : f.value.toFixed(f.value < 10 ? 3 : 1);
    const verdict = f.budget ? `  budget ${f.budget}: ${f.ok ? 'met' : 'NOT MET'}` : '';
    console.log(`  ${f.name.padEnd(58)} ${v.padStart(14)} ${f.unit}${verdict}`);
  }
}

/**
 * Runs the built CLI (dist/, as deployed; `npm run bench` builds first) with the Node
 * flags `npm start` uses; returns its JSON stdout and wall time. Running from sources
 * would add the TypeScript compiler's own memory to every figure.
 */
export async function cli<T>(args: string[], env: Record<string, string>): Promise<{ result: T; seconds: number }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...startFlags(), 'dist/src/cli.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`cli ${args.join(' ')} exited ${code}: ${out.slice(0, 2000)}`);
  return { result: JSON.parse(out) as T, seconds };
}

/** The Node flags of `npm start` (package.json), so benchmarks run the service as deployed. */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const flags = pkg.scripts.start.split(/\s+/).filter((a) => a.startsWith('--'));
  // BENCH_CPU_PROF=DIR: every server the bench starts writes a V8 CPU profile there on exit.
  const prof = process.env.BENCH_CPU_PROF;
  return prof ? [...flags, '--cpu-prof', `--cpu-prof-dir=${prof}`] : flags;
}

/** A built server (dist, `npm start` flags) as a child process, with its peak RSS sampled. */
export async function startServer(env: Record<string, string>, port: number): Promise<{ base: string; peakRssMb: () => number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...startFlags(), 'dist/src/main.js'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let peak = 0;
  const sampler = setInterval(() => void readRss(child.pid!).then((kb) => (peak = Math.max(peak, kb))), 100);
  const base = `http://127.0.0.1:${port}`;
  await waitForUrl(`${base}/health`);
  return {
    base,
    peakRssMb: () => peak / 1024,
    async stop() {
      clearInterval(sampler);
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

export async function call(method: string, url: string, token?: string, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, any>;  
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

async function waitForUrl(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer in 60 s`);
}

async function readRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

export const BENCH_PASSWORD = 'bench-password-123456';

/** Staff users (through the built CLI) and their tokens from a running api. */
export async function benchStaff(env: Record<string, string>, base: string): Promise<Record<'operator' | 'supervisor' | 'admin', string>> {
  const out: Record<string, string> = {};
  for (const role of ['operator', 'supervisor', 'admin']) {
    await cli(['user:create', '--email', `${role}@bench.police.uk`, '--role', role], { ...env, OUTREACH_PASSWORD: BENCH_PASSWORD }).catch(() => undefined);
    out[role] = (await call('POST', `${base}/api/auth/login`, undefined, { email: `${role}@bench.police.uk`, password: BENCH_PASSWORD })).accessToken;
  }
  return out;
}

/** Seeds n mobile victims tagged with `institution` (as their only institution). */
export async function seedBenchVictims(databaseUrl: string, n: number, institution: string, base = 447700000000): Promise<void> {
  await withClient(databaseUrl, async (c) => {
    await c.query(`INSERT INTO institutions (code, name) VALUES ($1, initcap($1)) ON CONFLICT DO NOTHING`, [institution]);
    await c.query(
      `INSERT INTO victims (phone_e164, phone_type, reference_code, call_count, longest_call_seconds, institutions, priority_score, channels)
       SELECT '+' || ($3::bigint + i), 'mobile', upper(substr(md5($2 || i::text), 1, 12)), 3, 90 + i % 400, ARRAY[$2], i % 10000, ARRAY['sms']
         FROM generate_series(1, $1) AS i`,
      [n, institution, base],
    );
    await c.query('VACUUM ANALYZE victims');
  });
}

/** Creates, submits, approves (a second person) and returns a campaign for `institution`. */
export async function benchCampaign(base: string, staff: Record<'operator' | 'supervisor' | 'admin', string>, institution: string, name: string): Promise<string> {
  const campaign = await call('POST', `${base}/api/campaigns`, staff.operator, {
    name,
    channels: ['sms'],
    audience: { institution },
    sms: { body: 'City Police: you may have been called by fraudsters posing as ((institution)). Ref ((reference)). ((report_url))' },
    sendWindow: { start: '00:00', end: '23:59', timezone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] },
  });
  await call('POST', `${base}/api/campaigns/${campaign.id}/submit`, staff.operator);
  await call('POST', `${base}/api/campaigns/${campaign.id}/approve`, staff.supervisor);
  return campaign.id as string;
}
