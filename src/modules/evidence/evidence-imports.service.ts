import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { mapHeader } from '../../common/csv-records.js';
import { BlockResult, HeaderMap, MAX_ERROR_SAMPLES, RowSource, Sample } from './block-parser.js';
import { CopySink } from './copy-sink.js';
import { ParseLanes } from './parse-lanes.js';
import { availableParallelism } from 'node:os';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { queryOne, queryRows } from '../../database/sql.js';
import { Actor, AuditService } from '../audit/audit.service.js';
import { isUuid } from '../../common/input-rules.js';

export type ImportKind = 'calls' | 'contacts';
export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed' | 'duplicate';

export interface ImportView {
  id: string;
  kind: ImportKind;
  status: ImportStatus;
  fileName: string;
  fileSha256: string | null;
  fileBytes: number | null;
  bytesProcessed: number;
  progress: number;
  rowsTotal: number;
  rowsAccepted: number;
  rowsRejected: number;
  rejectedByReason: Record<string, number>;
  errors: Array<{ line: number; reason: string; column?: string; value?: string }>;
  failureReason: string | null;
  duplicateOf: string | null;
  summary: Record<string, unknown>;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** How one kind of file becomes rows: its header, its COPY target and its row rule. */
export interface ImportSpec<K extends string> {
  kind: ImportKind;
  columns: readonly K[];
  table: string;
  copyColumns: readonly string[];
  /** What row() receives to tag its rows: the import's uuid (default) or its number. */
  importKey?: 'id' | 'no';
  /**
   * The table is partitioned by import number: load a new partition of its own with
   * COPY … FREEZE and attach it before commit.
   */
  partitionPerImport?: boolean;
  /**
   * The row rule, as a factory exported by a module (so parse workers can load it):
   * factory(context) returns (fields, index, width, importKey, line) → COPY line or
   * rejection.
   */
  rows: RowSource;
  /** What the row rule needs (e.g. institutions' caller ids): read inside the transaction, serialisable. */
  context?(client: Client): Promise<unknown>;
  /** Set-based work after the COPY, inside the same transaction; returns the summary. */
  finish?(client: Client, importId: string): Promise<Record<string, unknown>>;
}

export interface ImportProgress {
  bytes: number;
  totalBytes: number;
  rows: number;
}


/**
 * Imports evidence files: streaming from disk through a row rule into Postgres COPY,
 * in one transaction, so a bad file changes nothing. Same content (SHA-256) twice
 * imports nothing the second time.
 */
@Injectable()
export class EvidenceImportsService {
  private readonly logger = new Logger(EvidenceImportsService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  /**
   * Registers a file to import. `owned` marks an upload the platform saved itself: it is
   * deleted once imported (or found a duplicate, or refused for its content); a file
   * named on the command line is the user's and is never touched.
   */
  async create(kind: ImportKind, filePath: string, fileName: string, actor: Actor, owned = false): Promise<string> {
    const size = (await stat(filePath)).size;
    const row = await queryOne<{ id: string }>(
      this.ds,
      `INSERT INTO evidence_imports (kind, file_name, file_bytes, created_by, summary)
       VALUES ($1, $2, $3, $4, jsonb_build_object('path', $5::text, 'owned', $6::boolean)) RETURNING id`,
      [kind, fileName.slice(0, 255), size, actor.type === 'staff' ? actor.id : null, filePath, owned],
    );
    await this.audit.record({ actor, action: `evidence.${kind}_import_created`, subjectType: 'evidence_import', subjectId: row!.id, details: { fileName, bytes: size } });
    return row!.id;
  }

  /**
   * An upload saved by the api: registered as an import the platform owns (its file is
   * deleted once imported) and handed to a worker by `enqueue`.
   */
  async acceptUpload(kind: ImportKind, file: Express.Multer.File | undefined, staffId: string, enqueue: (id: string) => Promise<unknown>) {
    if (!file) {
      throw new BadRequestException(`Send the ${kind === 'calls' ? 'call-records' : 'contacts'} CSV as a multipart field named "file"`);
    }
    const id = await this.create(kind, file.path, file.originalname, { type: 'staff', id: staffId }, true);
    await enqueue(id);
    return { id, status: 'queued' as const };
  }

  async get(id: string): Promise<ImportView> {
    if (!isUuid(id)) throw new NotFoundException('No import with that id');
    const r = await queryOne<Record<string, unknown>>(this.ds, `SELECT * FROM evidence_imports WHERE id = $1`, [id]);
    if (!r) throw new NotFoundException('No import with that id');
    return toView(r);
  }

  /** Runs a queued import to its end; re-running a finished import just returns it. */
  async run<K extends string>(id: string, spec: ImportSpec<K>, onProgress?: (p: ImportProgress) => void): Promise<ImportView> {
    const claimed = await queryOne<{ path: string; owned: boolean; file_bytes: string; no: number }>(
      this.ds,
      `UPDATE evidence_imports SET status = 'running', started_at = now()
        WHERE id = $1 AND kind = $2 AND status IN ('queued', 'running')
        RETURNING summary->>'path' AS path, coalesce((summary->>'owned')::boolean, false) AS owned, file_bytes, no`,
      [id, spec.kind],
    );
    if (!claimed) return this.get(id);
    const path = claimed.path;
    const totalBytes = Number(claimed.file_bytes);
    try {
      const key = spec.importKey === 'no' ? String(claimed.no) : id;
      const view = await this.load(id, key, path, totalBytes, spec, onProgress);
      if (claimed.owned) await unlink(path).catch(() => undefined);
      return view;
    } catch (err) {
      // A database error's text can quote row content: it goes to the (scrubbed) log,
      // and the person gets a message without it.
      const fileProblem = err instanceof ImportFileError;
      const reason = fileProblem ? err.message : 'The import failed on our side and nothing was kept; it has been logged. Try again, or ask an admin.';
      if (!fileProblem) this.logger.error({ importId: id, err: { message: (err as Error).message } }, 'import failed');
      else if (claimed.owned) await unlink(path).catch(() => undefined);
      await this.ds.query(
        `UPDATE evidence_imports SET status = 'failed', failure_reason = $2, finished_at = now() WHERE id = $1`,
        [id, reason.slice(0, 2000)],
      );
      await this.audit.record({ actor: { type: 'system' }, action: `evidence.${spec.kind}_import_failed`, subjectType: 'evidence_import', subjectId: id, details: { reason } });
      return this.get(id);
    }
  }

  private completedWithHash(kind: ImportKind, sha256: string): Promise<{ id: string } | undefined> {
    return queryOne<{ id: string }>(
      this.ds,
      `SELECT id FROM evidence_imports WHERE kind = $1 AND file_sha256 = $2 AND status = 'completed'`,
      [kind, sha256],
    );
  }

  private async markDuplicate(id: string, sha256: string, earlierId: string): Promise<ImportView> {
    await this.ds.query(
      `UPDATE evidence_imports SET status = 'duplicate', file_sha256 = $2, duplicate_of = $3, finished_at = now(),
              failure_reason = 'This file was already imported (same SHA-256); nothing was imported again' WHERE id = $1`,
      [id, sha256, earlierId],
    );
    await this.audit.record({ actor: { type: 'system' }, action: 'evidence.import_duplicate', subjectType: 'evidence_import', subjectId: id, details: { duplicateOf: earlierId } });
    return this.get(id);
  }

  /**
   * One pass over the file: hashing, parsing and COPY together. A file whose hash an
   * earlier completed import already has is rolled back and reported as a duplicate
   * (checked before commit, and by the unique index if two imports race).
   */
  private async load<K extends string>(
    id: string,
    key: string,
    path: string,
    totalBytes: number,
    spec: ImportSpec<K>,
    onProgress?: (p: ImportProgress) => void,
  ): Promise<ImportView> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: `import-${id.slice(0, 8)}` });
    await client.connect();
    const input = createReadStream(path, { highWaterMark: 1 << 20 });
    const counts = { total: 0, accepted: 0, rejected: 0 };
    const byReason: Record<string, number> = {};
    let samples: Sample[] = [];
    let lastReport = 0;
    const report = (force = false) => {
      const bytes = input.bytesRead;
      const now = Date.now();
      if (!force && now - lastReport < 500) return;
      lastReport = now;
      onProgress?.({ bytes, totalBytes, rows: counts.total });
      // Progress is written outside the import's transaction so GET can show it.
      void this.ds
        .query(`UPDATE evidence_imports SET rows_total = $2, bytes_processed = $3 WHERE id = $1 AND status = 'running'`, [id, counts.total, bytes])
        .catch(() => undefined);
    };

