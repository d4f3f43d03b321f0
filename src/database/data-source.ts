import { DataSource, DataSourceOptions } from 'typeorm';
import { ADVISORY_LOCK } from './advisory-locks.js';
import { Client } from 'pg';
import { MIGRATIONS } from './migrations.js';
import { ENTITIES } from './entities.js';

export function dataSourceOptions(databaseUrl: string, extra: Partial<DataSourceOptions> = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: 20, application_name: 'victim-outreach' },
    ...extra,
  } as DataSourceOptions;
}

export function createDataSource(databaseUrl: string): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl));
}

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new Error(`DATABASE_URL names a database "${name}" that is not a plain identifier`);
  }
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } catch (err) {
      // Another process may have created it between the check and the create: Postgres
      // says 42P04, or 23505 when both CREATE DATABASE statements raced on the catalog.
      if (!['42P04', '23505'].includes((err as { code?: string }).code ?? '')) throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

/** Ensures the database exists and applies pending migrations; safe to run twice. */
export async function migrate(databaseUrl: string): Promise<{ created: boolean; applied: string[] }> {
  const created = await ensureDatabase(databaseUrl);
  const ds = createDataSource(databaseUrl);
  await ds.initialize();
  try {
    // Serialise concurrent migrators (two processes starting at once) on an advisory
    // lock held by one dedicated connection.
    const lock = ds.createQueryRunner();
    await lock.connect();
    try {
      await lock.query(`SELECT pg_advisory_lock(${ADVISORY_LOCK.migrate})`);
      const applied = await ds.runMigrations({ transaction: 'each' });
      return { created, applied: applied.map((m) => m.name) };
    } finally {
      await lock.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK.migrate})`).catch(() => undefined);
      await lock.release();
    }
  } finally {
    await ds.destroy();
  }
}
