import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evidence import progress and summaries, victim reference codes, and the indexes the
 * victim queries filter on.
 */
export class EvidenceAndVictims1764240000000 implements MigrationInterface {
  name = 'EvidenceAndVictims1764240000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE evidence_imports
        ADD COLUMN bytes_processed bigint NOT NULL DEFAULT 0,
        ADD COLUMN rejected_by_reason jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN summary jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN no integer GENERATED ALWAYS AS IDENTITY UNIQUE`);
    // Call records are the one table with tens of millions of rows, written only by the
    // importer in the same transaction as its import row. Per-row foreign-key triggers
    // there cost more than the whole COPY, and a 4-byte import number instead of a
    // 16-byte uuid (36 characters of COPY text) per row adds up at that size.
    await q.query(`ALTER TABLE call_records DROP CONSTRAINT call_records_import_id_fkey`);
    await q.query(`ALTER TABLE call_records DROP CONSTRAINT call_records_institution_id_fkey`);
    await q.query(`ALTER TABLE call_records DROP COLUMN import_id`);
    await q.query(`ALTER TABLE call_records ADD COLUMN import_no integer NOT NULL`);
    await q.query(`CREATE INDEX call_records_import_idx ON call_records USING brin (import_no)`);

    // Matching folds the institutions a victim was called from into a 64-bit set.
    await q.query(`ALTER TABLE institutions ADD CONSTRAINT institutions_id_bits CHECK (id BETWEEN 1 AND 63)`);
    await q.query(`CREATE INDEX contacts_import_idx ON contacts (import_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS contacts_import_idx`);
    await q.query(`ALTER TABLE institutions DROP CONSTRAINT IF EXISTS institutions_id_bits`);
    await q.query(`DROP INDEX IF EXISTS call_records_import_idx`);
    await q.query(`ALTER TABLE call_records DROP COLUMN import_no`);
    await q.query(`ALTER TABLE call_records ADD COLUMN import_id uuid REFERENCES evidence_imports(id)`);
    await q.query(`ALTER TABLE call_records ADD CONSTRAINT call_records_institution_id_fkey FOREIGN KEY (institution_id) REFERENCES institutions(id)`);
    await q.query(`ALTER TABLE evidence_imports DROP COLUMN no, DROP COLUMN summary, DROP COLUMN rejected_by_reason, DROP COLUMN bytes_processed`);
  }
}
