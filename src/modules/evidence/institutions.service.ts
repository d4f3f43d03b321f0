import { Injectable } from '@nestjs/common';
import { ADVISORY_LOCK } from '../../database/advisory-locks.js';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { loadInstitutions } from '../../../seeds/dataset-generator.js';
import { queryOne } from '../../database/sql.js';

/**
 * The banks and bodies whose numbers the fraudsters spoofed. Seeded from
 * seeds/institutions.csv the first time evidence is imported; each call is attributed
 * to the institution whose caller id it showed.
 */
@Injectable()
export class InstitutionsService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async ensureSeeded(file?: string): Promise<number> {
    const { n } = (await queryOne<{ n: number }>(this.ds, `SELECT count(*)::int AS n FROM institutions`))!;
    if (n > 0) return 0;
    const institutions = loadInstitutions(file);
    await this.ds.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK.institutions})`);
      const { n: again } = (await queryOne<{ n: number }>(m, `SELECT count(*)::int AS n FROM institutions`))!;
      if (again > 0) return;
      for (const inst of institutions) {
        const { id } = (await queryOne<{ id: number }>(
          m,
          `INSERT INTO institutions (code, name) VALUES ($1, $2) RETURNING id`,
          [inst.code, inst.name],
        ))!;
        await m.query(
          `INSERT INTO institution_caller_ids (caller_e164, institution_id) SELECT unnest($1::text[]), $2`,
          [inst.callerIds, id],
        );
      }
    });
    return institutions.length;
  }

  async list(): Promise<Array<{ code: string; name: string }>> {
    return this.ds.query(`SELECT code, name FROM institutions ORDER BY name`);
  }
}
