import { parse as parseSync } from 'csv-parse/sync';
import type { Readable } from 'node:stream';

/** Why a row was not imported: shown to staff with its line number. */
export interface Rejection {
  reason: string;
  column?: string;
  value?: string;
}

export interface CsvRecord {
  /** 1-based physical line number where the record starts (the header is line 1). */
  line: number;
  fields: string[];
}

/**
 * Streams CSV records from a byte stream without holding the file in memory.
 * Unquoted lines (nearly all of a call-record export) are split on commas directly,
 * which is several times faster than a general parser; a record containing quotes is
 * handed to csv-parse, so quoting, escaped quotes and line breaks inside quotes follow
 * RFC 4180. Handles a UTF-8 BOM and CRLF line ends.
 */
export async function* readCsvRecords(input: Readable): AsyncGenerator<CsvRecord> {
  let rest = '';
  let line = 0;
  // A record whose quoted field spans lines, collected until its quotes balance.
  let pending = null as { start: number; text: string; quotes: number } | null;
  let first = true;
  input.setEncoding('utf8');
  for await (const chunk of input as AsyncIterable<string>) {
    let text = rest + chunk;
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const raw = text.charCodeAt(nl - 1) === 13 && nl > start ? text.slice(start, nl - 1) : text.slice(start, nl);
      start = nl + 1;
      line++;
      const rec = take(raw);
      if (rec) yield rec;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0 || pending) {
    line++;
    const rec = take(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
    if (rec) yield rec;
    const unterminated = pending as { start: number; text: string } | null;
    if (unterminated) {
      // An unterminated quote at end of file: hand it over as one malformed record.
      yield { line: unterminated.start, fields: [unterminated.text] };
      pending = null;
    }
  }

  function take(raw: string): CsvRecord | null {
    if (pending) {
      pending.text += '\n' + raw;
      pending.quotes += countQuotes(raw);
      if (pending.quotes % 2 === 1) return null;
      const done = pending;
      pending = null;
      return { line: done.start, fields: parseQuoted(done.text) };
    }
    if (raw.indexOf('"') === -1) {
      if (raw.length === 0) return null; // blank lines are not records
      return { line, fields: raw.split(',') };
    }
    const quotes = countQuotes(raw);
    if (quotes % 2 === 1) {
      pending = { start: line, text: raw, quotes };
      return null;
    }
    return { line, fields: parseQuoted(raw) };
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
}

function parseQuoted(text: string): string[] {
  try {
    const rows = parseSync(text, { relax_column_count: true, relax_quotes: true }) as string[][];
    return rows[0] ?? [''];
  } catch {
    // Unparseable quoting: one field holding the raw text, which the row rules reject.
    return [text];
  }
}

/** Maps a header row to column indexes; order may vary, extra columns are ignored. */
export function mapHeader<K extends string>(
  header: string[],
  required: readonly K[],
): { ok: true; index: Record<K, number>; width: number } | { ok: false; message: string } {
  const names = header.map((h) => h.trim().toLowerCase());
  const index = {} as Record<K, number>;
  const missing: string[] = [];
  for (const col of required) {
    const i = names.indexOf(col);
    if (i === -1) missing.push(col);
    else index[col] = i;
  }
  const dupes = required.filter((c) => names.indexOf(c) !== names.lastIndexOf(c));
  if (missing.length || dupes.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing column(s) ${missing.join(', ')}`);
    if (dupes.length) parts.push(`duplicate column(s) ${dupes.join(', ')}`);
    return {
      ok: false,
      message: `The header row is wrong: ${parts.join('; ')}. Expected columns (in any order): ${required.join(',')}; got: ${header.join(',').slice(0, 300)}`,
    };
  }
  return { ok: true, index, width: header.length };
}

/** Escapes a value for Postgres COPY text format. */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  if (!/[\\\t\n\r]/.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
