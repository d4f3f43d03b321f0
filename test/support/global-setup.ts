import { migrate } from '../../src/database/data-source.js';
import { dropDatabase } from './pg.js';
import { TEST_DATABASE_URL } from './test-db.js';

/** Once per run: a fresh test database, migrated. Test files then create their own data. */
export default async function setup(): Promise<void> {
  await dropDatabase(TEST_DATABASE_URL);
  await migrate(TEST_DATABASE_URL);
}
