import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

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
    console.log(`  ${f.name.padEnd(44)} ${v.padStart(14)} ${f.unit}${verdict}`);
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
  return pkg.scripts.start!.split(/\s+/).filter((a) => a.startsWith('--'));
}
