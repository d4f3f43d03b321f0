import { MigrationInterface, QueryRunner } from 'typeorm';

/** Evidence import progress and summaries, and what matching relies on. */
export class EvidenceAndVictims1764240000000 implements MigrationInterface {
  name = 'EvidenceAndVictims1764240000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE evidence_imports
        ADD COLUMN bytes_processed bigint NOT NULL DEFAULT 0,
        ADD COLUMN rejected_by_reason jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN summary jsonb NOT NULL DEFAULT '{}'::jsonb`);

    // Matching folds the institutions a victim was called from into a 64-bit set.
    await q.query(`ALTER TABLE institutions ADD CONSTRAINT institutions_id_bits CHECK (id BETWEEN 1 AND 63)`);
    await q.query(`CREATE INDEX contacts_import_idx ON contacts (import_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS contacts_import_idx`);
    await q.query(`ALTER TABLE institutions DROP CONSTRAINT IF EXISTS institutions_id_bits`);
    await q.query(`ALTER TABLE evidence_imports DROP COLUMN summary, DROP COLUMN rejected_by_reason, DROP COLUMN bytes_processed`);
  }
}