    let sink: CopySink | null = null;
    let lanes: ParseLanes | null = null;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL timezone = 'UTC'`);
      const context = (await spec.context?.(client)) ?? null;
      const hash = createHash('sha256');
      const target = spec.partitionPerImport ? `${spec.table}_${key}` : spec.table;
      if (spec.partitionPerImport) {
        if (!/^\d+$/.test(key)) throw new Error('a partitioned import needs its import number as key');
        await client.query(`CREATE TABLE ${target} (LIKE ${spec.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
        // Matching the partition bound lets ATTACH skip scanning the rows again.
        await client.query(`ALTER TABLE ${target} ADD CONSTRAINT ${target}_import CHECK (import_no = ${key})`);
      }
      sink = new CopySink(client, `${target} (${spec.copyColumns.join(', ')})`, !!spec.partitionPerImport);
      const consume = async (r: BlockResult) => {
        counts.total += r.total;
        counts.accepted += r.accepted;
        counts.rejected += r.rejected;
        for (const [reason, n] of Object.entries(r.byReason)) byReason[reason] = (byReason[reason] ?? 0) + n;
        if (samples.length < MAX_ERROR_SAMPLES || r.samples.some((x) => x.line < samples[samples.length - 1].line)) {
          samples = [...samples, ...r.samples].sort((a, b) => a.line - b.line).slice(0, MAX_ERROR_SAMPLES);
        }
        // Backpressure: the sink waits for Postgres to take what it has before reading on.
        if (r.binary) await sink!.binary(r.binary);
        if (r.copy) await sink!.text(r.copy);
        report();
      };

      // Blocks of whole lines go to the parse lanes; a block never ends inside a quoted
      // field (odd number of quotes: wait for more), unless it grows past MAX_CARRY.
      const blocks = new LineBlocks();
      const inFlight = new Set<Promise<void>>();
      const dispatch = async (block: Buffer, firstLine: number) => {
        if (!lanes) {
          const workers = totalBytes >= this.config.importParallelMinBytes ? Math.max(0, Math.min(availableParallelism() - 1, 3)) : 0;
          lanes = ParseLanes.create({ rows: spec.rows, context, header: header!, key }, workers);
        }
        const job = lanes.parse(block, firstLine).then(consume);
        inFlight.add(job);
        void job.finally(() => inFlight.delete(job)).catch(() => undefined);
        // Keep at most two blocks per lane in flight: bounded memory, lanes kept busy.
        while (inFlight.size >= lanes.lanes * 2) await Promise.race(inFlight);
      };
      let header: HeaderMap | null = null;
      const take = async (b: { block: Buffer; firstLine: number; headerBytes: number }) => {
        if (header) return dispatch(b.block, b.firstLine);
        header = readHeader(b.block, spec.columns);
        const rest = b.block.subarray(b.headerBytes);
        if (rest.length) await dispatch(rest, 2);
      };
      for await (const bytes of input as AsyncIterable<Buffer>) {
        hash.update(bytes);
        for (const b of blocks.push(bytes)) await take(b);
      }
      for (const b of blocks.end()) await take(b);
      if (!header) throw new ImportFileError('The file is empty: a header row is required');
      await Promise.all(inFlight);
      await sink.end();
      report(true);
      const sha256 = hash.digest('hex');
      const earlier = await this.completedWithHash(spec.kind, sha256);
      if (earlier) {
        await client.query('ROLLBACK');
        return this.markDuplicate(id, sha256, earlier.id);
      }
      if (spec.partitionPerImport) {
        await client.query(`ALTER TABLE ${spec.table} ATTACH PARTITION ${target} FOR VALUES IN (${key})`);
      }
      const summary = (await spec.finish?.(client, id)) ?? {};
      await client.query(
        `UPDATE evidence_imports
            SET status = 'completed', file_sha256 = $9, rows_total = $2, rows_accepted = $3, rows_rejected = $4, errors = $5,
                rejected_by_reason = $6, summary = summary || $7::jsonb, bytes_processed = $8, finished_at = clock_timestamp()
          WHERE id = $1`,
        [id, counts.total, counts.accepted, counts.rejected, JSON.stringify(samples), JSON.stringify(byReason), JSON.stringify(summary), input.bytesRead, sha256],
      );
      await this.audit.record(
        { actor: { type: 'system' }, action: `evidence.${spec.kind}_import_completed`, subjectType: 'evidence_import', subjectId: id, details: { sha256, rows: counts, ...summary } },
        client,
      );
      try {
        await client.query('COMMIT');
      } catch (err) {
        // Two imports of the same content raced: the unique index lets one complete.
        if ((err as { code?: string }).code === '23505') {
          const winner = await this.completedWithHash(spec.kind, sha256);
          if (winner) return this.markDuplicate(id, sha256, winner.id);
        }
        throw err;
      }
      return this.get(id);
    } catch (err) {
      // A COPY in progress must be aborted (CopyFail) before the connection takes a ROLLBACK.
      (sink)?.abort(err as Error);
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      await (lanes as ParseLanes | null)?.close();
      input.destroy();
      await client.end().catch(() => undefined);
    }
  }

  /**
   * What a member of staff may see: rejected values are numbers as the evidence wrote
   * them, some nearly valid, so analysts get them masked like every other number.
   */
  static forViewer(view: ImportView, role: string): ImportView {
    if (role !== 'analyst') return view;
    return { ...view, errors: view.errors.map((e) => (e.value === undefined ? e : { ...e, value: maskRaw(e.value) })) };
  }

  async list(limit = 50): Promise<ImportView[]> {
    const rows = await queryRows<Record<string, unknown>>(this.ds, `SELECT * FROM evidence_imports ORDER BY created_at DESC LIMIT $1`, [limit]);
    return rows.map(toView);
  }
}

