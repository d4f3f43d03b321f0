import { Client } from 'pg';
import { migrate } from '../../src/database/data-source.js';
import { TEST_DATABASE_URL } from './test-db.js';

/** Once per run: a fresh test database, migrated. Test files then create their own data. */
export default async function setup(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const name = url.pathname.slice(1);
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
  await migrate(TEST_DATABASE_URL);
}
