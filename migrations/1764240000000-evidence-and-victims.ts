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

    // Reference codes: 12 characters from a 25-character alphabet without look-alikes
    // (no 0/O, 1/I/L, U/V, S/5, Z/2), drawn from pgcrypto's CSPRNG with rejection
    // sampling so every character is uniform: 12 × log2(25) ≈ 55.7 bits.
    await q.query(`
      CREATE FUNCTION make_reference_code() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
      DECLARE
        alphabet constant text := '346789ABCDEFGHJKMNPQRTWXY';
        n constant int := length('346789ABCDEFGHJKMNPQRTWXY');
        bytes bytea;
        code text := '';
        b int;
        i int := 0;
      BEGIN
        WHILE length(code) < 12 LOOP
          IF i % 32 = 0 THEN bytes := gen_random_bytes(32); END IF;
          b := get_byte(bytes, i % 32);
          i := i + 1;
          IF b < 256 - (256 % n) THEN
            code := code || substr(alphabet, (b % n) + 1, 1);
          END IF;
        END LOOP;
        RETURN code;
      END $$`);

    await q.query(`CREATE INDEX victims_status_idx ON victims (status)`);
    await q.query(`CREATE INDEX victims_longest_idx ON victims (longest_call_seconds)`);
    await q.query(`CREATE INDEX victims_institutions_idx ON victims USING gin (institutions)`);
    await q.query(`CREATE INDEX contacts_import_idx ON contacts (import_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS contacts_import_idx`);
    await q.query(`DROP INDEX IF EXISTS victims_institutions_idx`);
    await q.query(`DROP INDEX IF EXISTS victims_longest_idx`);
    await q.query(`DROP INDEX IF EXISTS victims_status_idx`);
    await q.query(`DROP FUNCTION IF EXISTS make_reference_code()`);
    await q.query(`DROP INDEX IF EXISTS call_records_import_idx`);
    await q.query(`ALTER TABLE call_records DROP COLUMN import_no`);
    await q.query(`ALTER TABLE call_records ADD COLUMN import_id uuid REFERENCES evidence_imports(id)`);
    await q.query(`ALTER TABLE call_records ADD CONSTRAINT call_records_institution_id_fkey FOREIGN KEY (institution_id) REFERENCES institutions(id)`);
    await q.query(`ALTER TABLE evidence_imports DROP COLUMN no, DROP COLUMN summary, DROP COLUMN rejected_by_reason, DROP COLUMN bytes_processed`);
  }
}
