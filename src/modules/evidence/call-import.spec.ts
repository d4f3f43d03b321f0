import type { Client } from 'pg';
import type { ImportSpec } from './evidence-imports.service.js';
import { CALL_COLUMNS, CALL_COPY_COLUMNS, CallColumn, CallerLookup, callRowToCopy } from './call-record-row.js';

/** Call records: normalised target numbers, attributed to the institution impersonated. */
export function callImportSpec(): ImportSpec<CallColumn> {
  let callers = new CallerLookup(new Map());
  return {
    kind: 'calls',
    columns: CALL_COLUMNS,
    table: 'call_records',
    copyColumns: CALL_COPY_COLUMNS,
    importKey: 'no',
    async prepare(client: Client) {
      const { rows } = await client.query<{ caller_e164: string; institution_id: number }>(
        `SELECT caller_e164, institution_id FROM institution_caller_ids`,
      );
      callers = new CallerLookup(new Map(rows.map((r) => [r.caller_e164, r.institution_id])));
    },
    row: (fields, index, width, importNo, line) => callRowToCopy(fields, index, width, importNo, line, callers),
  };
}