/** Import jobs: one per import (the id is the job id), retried with backoff. */
export const IMPORT_JOB_OPTIONS = (importId: string) => ({
  jobId: `import-${importId}`,
  attempts: 3,
  backoff: { type: 'exponential' as const, delay: 5000 },
});

/** A problem with the file itself: reported to the person as it is. */
export class ImportFileError extends Error {}

function toView(r: Record<string, unknown>): ImportView {
  const fileBytes = r.file_bytes === null ? null : Number(r.file_bytes);
  const bytesProcessed = Number(r.bytes_processed);
  const { path: _path, owned: _owned, ...summary } = (r.summary ?? {}) as Record<string, unknown>;
  return {
    id: r.id as string,
    kind: r.kind as ImportKind,
    status: r.status as ImportStatus,
    fileName: r.file_name as string,
    fileSha256: (r.file_sha256 as string) ?? null,
    fileBytes,
    bytesProcessed,
    progress: r.status === 'completed' ? 1 : fileBytes ? Math.min(1, bytesProcessed / fileBytes) : 0,
    rowsTotal: Number(r.rows_total),
    rowsAccepted: Number(r.rows_accepted),
    rowsRejected: Number(r.rows_rejected),
    rejectedByReason: r.rejected_by_reason as Record<string, number>,
    errors: r.errors as ImportView['errors'],
    failureReason: (r.failure_reason as string) ?? null,
    duplicateOf: (r.duplicate_of as string) ?? null,
    summary,
    createdAt: r.created_at as Date,
    startedAt: (r.started_at as Date) ?? null,
    finishedAt: (r.finished_at as Date) ?? null,
  };
}

