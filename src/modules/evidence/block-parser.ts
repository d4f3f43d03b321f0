import { CopyBuffer, CsvSplitter, detached, Rejection } from '../../common/csv-records.js';

/**
 * Turns one CSV row into a COPY line (text format) or a rejection (see ImportSpec.rows).
 * A rule may also offer `lines`: a faster reading of plain lines straight from their
 * bytes into COPY's binary format.
 */
export type RowRule = ((fields: string[], index: Record<string, number>, width: number, importKey: string, line: number) => string | Rejection) & {
  lines?: (header: HeaderMap, importKey: string) => LineRule;
};

/**
 * Reads one line, bytes [start, end) of src without its line end, and appends its row
 * to out in COPY's binary format (the same columns, the same values as the row rule's
 * text line); or appends nothing and returns false, and the line goes through the row
 * rule as fields (quotes, other encodings, rejections).
 */
export type LineRule = (src: Buffer, start: number, end: number, line: number, out: CopyBuffer) => boolean;

export interface HeaderMap {
  index: Record<string, number>;
  width: number;
}

export interface Sample extends Rejection {
  line: number;
}

export interface BlockResult {
  /** Rows from the row rule, COPY text format. */
  copy: Uint8Array | null;
  /** Rows from the line rule, COPY binary format (rows only: no header or trailer). */
  binary: Uint8Array | null;
  total: number;
  accepted: number;
  rejected: number;
  byReason: Record<string, number>;
  samples: Sample[];
}

export const MAX_ERROR_SAMPLES = 100;

/**
 * Parses a block of whole CSV lines (a slice of the file cut at a line end) into COPY
 * bytes, counts and the first rejections. Pure and synchronous: it runs the same on the
 * main thread and in a parse worker.
 */
export function parseBlock(row: RowRule, header: HeaderMap, key: string, block: Uint8Array, firstLine: number): BlockResult {
  const out = new CopyBuffer(row.lines ? 64 << 10 : Math.max(64 << 10, block.length * 2));
  const r: BlockResult = { copy: null, binary: null, total: 0, accepted: 0, rejected: 0, byReason: {}, samples: [] };
  const onRecord = (fields: string[], line: number) => {
    r.total++;
    const res = row(fields, header.index, header.width, key, line);
    if (typeof res === 'string') {
      out.add(res);
      r.accepted++;
      return;
    }
    r.rejected++;
    if (r.byReason[res.reason] === undefined) r.byReason[detached(res.reason)] = 1;
    else r.byReason[res.reason]++;
    if (r.samples.length < MAX_ERROR_SAMPLES) {
      r.samples.push({ line, reason: detached(res.reason), column: res.column, value: res.value === undefined ? undefined : detached(res.value.slice(0, 40)) });
    }
  };
  const bytes = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  if (row.lines) {
    const binary = new CopyBuffer(Math.max(64 << 10, block.length * 2));
    const counted = readLines(row.lines(header, key), bytes, firstLine, binary, onRecord);
    r.total += counted;
    r.accepted += counted;
    r.binary = binary.take();
  } else {
    const splitter = new CsvSplitter(onRecord, firstLine - 1);
    splitter.pushBytes(bytes);
    splitter.end();
  }
  r.copy = out.take();
  return r;
}

/**
 * Walks a block line by line: plain lines go to the line rule, the others (and every
 * line of a record whose quoted field spans lines) to a CsvSplitter, as text. Returns
 * how many lines the line rule took.
 */
function readLines(rule: LineRule, src: Buffer, firstLine: number, binary: CopyBuffer, onRecord: (fields: string[], line: number) => void): number {
  let splitter: CsvSplitter | null = null;
  let taken = 0;
  let line = firstLine - 1;
  for (let pos = 0; pos < src.length; ) {
    let next = src.indexOf(10, pos);
    next = next === -1 ? src.length : next + 1;
    line++;
    let end = next;
    if (end > pos && src[end - 1] === 10) end--;
    if (end > pos && src[end - 1] === 13) end--;
    if (splitter?.inRecord) {
      splitter.push(src.toString('utf8', pos, next));
    } else if (end > pos) {
      if (rule(src, pos, end, line, binary)) {
        taken++;
      } else {
        splitter ??= new CsvSplitter(onRecord);
        splitter.resumeAfter(line - 1);
        splitter.push(src.toString('utf8', pos, next));
      }
    }
    pos = next;
  }
  splitter?.end();
  return taken;
}

/**
 * Where a spec's row rule comes from: `make` builds it in this thread; a worker thread
 * loads `factory` from `module` (a file path) itself, since functions cannot be sent.
 */
export interface RowSource {
  module: string;
  factory: string;
  make?: (context: never) => RowRule;
}

/** Loads a spec's row rule by module path and factory name (inside a worker thread). */
export function loadRowRule(rows: RowSource, context: unknown): RowRule {
  if (rows.make) return rows.make(context as never);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(rows.module) as Record<string, (ctx: unknown) => RowRule>;
  const make = mod[rows.factory];
  if (typeof make !== 'function') throw new Error(`${rows.module} has no row factory ${rows.factory}`);
  return make(context);
}
