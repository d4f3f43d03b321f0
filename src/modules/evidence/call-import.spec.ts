import type { Client } from 'pg';
import type { ImportSpec } from './evidence-imports.service.js';
import { CALL_COLUMNS, CALL_COPY_COLUMNS, CallColumn, callRowToCopy } from './call-record-row.js';

/** Call records: normalised target numbers, attributed to the institution impersonated. */
export function callImportSpec(): ImportSpec<CallColumn> {
  let institutions = new Map<string, number>();
  return {
    kind: 'calls',
    columns: CALL_COLUMNS,
    table: 'call_records',
    copyColumns: CALL_COPY_COLUMNS,
    async prepare(client: Client) {
      const { rows } = await client.query<{ caller_e164: string; institution_id: number }>(
        `SELECT caller_e164, institution_id FROM institution_caller_ids`,
      );
      institutions = new Map(rows.map((r) => [r.caller_e164, r.institution_id]));
    },
    row: (fields, index, width, importId, line) => callRowToCopy(fields, index, width, importId, line, institutions),
  };
}
