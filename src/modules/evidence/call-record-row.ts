import { copyText, detached, Rejection } from '../../common/csv-records.js';
import { normalisePhone } from '../../common/phone.js';
import { isoTimestamp } from '../../common/timestamps.js';

/** The columns a call-record file must have (any order; extra columns are ignored). */
export const CALL_COLUMNS = ['call_id', 'started_at', 'duration_seconds', 'account_id', 'caller_id', 'target_number'] as const;
export type CallColumn = (typeof CALL_COLUMNS)[number];

/** call_records columns, in the order callRowToCopy writes them. */
export const CALL_COPY_COLUMNS = [
  'import_no', 'line_no', 'call_id', 'started_at', 'duration_seconds', 'account_id',
  'caller_id', 'institution_id', 'target_e164', 'target_type',
] as const;

export const MAX_TEXT = 200;
export const MAX_DURATION = 7 * 24 * 3600;

/**
 * One call-record row to a COPY line, or the reason it is rejected. Pure: the caller
 * supplies the institutions' caller ids (E.164 → institution id).
 */
export function callRowToCopy(
  fields: string[],
  index: Record<CallColumn, number>,
  width: number,
  importNo: string,
  line: number,
  callers: CallerLookup,
): string | Rejection {
  if (fields.length !== width) {
    return { reason: `the row has ${fields.length} fields but the header has ${width}` };
  }
  const target = normalisePhone(fields[index.target_number]);
  if (!target.ok) return { reason: `target_number: ${target.reason}`, column: 'target_number', value: fields[index.target_number] };

  const startedRaw = fields[index.started_at].trim();
  const startedAt = isoTimestamp(startedRaw);
  if (startedAt === null) return { reason: 'started_at is not an ISO 8601 date and time', column: 'started_at', value: startedRaw };

  const durationRaw = fields[index.duration_seconds].trim();
  if (!/^\d{1,9}$/.test(durationRaw) || +durationRaw > MAX_DURATION) {
    return { reason: `duration_seconds must be a whole number from 0 to ${MAX_DURATION}`, column: 'duration_seconds', value: durationRaw };
  }

  const callId = fields[index.call_id].trim();
  const accountId = fields[index.account_id].trim();
  const callerRaw = fields[index.caller_id].trim();
  if (callId.length > MAX_TEXT || accountId.length > MAX_TEXT || callerRaw.length > MAX_TEXT) {
    return { reason: `call_id, account_id and caller_id must be at most ${MAX_TEXT} characters` };
  }
  const caller = callers.lookup(callerRaw);

  return (
    importNo + '\t' + line + '\t' + (callId === '' ? '\\N' : copyText(callId)) + '\t' + startedAt + '\t' + durationRaw +
    '\t' + (accountId === '' ? '\\N' : copyText(accountId)) + '\t' + caller + '\t' + target.e164 + '\t' + target.type + '\n'
  );
}

/**
 * Caller ids repeat endlessly (a few thousand spoofed numbers across millions of calls):
 * each distinct one is normalised and attributed once, then served from a map as the
 * two COPY fields "caller_id<TAB>institution_id".
 */
export class CallerLookup {
  private readonly cache = new Map<string, string>();
  constructor(private readonly institutionByCaller: ReadonlyMap<string, number>) {}

  lookup(raw: string): string {
    let out = this.cache.get(raw);
    if (out === undefined) {
      const { caller, institution } = this.resolve(raw);
      out = (caller === null ? '\\N' : copyText(caller)) + '\t' + (institution === null ? '\\N' : String(institution));
      if (this.cache.size < 20_000) this.cache.set(detached(raw), (out = detached(out)));
    }
    return out;
  }

  /** The caller id to store (E.164 when it reads as a number, else as written) and its institution. */
  resolve(raw: string): { caller: string | null; institution: number | null } {
    if (raw === '') return { caller: null, institution: null };
    const p = normalisePhone(raw);
    return { caller: p.ok ? p.e164 : raw, institution: p.ok ? this.institutionOf(p.e164) : null };
  }

  /** The institution whose known caller id this is (E.164), if any. */
  institutionOf(e164: string): number | null {
    return this.institutionByCaller.get(e164) ?? null;
  }
}
