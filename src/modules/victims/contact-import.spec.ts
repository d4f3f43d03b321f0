import type { Client } from 'pg';
import { copyText, Rejection } from '../../common/csv-records.js';
import { normalisePhone } from '../../common/phone.js';
import type { RowRule } from '../evidence/block-parser.js';
import type { ImportSpec } from '../evidence/evidence-imports.service.js';
import { refreshContactDetails } from './victim-matching.service.js';

export const CONTACT_COLUMNS = ['phone', 'email', 'full_name', 'source'] as const;
export type ContactColumn = (typeof CONTACT_COLUMNS)[number];

const EMAIL = /^[^\s@",;<>()]+@[^\s@",;<>()]+\.[A-Za-z]{2,}$/;

/** One contact row to a COPY line: phone normalised, email validated and lower-cased. */
export function contactRowToCopy(
  fields: string[],
  index: Record<ContactColumn, number>,
  width: number,
  importId: string,
  line: number,
): string | Rejection {
  if (fields.length !== width) return { reason: `the row has ${fields.length} fields but the header has ${width}` };
  const phone = normalisePhone(fields[index.phone]);
  if (!phone.ok) return { reason: `phone: ${phone.reason}`, column: 'phone', value: fields[index.phone] };
  const rawEmail = fields[index.email].trim();
  const email = rawEmail === '' ? null : rawEmail.toLowerCase();
  if (email !== null && (email.length > 254 || !EMAIL.test(email))) {
    return { reason: 'email is not a valid address', column: 'email', value: rawEmail };
  }
  const name = fields[index.full_name].trim().slice(0, 200);
  const source = fields[index.source].trim().slice(0, 50);
  return `${importId}\t${line}\t${phone.e164}\t${copyText(email)}\t${copyText(name || null)}\t${copyText(source || null)}\n`;
}

/** Contacts from victim reports and bank records, linked to victims by phone. */
export function contactImportSpec(): ImportSpec<ContactColumn> {
  return {
    kind: 'contacts',
    columns: CONTACT_COLUMNS,
    table: 'contacts',
    copyColumns: ['import_id', 'line_no', 'phone_e164', 'email', 'full_name', 'source'],
    rows: { module: __filename, factory: 'makeContactRow', make: makeContactRow },
    async finish(client: Client, importId: string) {
      await refreshContactDetails(client, importId);
      const { rows } = await client.query<{ matchedVictim: number; unmatched: number; victimsEnriched: number }>(
        `SELECT count(*) FILTER (WHERE v.id IS NOT NULL)::int AS "matchedVictim",
                count(*) FILTER (WHERE v.id IS NULL)::int AS "unmatched",
                count(DISTINCT v.id)::int AS "victimsEnriched"
           FROM contacts c LEFT JOIN victims v ON v.phone_e164 = c.phone_e164
          WHERE c.import_id = $1`,
        [importId],
      );
      return rows[0];
    },
  };
}

/** The row rule for a parse lane. */
export function makeContactRow(): RowRule {
  return (fields, index, width, importId, line) => contactRowToCopy(fields, index, width, importId, line);
}