function maskRaw(value: string): string {
  return value.length <= 4 ? '*'.repeat(value.length) : value.slice(0, 2) + '*'.repeat(value.length - 4) + value.slice(-2);
}

/**
 * Cuts a byte stream into blocks of whole lines, each with the physical line number of
 * its first line. A cut inside a quoted field (odd number of quotes so far) waits for
 * more bytes, up to MAX_CARRY; past that the block goes as it is and the row rules
 * reject the broken record, rather than holding a malformed file in memory.
 */
export class LineBlocks {
  static readonly MAX_CARRY = 8 << 20;
  private carry: Buffer | null = null;
  private line = 1;
  private first = true;

  push(bytes: Buffer): Array<{ block: Buffer; firstLine: number; headerBytes: number }> {
    let buf = this.carry ? Buffer.concat([this.carry, bytes]) : bytes;
    this.carry = null;
    if (this.first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    const cut = buf.lastIndexOf(10);
    if (cut === -1 || (countByte(buf, 34, cut + 1) % 2 === 1 && buf.length < LineBlocks.MAX_CARRY)) {
      this.carry = Buffer.from(buf);
      return [];
    }
    const block = buf.subarray(0, cut + 1);
    this.carry = cut + 1 < buf.length ? Buffer.from(buf.subarray(cut + 1)) : null;
    return [this.emit(block)];
  }

  end(): Array<{ block: Buffer; firstLine: number; headerBytes: number }> {
    const rest = this.carry;
    this.carry = null;
    return rest && rest.length ? [this.emit(rest)] : [];
  }

  private emit(block: Buffer) {
    const firstLine = this.line;
    const headerBytes = this.first ? block.indexOf(10) + 1 || block.length : 0;
    this.first = false;
    this.line += countByte(block, 10, block.length);
    return { block, firstLine, headerBytes };
  }
}

function countByte(buf: Buffer, byte: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(byte); i !== -1 && i < end; i = buf.indexOf(byte, i + 1)) n++;
  return n;
}

function readHeader(block: Buffer, columns: readonly string[]): HeaderMap {
  const nl = block.indexOf(10);
  const text = block.toString('utf8', 0, nl === -1 ? block.length : nl).replace(/^\ufeff/, '').replace(/\r$/, '');
  if (text.trim() === '') throw new ImportFileError('The file is empty: a header row is required');
  const h = mapHeader(text.split(','), columns);
  if (!h.ok) throw new ImportFileError(h.message);
  return h;
}
