import 'reflect-metadata';
import { importAndMatchBench } from './import-match.bench.js';
import { launchBench } from './launch.bench.js';
import { deliveryBench } from './delivery.bench.js';

/**
 * `npm run bench` — performance budgets of DESIGN.md §6, printed as figures and ratios
 * to the raw engine measured in the same run. Never asserts a time; exits non-zero only
 * when a benchmark could not run or produced wrong results.
 *   --quick            smoke size (200,000 rows, 20,000-message launch)
 *   --only NAME        one benchmark: import-match, launch or delivery
 *   BENCH_DATABASE_URL the scratch database (dropped and recreated)
 */
async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/outreach_bench';
  const rows = quick ? 200_000 : 10_000_000;
  const targets = quick ? 20_000 : 200_000;
  console.log(`bench: ${quick ? 'quick (smoke) size: the budgets are set for the full size, so verdicts here mean little' : 'full'} size, database ${databaseUrl}`);
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!only || only === 'import-match') await importAndMatchBench({ rows, targets, databaseUrl });
  if (!only || only === 'launch') await launchBench({ messages: quick ? 20_000 : 200_000, databaseUrl, redisUrl });
  if (!only || only === 'delivery') await deliveryBench({ messages: quick ? 20_000 : 200_000, databaseUrl, redisUrl });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
