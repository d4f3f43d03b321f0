import { parse as parseSync } from 'csv-parse/sync';
import { StringDecoder } from 'node:string_decoder';
import { isAscii } from 'node:buffer';

/** Why a row was not imported: shown to staff with its line number. */
export interface Rejection {
  reason: string;
  column?: string;
  value?: string;
}


/**
 * Splits CSV text into records as it arrives, calling onRecord(fields, line) for each
 * complete one; nothing but the unfinished last line is kept. Unquoted lines (nearly
 * all of a call-record export) are split on commas directly, several times faster than
 * a general parser; a record containing quotes is handed to csv-parse, so quoting,
 * escaped quotes and line breaks inside quotes follow RFC 4180. Handles a UTF-8 BOM
 * and CRLF line ends; blank lines are not records. Line numbers are 1-based physical
 * lines where each record starts (the header is line 1).
 */
export class CsvSplitter {
  private rest = '';
  private line = 0;
  private first = true;
  private pending: { start: number; text: string; quotes: number } | null = null;
  private readonly decoder = new StringDecoder('utf8');
  private decoderMayHold = false;

  /** lineOffset: the physical line before the first byte given (for a block mid-file). */
  constructor(
    private readonly onRecord: (fields: string[], line: number) => void,
    lineOffset = 0,
  ) {
    this.line = lineOffset;
    if (lineOffset > 0) this.first = false;
  }

  /**
   * Bytes of the file: ASCII chunks skip the UTF-8 decoder (they need none), unless the
   * decoder may still hold the start of a character cut at the previous chunk's end.
   */
  pushBytes(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const ascii = !this.decoderMayHold && isAscii(bytes);
    this.decoderMayHold = !ascii && bytes[bytes.length - 1] >= 0x80;
    this.push(ascii ? bytes.toString('latin1') : this.decoder.write(bytes));
  }

  /** True while a quoted field runs on over line ends: the next lines belong to it. */
  get inRecord(): boolean {
    return this.pending !== null;
  }

  /**
   * For a caller that hands over only some lines (the rest it reads itself): the
   * physical line number just before the next text pushed. Only between records.
   */
  resumeAfter(line: number): void {
    if (this.pending !== null || this.rest.length > 0) throw new Error('resumeAfter inside a record');
    this.line = line;
    this.first = false;
  }

  push(chunk: string): void {
    let text = this.rest.length ? this.rest + chunk : chunk;
    // (A first chunk may decode to nothing: a BOM's bytes can arrive in several chunks.)
    if (this.first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    let start = 0;
    let nl: number;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line++;
      if (this.pending === null) {
        if (end > start) {
          const raw = text.slice(start, end);
          if (raw.indexOf('"') === -1) this.onRecord(raw.split(','), this.line);
          else this.take(raw);
        }
      } else {
        this.take(text.slice(start, end));
      }
      start = nl + 1;
    }
    this.rest = text.slice(start);
  }

  end(): void {
    const tail = this.rest + this.decoder.end();
    this.rest = '';
    if (tail.length > 0) {
      this.line++;
      this.take(tail.endsWith('\r') ? tail.slice(0, -1) : tail);
    }
    if (this.pending) {
      // An unterminated quote at end of file: hand it over as one malformed record.
      this.onRecord([this.pending.text], this.pending.start);
      this.pending = null;
    }
  }

  private take(raw: string): void {
    const p = this.pending;
    if (p) {
      p.text += '\n' + raw;
      p.quotes += countQuotes(raw);
      if (p.quotes % 2 === 1) return;
      this.pending = null;
      this.onRecord(parseQuoted(p.text), p.start);
      return;
    }
    if (raw.length === 0) return;
    if (raw.indexOf('"') === -1) {
      this.onRecord(raw.split(','), this.line);
      return;
    }
    const quotes = countQuotes(raw);
    if (quotes % 2 === 1) {
      this.pending = { start: this.line, text: raw, quotes };
      return;
    }
    this.onRecord(parseQuoted(raw), this.line);
  }
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = s.indexOf('"'); i !== -1; i = s.indexOf('"', i + 1)) n++;
  return n;
}

function parseQuoted(text: string): string[] {
  try {
    const rows: string[][] = parseSync(text, { relax_column_count: true, relax_quotes: true });
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

/**
 * Escapes a value for Postgres COPY text format. Postgres cannot store NUL in text (it
 * would abort the whole COPY), so NUL becomes U+FFFD, as invalid UTF-8 already does.
 */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  if (!/[\\\t\n\r\0]/.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\0/g, '\ufffd');
}

/**
 * A copy of a string that does not keep its source alive. V8 represents substrings
 * (slice, split, trim) as views into the parent, so caching one field of a 1 MB chunk
 * would keep the whole chunk in memory.
 */
export function detached(s: string): string {
  return (' ' + s).slice(1);
}

/**
 * Collects COPY rows as bytes. Each row string is written out as soon as it is made, so
 * it dies young; accumulating strings for a whole chunk would promote millions of them
 * to the old generation and spend most of an import in the garbage collector.
 */
export class CopyBuffer {
  private buf: Buffer;
  /** Bytes written into the current buffer (see room). */
  used = 0;
  private readonly full: Buffer[] = [];

  constructor(private readonly size = 2 << 20) {
    this.buf = Buffer.allocUnsafe(size);
  }

  add(row: string): void {
    this.room(row.length * 3);
    // utf8Write skips Buffer#write's argument juggling, a third of this hot loop.
    this.used += (this.buf as unknown as { utf8Write(s: string, offset: number): number }).utf8Write(row, this.used);
  }

  /**
   * Makes room for n more bytes and returns the buffer to write them into, from
   * `used` on; the writer then advances `used` by what it wrote.
   */
  room(n: number): Buffer {
    if (this.buf.length - this.used < n) {
      this.full.push(this.buf.subarray(0, this.used));
      this.buf = Buffer.allocUnsafe(Math.max(this.size, n));
      this.used = 0;
    }
    return this.buf;
  }

  /** Everything added since the last take, or null; the buffers handed out are never reused. */
  take(): Buffer | null {
    if (this.used > 0) {
      this.full.push(this.buf.subarray(0, this.used));
      this.buf = this.buf.length - this.used >= this.size / 4 ? this.buf.subarray(this.used) : Buffer.allocUnsafe(this.size);
      this.used = 0;
    }
    if (this.full.length === 0) return null;
    const out = this.full.length === 1 ? this.full[0] : Buffer.concat(this.full);
    this.full.length = 0;
    return out;
  }
}
