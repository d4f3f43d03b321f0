import 'reflect-metadata';
import { loadConfig, redactUrl } from '../config/configuration.js';
import { migrate } from './data-source.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const result = await migrate(config.databaseUrl);
  const db = redactUrl(config.databaseUrl);
  if (result.created) console.log(`Created database ${db}`);
  console.log(
    result.applied.length
      ? `Applied ${result.applied.length} migration(s): ${result.applied.join(', ')}`
      : `Database ${db} is up to date; nothing to apply.`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
