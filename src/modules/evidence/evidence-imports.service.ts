import { Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { CsvRecord, mapHeader, readCsvRecords, Rejection } from '../../common/csv-records.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { queryOne, queryRows } from '../../database/sql.js';
import { Actor, AuditService } from '../audit/audit.service.js';

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
  /** Loads what the row rule needs (e.g. institutions' caller ids), inside the transaction. */
  prepare?(client: Client): Promise<void>;
  row(fields: string[], index: Record<K, number>, width: number, importId: string, line: number): string | Rejection;
  /** Set-based work after the COPY, inside the same transaction; returns the summary. */
  finish?(client: Client, importId: string): Promise<Record<string, unknown>>;
}

export interface ImportProgress {
  bytes: number;
  totalBytes: number;
  rows: number;
}

const MAX_ERROR_SAMPLES = 100;
const BATCH_ROWS = 2000;

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

  async create(kind: ImportKind, filePath: string, fileName: string, actor: Actor): Promise<string> {
    const size = (await stat(filePath)).size;
    const row = await queryOne<{ id: string }>(
      this.ds,
      `INSERT INTO evidence_imports (kind, file_name, file_bytes, created_by, summary)
       VALUES ($1, $2, $3, $4, jsonb_build_object('path', $5::text)) RETURNING id`,
      [kind, fileName.slice(0, 255), size, actor.type === 'staff' ? actor.id : null, filePath],
    );
    await this.audit.record({ actor, action: `evidence.${kind}_import_created`, subjectType: 'evidence_import', subjectId: row!.id, details: { fileName, bytes: size } });
    return row!.id;
  }

  async get(id: string): Promise<ImportView> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new NotFoundException('No import with that id');
    const r = await queryOne<Record<string, unknown>>(this.ds, `SELECT * FROM evidence_imports WHERE id = $1`, [id]);
    if (!r) throw new NotFoundException('No import with that id');
    return toView(r);
  }

  /** Runs a queued import to its end; re-running a finished import just returns it. */
  async run<K extends string>(id: string, spec: ImportSpec<K>, onProgress?: (p: ImportProgress) => void): Promise<ImportView> {
    const claimed = await queryOne<{ path: string; file_bytes: string }>(
      this.ds,
      `UPDATE evidence_imports SET status = 'running', started_at = now()
        WHERE id = $1 AND kind = $2 AND status IN ('queued', 'running')
        RETURNING summary->>'path' AS path, file_bytes`,
      [id, spec.kind],
    );
    if (!claimed) return this.get(id);
    const path = claimed.path;
    const totalBytes = Number(claimed.file_bytes);
    try {
      const sha256 = await hashFile(path);
      const earlier = await queryOne<{ id: string }>(
        this.ds,
        `SELECT id FROM evidence_imports WHERE kind = $1 AND file_sha256 = $2 AND status = 'completed'`,
        [spec.kind, sha256],
      );
      if (earlier) return this.markDuplicate(id, sha256, earlier.id);
      await this.ds.query(`UPDATE evidence_imports SET file_sha256 = $2 WHERE id = $1`, [id, sha256]);
      return await this.load(id, sha256, path, totalBytes, spec, onProgress);
    } catch (err) {
      const reason = err instanceof ImportFileError ? err.message : `The import failed: ${(err as Error).message}`;
      if (!(err instanceof ImportFileError)) this.logger.error({ importId: id, err: { message: (err as Error).message } }, 'import failed');
      await this.ds.query(
        `UPDATE evidence_imports SET status = 'failed', failure_reason = $2, finished_at = now() WHERE id = $1`,
        [id, reason.slice(0, 2000)],
      );
      await this.audit.record({ actor: { type: 'system' }, action: `evidence.${spec.kind}_import_failed`, subjectType: 'evidence_import', subjectId: id, details: { reason } });
      return this.get(id);
    }
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

  private async load<K extends string>(
    id: string,
    sha256: string,
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
    const samples: Array<{ line: number } & Rejection> = [];
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

    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL timezone = 'UTC'`);
      await spec.prepare?.(client);
      const records = readCsvRecords(input);
      const first = await records.next();
      if (first.done) throw new ImportFileError('The file is empty: a header row is required');
      const header = mapHeader(first.value.fields, spec.columns);
      if (!header.ok) throw new ImportFileError(header.message);

      const copy = client.query(copyFrom(`COPY ${spec.table} (${spec.copyColumns.join(', ')}) FROM STDIN`));
      const copyDone = new Promise<void>((resolve, reject) => {
        copy.on('finish', resolve);
        copy.on('error', reject);
      });
      let batch = '';
      let inBatch = 0;
      const reject = (rec: CsvRecord, r: Rejection) => {
        counts.rejected++;
        byReason[r.reason] = (byReason[r.reason] ?? 0) + 1;
        if (samples.length < MAX_ERROR_SAMPLES) {
          samples.push({ line: rec.line, reason: r.reason, column: r.column, value: r.value?.slice(0, 40) });
        }
      };
      for await (const rec of records) {
        counts.total++;
        const out = spec.row(rec.fields, header.index, header.width, id, rec.line);
        if (typeof out === 'string') {
          counts.accepted++;
          batch += out;
          if (++inBatch >= BATCH_ROWS) {
            if (!copy.write(batch)) await Promise.race([once(copy, 'drain'), copyDone]);
            batch = '';
            inBatch = 0;
          }
        } else {
          reject(rec, out);
        }
        if ((counts.total & 0x3fff) === 0) report();
      }
      if (batch) copy.write(batch);
      copy.end();
      await copyDone;
      report(true);
      const summary = (await spec.finish?.(client, id)) ?? {};
      await client.query(
        `UPDATE evidence_imports
            SET status = 'completed', rows_total = $2, rows_accepted = $3, rows_rejected = $4, errors = $5,
                rejected_by_reason = $6, summary = summary || $7::jsonb, bytes_processed = $8, finished_at = now()
          WHERE id = $1`,
        [id, counts.total, counts.accepted, counts.rejected, JSON.stringify(samples), JSON.stringify(byReason), JSON.stringify(summary), input.bytesRead],
      );
      await client.query(
        `INSERT INTO audit_events (actor_type, action, subject_type, subject_id, details)
         VALUES ('system', $1, 'evidence_import', $2, $3)`,
        [`evidence.${spec.kind}_import_completed`, id, JSON.stringify({ sha256, rows: counts, ...summary })],
      );
      try {
        await client.query('COMMIT');
      } catch (err) {
        // Two imports of the same content raced: the unique index lets one complete.
        if ((err as { code?: string }).code === '23505') {
          const earlier = await queryOne<{ id: string }>(this.ds, `SELECT id FROM evidence_imports WHERE kind = $1 AND file_sha256 = $2 AND status = 'completed'`, [spec.kind, sha256]);
          if (earlier) return this.markDuplicate(id, sha256, earlier.id);
        }
        throw err;
      }
      return this.get(id);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      input.destroy();
      await client.end().catch(() => undefined);
    }
  }

  async list(limit = 50): Promise<ImportView[]> {
    const rows = await queryRows<Record<string, unknown>>(this.ds, `SELECT * FROM evidence_imports ORDER BY created_at DESC LIMIT $1`, [limit]);
    return rows.map(toView);
  }
}

/** A problem with the file itself: reported to the person as it is. */
export class ImportFileError extends Error {}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function toView(r: Record<string, unknown>): ImportView {
  const fileBytes = r.file_bytes === null ? null : Number(r.file_bytes);
  const bytesProcessed = Number(r.bytes_processed);
  const { path: _path, ...summary } = (r.summary ?? {}) as Record<string, unknown>;
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
