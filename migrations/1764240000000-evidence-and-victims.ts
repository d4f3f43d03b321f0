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
    // importer. It becomes a table partitioned by import: each import creates its own
    // partition in its transaction and loads it with COPY … FREEZE (rows are frozen and
    // marked committed as they land, so the first scan after an import does not rewrite
    // every page), then attaches it. No foreign keys: per-row triggers there cost more
    // than the COPY itself; and a 4-byte import number instead of a uuid per row.
    await q.query(`DROP TABLE call_records`);
    await q.query(`
      CREATE TABLE call_records (
        import_no integer NOT NULL,
        line_no integer NOT NULL,
        call_id text,
        started_at timestamptz NOT NULL,
        duration_seconds integer NOT NULL CHECK (duration_seconds >= 0),
        account_id text COLLATE "C",
        caller_id text,
        institution_id smallint,
        target_e164 text COLLATE "C" NOT NULL,
        target_type text NOT NULL CHECK (target_type IN ('mobile','fixed_line','other'))
      ) PARTITION BY LIST (import_no)`);

    // Matching folds the institutions a victim was called from into a 64-bit set.
    await q.query(`ALTER TABLE institutions ADD CONSTRAINT institutions_id_bits CHECK (id BETWEEN 1 AND 63)`);
    await q.query(`CREATE INDEX contacts_import_idx ON contacts (import_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS contacts_import_idx`);
    await q.query(`ALTER TABLE institutions DROP CONSTRAINT IF EXISTS institutions_id_bits`);
    await q.query(`DROP TABLE call_records`);
    await q.query(`
      CREATE TABLE call_records (
        import_id uuid NOT NULL REFERENCES evidence_imports(id),
        line_no integer NOT NULL,
        call_id text,
        started_at timestamptz NOT NULL,
        duration_seconds integer NOT NULL CHECK (duration_seconds >= 0),
        account_id text COLLATE "C",
        caller_id text,
        institution_id smallint REFERENCES institutions(id),
        target_e164 text COLLATE "C" NOT NULL,
        target_type text NOT NULL CHECK (target_type IN ('mobile','fixed_line','other'))
      )`);
    await q.query(`ALTER TABLE evidence_imports DROP COLUMN no, DROP COLUMN summary, DROP COLUMN rejected_by_reason, DROP COLUMN bytes_processed`);
  }
}
