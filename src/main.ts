import 'reflect-metadata';
import { ConfigError, loadConfig } from './config/configuration.js';
import { createApp } from './bootstrap.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const app = await createApp(config);
  forceExitIfShutdownHangs(config.shutdownTimeoutMs);
  await app.listen(config.port);
  const url = await app.getUrl();
  app.get(await import('nestjs-pino').then((m) => m.Logger)).log(
    `victim-outreach ${config.appRole} role listening on ${url}${config.jwtSecretGenerated ? ' (JWT_SECRET not set: using a random per-process secret)' : ''}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

/**
 * Nest closes workers on SIGTERM/SIGINT and waits for their active jobs. If that cannot
 * finish (Redis unreachable, a provider hanging), leave anyway: an orchestrator would
 * SIGKILL us, and anything in flight is recovered by the reconciler from Postgres.
 */
function forceExitIfShutdownHangs(timeoutMs: number): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => {
        console.error(`Shutdown did not finish within ${timeoutMs} ms; exiting`);
        process.exit(1);
      }, timeoutMs).unref();
    });
  }
}
