import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callImportSpec } from '../../src/modules/evidence/call-import.spec.js';
import { CopySink } from '../../src/modules/evidence/copy-sink.js';
import { EvidenceImportsService } from '../../src/modules/evidence/evidence-imports.service.js';
import { InstitutionsService } from '../../src/modules/evidence/institutions.service.js';
import { differenceFromFieldPath } from '../support/call-records.js';
import { dropDatabase } from '../support/pg.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { ownDatabase } from '../support/test-db.js';

/**
 * Plain call-record lines reach Postgres as binary COPY rows, the others (quoted, odd
 * dates, other encodings) as text COPY rows loaded in batches between binary ones. A
 * file that mixes the two in bulk must come out whole: every row once, every value as
 * the field path alone would store it.
 */
describe('an import mixing binary and text COPY rows', () => {
  let t: TestApp;
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'copy-formats-'));
    db = await ownDatabase('copy_formats');
    t = await startTestApp({ DATABASE_URL: db });
    await t.app.get(InstitutionsService).ensureSeeded();
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
    if (db) await dropDatabase(db);
  });

  it('every other line quoted (with a long account id), a third with offsets: text rows over two batches, nothing lost or repeated', async () => {
    const file = path.join(dir, 'mixed.csv');
    const rows = ['call_id,started_at,duration_seconds,account_id,caller_id,target_number'];
    for (let i = 0; i < 120_000; i++) {
      const n = String(7_700_120_000 + (i % 5_000)).slice(1);
      const started = `2022-0${1 + (i % 9)}-1${i % 10}T0${i % 10}:1${i % 6}:2${i % 10}${i % 3 === 0 ? '+01:00' : 'Z'}`;
      rows.push(i % 2 === 0 ? `${i},${started},${i % 600},acct_${i % 900},+443069990101,07${n}` : `"${i}",${started},${i % 600},"acct, ${String(i % 900).padStart(190, '.')}",+44 306 999 0101,+44 7${n}`);
    }
    const text = rows.join('\n') + '\n';
    // Half the rows go the text way: more than two batches of them.
    expect(text.length / 2).toBeGreaterThan(2 * CopySink.TEXT_BATCH);
    writeFileSync(file, text);
    const imports = t.app.get(EvidenceImportsService);
    const id = await imports.create('calls', file, 'mixed.csv', { type: 'system' });
    const view = await imports.run(id, callImportSpec());
    expect(view.status).toBe('completed');
    expect(view.rowsAccepted).toBe(120_000);
    expect(await differenceFromFieldPath(t.ds, db, id, file, 120_000)).toEqual({ extra: 0, missing: 0 });
  });
});
