/** The one test database of a run: TEST_DATABASE_URL, or outreach_test on local Postgres. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/outreach_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A database of its own for a test file whose workers and reconciler act on every
 * campaign they can see (delivery and fault tests): `<test database>_<name>`, dropped
 * and migrated afresh.
 */
export async function ownDatabase(name: string): Promise<string> {
  const { migrate } = await import('../../src/database/data-source.js');
  const { dropDatabase } = await import('./pg.js');
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `${url.pathname}_${name}`;
  await dropDatabase(url.toString());
  await migrate(url.toString());
  return url.toString();
}
