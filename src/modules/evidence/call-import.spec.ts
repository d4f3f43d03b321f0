import type { Client } from 'pg';
import type { RowRule } from './block-parser.js';
import type { ImportSpec } from './evidence-imports.service.js';
import { CallerBytes, callLineRule } from './call-record-bytes.js';
import { CALL_COLUMNS, CALL_COPY_COLUMNS, CallColumn, CallerLookup, callRowToCopy } from './call-record-row.js';

/** Call records: normalised target numbers, attributed to the institution impersonated. */
export function callImportSpec(): ImportSpec<CallColumn> {
  return {
    kind: 'calls',
    columns: CALL_COLUMNS,
    table: 'call_records',
    copyColumns: CALL_COPY_COLUMNS,
    importKey: 'no',
    partitionPerImport: true,
    rows: { module: __filename, factory: 'makeCallRow', make: makeCallRow },
    async context(client: Client) {
      const { rows } = await client.query<{ caller_e164: string; institution_id: number }>(
        `SELECT caller_e164, institution_id FROM institution_caller_ids`,
      );
      return rows.map((r) => [r.caller_e164, r.institution_id]);
    },
  };
}

/** The row rule for a parse lane, from the institutions' caller ids (E.164 → id). */
export function makeCallRow(institutions: Array<[string, number]>): RowRule {
  const callers = new CallerLookup(new Map(institutions));
  const rule: RowRule = (fields, index, width, importNo, line) =>
    callRowToCopy(fields, index, width, importNo, line, callers);
  const callerBytes = new CallerBytes(callers);
  rule.lines = (header, importNo) => callLineRule(header.index, header.width, importNo, callerBytes);
  return rule;
}
