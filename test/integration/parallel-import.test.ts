import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, Manifest } from '../../seeds/dataset-generator.js';
import { callImportSpec } from '../../src/modules/evidence/call-import.spec.js';
import { EvidenceImportsService, ImportView } from '../../src/modules/evidence/evidence-imports.service.js';
import { InstitutionsService } from '../../src/modules/evidence/institutions.service.js';
import { randomUUID } from 'node:crypto';
import { migrate } from '../../src/database/data-source.js';
import { differenceFromFieldPath, readByFieldPath } from '../support/call-records.js';
import { dropDatabase } from '../support/pg.js';
import { startTestApp, TestApp } from '../support/test-app.js';
import { TEST_DATABASE_URL } from '../support/test-db.js';

/**
 * Big files are parsed on worker threads as well as the main thread. Force that on a
 * generated file (IMPORT_PARALLEL_MIN_BYTES=0) and check the result is exactly what one
 * thread reading the file front to back finds: counts, reasons, and the first
 * rejected rows by line number.
 */
describe('parallel parsing of a large import', () => {
  let t: TestApp;
  let dir: string;
  let manifest: Manifest;
  let view: ImportView;

  // A database of its own: these 200,000 rows would otherwise swell every test that
  // matches or lists victims in the shared test database.
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${url.pathname.slice(1)}_parallel_${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'parallel-import-'));
    [manifest] = await Promise.all([generateDataset({ outDir: dir, targets: 20_000, calls: 200_000, seed: 77 }), migrate(url.toString())]);
    t = await startTestApp({ IMPORT_PARALLEL_MIN_BYTES: '0', DATABASE_URL: url.toString() });
    await t.app.get(InstitutionsService).ensureSeeded();
    const imports = t.app.get(EvidenceImportsService);
    const id = await imports.create('calls', path.join(dir, 'calls.csv'), 'parallel.csv', { type: 'system' });
    view = await imports.run(id, callImportSpec());
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(url.toString());
  });

  it('imports what the manifest says, through worker threads', () => {
    expect(view.status).toBe('completed');
    expect(view.rowsTotal).toBe(manifest.calls.rowsTotal);
    expect(view.rowsAccepted).toBe(manifest.calls.rowsAccepted);
    expect(view.rowsRejected).toBe(manifest.calls.rowsRejected);
    const byReason = Object.fromEntries(Object.entries(manifest.calls.rejectedByReason).map(([r, n]) => [`target_number: ${r}`, n]));
    expect(view.rejectedByReason).toEqual(byReason);
  });

  it('stores every accepted row once, with its line number', async () => {
    const [row] = await t.ds.query(
      `SELECT count(*)::int AS n, count(DISTINCT line_no)::int AS lines, min(line_no) AS first, max(line_no) AS last
         FROM call_records WHERE import_no = (SELECT no FROM evidence_imports WHERE id = $1)`,
      [view.id],
    );
    expect(row).toEqual({ n: manifest.calls.rowsAccepted, lines: manifest.calls.rowsAccepted, first: expect.any(Number), last: expect.any(Number) });
    expect(row.last).toBeLessThanOrEqual(manifest.calls.rowsTotal + 1);
  });

  it('reports the same first rejected rows as one thread reading front to back', async () => {
    const expected: Array<{ line: number; reason: string }> = [];
    await readByFieldPath(path.join(dir, 'calls.csv'), [], '1', (r, line) => {
      if (typeof r !== 'string' && expected.length < 100) expected.push({ line, reason: r.reason });
    });
    expect(view.errors.map((e) => ({ line: e.line, reason: e.reason }))).toEqual(expected);
  });

  it('stores exactly the values the field path would (binary rows and text rows alike)', async () => {
    expect(await differenceFromFieldPath(t.ds, url.toString(), view.id, path.join(dir, 'calls.csv'), manifest.calls.rowsAccepted)).toEqual({ extra: 0, missing: 0 });
  });

  it('a second import in the same process parses on the same worker threads (the same file: a duplicate, nothing imported)', async () => {
    const imports = t.app.get(EvidenceImportsService);
    const id = await imports.create('calls', path.join(dir, 'calls.csv'), 'parallel-again.csv', { type: 'system' });
    const again = await imports.run(id, callImportSpec());
    expect(again.status).toBe('duplicate');
    expect(again.duplicateOf).toBe(view.id);
    const [{ n }] = await t.ds.query(`SELECT count(*)::int AS n FROM call_records`);
    expect(n).toBe(manifest.calls.rowsAccepted);
  });
});
