import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DataSource } from 'typeorm';
import { expect } from 'vitest';
import { CsvSplitter, mapHeader, Rejection } from '../../src/common/csv-records.js';
import { makeCallRow } from '../../src/modules/evidence/call-import.spec.js';
import { CALL_COLUMNS, CALL_COPY_COLUMNS } from '../../src/modules/evidence/call-record-row.js';

/**
 * Every record of a call-record file through the field path alone (CsvSplitter and the
 * row rule, one thread, front to back): each COPY line or rejection with its line.
 */
export async function readByFieldPath(
  file: string,
  institutions: Array<[string, number]>,
  importNo: string,
  onRow: (result: string | Rejection, line: number) => void,
): Promise<void> {
  const row = makeCallRow(institutions);
  let header: { index: Record<string, number>; width: number } | null = null;
  const splitter = new CsvSplitter((fields, line) => {
    if (!header) {
      const h = mapHeader(fields, CALL_COLUMNS);
      if (h.ok) header = h;
      return;
    }
    onRow(row(fields, header.index, header.width, importNo, line), line);
  });
  for await (const chunk of createReadStream(file)) splitter.pushBytes(chunk as Buffer);
  splitter.end();
}

/**
 * Rows an import stored, against every line of its file put through the field path
 * alone (callRowToCopy) and loaded by a plain text COPY: rows only the import has, and
 * rows only the field path has. Both 0 when the byte path stores what the field path
 * would.
 */
export async function differenceFromFieldPath(
  ds: DataSource,
  databaseUrl: string,
  importId: string,
  file: string,
  accepted: number,
): Promise<{ extra: number; missing: number }> {
  const [{ no }] = await ds.query(`SELECT no FROM evidence_imports WHERE id = $1`, [importId]);
  const institutions = (await ds.query(`SELECT caller_e164, institution_id FROM institution_caller_ids`)).map(
    (r: { caller_e164: string; institution_id: number }) => [r.caller_e164, r.institution_id] as [string, number],
  );
  const lines: string[] = [];
  await readByFieldPath(file, institutions, String(no), (r) => {
    if (typeof r === 'string') lines.push(r);
  });
  expect(lines.length).toBe(accepted);

  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SET timezone = 'UTC'`);
    await client.query(`CREATE TEMP TABLE expected (LIKE call_records)`);
    await pipeline(Readable.from([lines.join('')]), client.query(copyFrom(`COPY expected (${CALL_COPY_COLUMNS.join(', ')}) FROM STDIN`)));
    const cols = CALL_COPY_COLUMNS.join(', ');
    const { rows } = await client.query(
      `SELECT (SELECT count(*) FROM (SELECT ${cols} FROM call_records WHERE import_no = $1 EXCEPT ALL SELECT ${cols} FROM expected) x)::int AS extra,
              (SELECT count(*) FROM (SELECT ${cols} FROM expected EXCEPT ALL SELECT ${cols} FROM call_records WHERE import_no = $1) x)::int AS missing`,
      [no],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}
