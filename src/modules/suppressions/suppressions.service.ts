import { isBigintId, isUuid } from '../../common/input-rules.js';
import { BadRequestException, ConflictException, ForbiddenException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { DataSource, EntityManager } from 'typeorm';
import type { StaffPrincipal } from '../../common/access.js';
import { CsvSplitter, mapHeader } from '../../common/csv-records.js';
import { canApproveRemoval, isOptOutReason, OptOutReason } from '../../common/opt-out.js';
import { maskEmail, maskPhone } from '../../common/pii.js';
import { decodeCursorAs, encodeCursor } from '../../common/paging.js';
import { queryOne, queryRows } from '../../database/sql.js';
import { AuditService } from '../audit/audit.service.js';
import { normaliseSuppressionAddress, SuppressionChannel } from './suppression-address.js';
import { CreateSuppressionDto, DecideRemovalDto, RemovalQueryDto, RequestRemovalDto, STAFF_SUPPRESSION_REASONS, SuppressionQueryDto } from './suppressions.dto.js';

interface SuppressionRow {
  id: string;
  channel: SuppressionChannel;
  address: string;
  reason: string;
  source: string;
  note: string | null;
  created_by: string | null;
  created_at: Date;
}

/** Who did it, from where: every change is audited with the staff member and their IP. */
export interface StaffActor {
  staff: StaffPrincipal;
  ip?: string | null;
}

/** Who ran an import: the staff member who uploaded it (a worker runs it later). */
interface ImportActor {
  userId: string;
  ip: string | null;
}

interface RemovalRow {
  id: string;
  suppression_id: string;
  channel: SuppressionChannel;
  suppression_reason: string;
  request_reason: string;
  requested_by: string;
  requested_at: Date;
  status: 'pending' | 'approved' | 'rejected';
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  address?: string | null;
}

export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed';

export interface SuppressionImportView extends SuppressionImportResult {
  id: string;
  status: ImportStatus;
  fileName: string | null;
  failureReason: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export const SUPPRESSION_IMPORT_JOB_OPTIONS = (importId: string) => ({
  jobId: `suppression-import-${importId}`,
  attempts: 3,
  backoff: { type: 'exponential' as const, delay: 5000 },
});

export interface SuppressionImportResult {
  rowsTotal: number;
  inserted: number;
  alreadySuppressed: number;
  rejected: number;
  errors: Array<{ line: number; reason: string }>;
}

const IMPORT_COLUMNS = ['channel', 'address', 'reason'] as const;
type ImportColumn = (typeof IMPORT_COLUMNS)[number];
const IMPORT_BATCH = 5000;
const MAX_REPORTED_ERRORS = 100;
const MAX_NOTE = 500;
const MAX_HEADER_BYTES = 64 * 1024;

/**
 * The do-not-contact list the compliance gate consults. Addresses are stored normalised
 * (E.164, lower-cased email), so any written form finds the same row; (channel, address)
 * is unique. Addresses never go to the application log.
 */
@Injectable()
export class SuppressionsService {
  private readonly logger = new Logger(SuppressionsService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** Adds an address; one already on the list is answered as it is, with created: false. */
  async create(dto: CreateSuppressionDto, actor: StaffActor) {
    const n = normaliseSuppressionAddress(dto.channel, dto.address);
    if (!n.ok) throw new BadRequestException(n.reason);
    const note = cleanNote(dto.note);
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.ds.transaction(async (m) => {
        const row = await queryOne<SuppressionRow>(
          m,
          `INSERT INTO suppressions (channel, address, reason, source, note, created_by)
           VALUES ($1, $2, $3, 'staff', $4, $5)
           ON CONFLICT (channel, address) DO NOTHING
           RETURNING *`,
          [dto.channel, n.address, dto.reason, note, actor.staff.userId],
        );
        if (row) {
          await this.audit.record(
            {
              actor: staffActor(actor),
              action: 'suppression.created',
              subjectType: 'suppression',
              subjectId: row.id,
              details: { channel: row.channel, reason: row.reason, source: row.source },
            },
            m,
          );
        }
        return row;
      });
      if (inserted) return { ...view(inserted, true), created: true };
      const existing = await queryOne<SuppressionRow>(this.ds, `SELECT * FROM suppressions WHERE channel = $1 AND address = $2`, [
        dto.channel,
        n.address,
      ]);
      if (existing) return { ...view(existing, true), created: false };
      // Deleted between our insert and our read: try again.
    }
    throw new Error('suppression create did not settle');
  }

  async list(q: SuppressionQueryDto, staff: StaffPrincipal) {
    const limit = q.limit ?? 50;
    const params: unknown[] = [];
    const where: string[] = [];
    if (q.channel) where.push(`channel = $${params.push(q.channel)}`);
    if (q.reason) where.push(`reason = $${params.push(q.reason)}`);
    if (q.address !== undefined) {
      const channels: SuppressionChannel[] = q.channel ? [q.channel] : ['sms', 'email'];
      const tried = channels.map((c) => normaliseSuppressionAddress(c, q.address!));
      const found = tried.flatMap((r) => (r.ok ? [r.address] : []));
      if (found.length === 0) {
        const why = tried.length === 1 && !tried[0].ok ? tried[0].reason : 'address is neither a phone number nor a valid email address';
        throw new BadRequestException(why);
      }
      where.push(`address = ANY ($${params.push(found)}::text[])`);
    }
    if (q.cursor) where.push(`id < $${params.push(suppressionCursor(q.cursor))}::bigint`);
    const rows = await queryRows<SuppressionRow>(
      this.ds,
      `SELECT * FROM suppressions ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY id DESC LIMIT ${limit + 1}`,
      params,
    );
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor([String(page[page.length - 1].id)]) : null;
    const whole = staff.role !== 'analyst';
    return { items: page.map((r) => view(r, whole)), nextCursor };
  }

  /**
   * Deletes a suppression that is not an opt-out. An opt-out (the person's own wish) is
   * refused with 409 and how to ask for its removal: that takes two people, and the
   * database refuses the delete too.
   */
  async remove(id: string, actor: StaffActor): Promise<void> {
    if (!isBigintId(id)) throw new NotFoundException('No suppression with that id');
    await this.ds.transaction(async (m) => {
      const found = await queryOne<SuppressionRow>(m, `SELECT * FROM suppressions WHERE id = $1::bigint FOR UPDATE`, [id]);
      if (!found) throw new NotFoundException('No suppression with that id');
      if (isOptOutReason(found.reason)) throw optOutNeedsTwoPeople(found);
      const row = (await queryOne<SuppressionRow>(m, `DELETE FROM suppressions WHERE id = $1::bigint RETURNING *`, [id]))!;
      await this.audit.record(
        {
          actor: staffActor(actor),
          action: 'suppression.deleted',
          subjectType: 'suppression',
          subjectId: row.id,
          details: { channel: row.channel, reason: row.reason },
        },
        m,
      );
    });
  }

  /**
   * The person's own opt-out (unsubscribe link, SMS STOP), inside the caller's
   * transaction: inserts the suppression, or turns an existing one of another kind (a
   * bounce, a complaint) into this opt-out so that it can no longer be deleted by one
   * person. An existing opt-out is left as it is: asking twice changes nothing.
   */
  async recordOptOut(
    m: EntityManager,
    o: { channel: SuppressionChannel; address: string; reason: OptOutReason; source: string },
  ): Promise<{ id: string; outcome: 'created' | 'upgraded' | 'already' }> {
    const n = normaliseSuppressionAddress(o.channel, o.address);
    const address = n.ok ? n.address : o.address.trim().toLowerCase();
    for (let attempt = 0; attempt < 3; attempt++) {
      const row = await queryOne<{ id: string; inserted: boolean }>(
        m,
        `INSERT INTO suppressions (channel, address, reason, source) VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel, address) DO UPDATE
            SET reason = EXCLUDED.reason, source = EXCLUDED.source,
                note = left(concat_ws('; ', suppressions.note, 'was ' || suppressions.reason), 500)
          WHERE NOT suppression_is_opt_out(suppressions.reason)
         RETURNING id, (xmax = 0) AS inserted`,
        [o.channel, address, o.reason, o.source],
      );
      if (row) return { id: String(row.id), outcome: row.inserted ? 'created' : 'upgraded' };
      const existing = await queryOne<{ id: string }>(m, `SELECT id FROM suppressions WHERE channel = $1 AND address = $2`, [o.channel, address]);
      if (existing) return { id: String(existing.id), outcome: 'already' };
      // Removed (two people) between our insert and our read: try again.
    }
    throw new Error('opt-out did not settle');
  }

  // ---- two-person removal of opt-outs ---------------------------------------------------

  /** First person: an admin asks, with a reason, for an opt-out to be removed. */
  async requestRemoval(id: string, dto: RequestRemovalDto, actor: StaffActor) {
    if (!isBigintId(id)) throw new NotFoundException('No suppression with that id');
    const reason = cleanNote(dto.reason);
    if (!reason) throw new BadRequestException('reason must say why the opt-out should be removed');
    return this.ds.transaction(async (m) => {
      const s = await queryOne<SuppressionRow>(m, `SELECT * FROM suppressions WHERE id = $1::bigint FOR UPDATE`, [id]);
      if (!s) throw new NotFoundException('No suppression with that id');
      if (!isOptOutReason(s.reason)) {
        throw new ConflictException(`This suppression is not an opt-out (reason ${s.reason}): an admin deletes it with DELETE /api/suppressions/${id}`);
      }
      const r = await queryOne<RemovalRow>(
        m,
        `INSERT INTO suppression_removals (suppression_id, channel, suppression_reason, request_reason, requested_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (suppression_id) WHERE status = 'pending' DO NOTHING
         RETURNING *`,
        [id, s.channel, s.reason, reason, actor.staff.userId],
      );
      if (!r) {
        const pending = await queryOne<{ id: string }>(m, `SELECT id FROM suppression_removals WHERE suppression_id = $1 AND status = 'pending'`, [id]);
        throw new ConflictException(`A removal of this opt-out is already waiting for approval (removal request ${pending?.id})`);
      }
      await this.audit.record(
        {
          actor: staffActor(actor),
          action: 'suppression.removal_requested',
          subjectType: 'suppression',
          subjectId: String(s.id),
          details: { removalId: String(r.id), channel: s.channel, reason: s.reason, requestReason: reason },
        },
        m,
      );
      return removalView({ ...r, address: s.address });
    });
  }

  async listRemovals(q: RemovalQueryDto) {
    const rows = await queryRows<RemovalRow>(
      this.ds,
      `SELECT r.*, s.address FROM suppression_removals r LEFT JOIN suppressions s ON s.id = r.suppression_id
        ${q.status ? 'WHERE r.status = $1' : ''} ORDER BY r.id DESC LIMIT 500`,
      q.status ? [q.status] : [],
    );
    return { items: rows.map(removalView) };
  }

  /**
   * Second person: another admin or a supervisor approves (the opt-out is deleted in the
   * same transaction) or rejects. The requester may reject (withdraw) but never approve.
   */
  async decideRemoval(removalId: string, decision: 'approve' | 'reject', dto: DecideRemovalDto, actor: StaffActor) {
    if (!isBigintId(removalId)) throw new NotFoundException('No removal request with that id');
    const note = cleanNote(dto.note);
    return this.ds.transaction(async (m) => {
      const r = await queryOne<RemovalRow>(m, `SELECT * FROM suppression_removals WHERE id = $1::bigint FOR UPDATE`, [removalId]);
      if (!r) throw new NotFoundException('No removal request with that id');
      if (decision === 'approve') {
        const d = canApproveRemoval({ status: r.status, requestedBy: r.requested_by }, actor.staff);
        if (!d.ok) throw d.status === 403 ? new ForbiddenException(d.message) : new ConflictException(d.message);
      } else if (r.status !== 'pending') {
        throw new ConflictException(`This removal is already ${r.status}`);
      }
      const status = decision === 'approve' ? 'approved' : 'rejected';
      const updated = (await queryOne<RemovalRow>(
        m,
        `UPDATE suppression_removals SET status = $2, decided_by = $3, decided_at = now(), decision_note = $4
          WHERE id = $1::bigint RETURNING *`,
        [removalId, status, actor.staff.userId, note],
      ))!;
      let address: string | null = null;
      if (decision === 'approve') {
        const gone = await queryOne<SuppressionRow>(m, `DELETE FROM suppressions WHERE id = $1::bigint RETURNING *`, [r.suppression_id]);
        address = gone?.address ?? null;
      }
      await this.audit.record(
        {
          actor: staffActor(actor),
          action: decision === 'approve' ? 'suppression.removal_approved' : 'suppression.removal_rejected',
          subjectType: 'suppression',
          subjectId: String(r.suppression_id),
          details: { removalId: String(r.id), requestedBy: r.requested_by, channel: r.channel, reason: r.suppression_reason, ...(note ? { note } : {}) },
        },
        m,
      );
      if (decision === 'approve') {
        await this.audit.record(
          {
            actor: staffActor(actor),
            action: 'suppression.deleted',
            subjectType: 'suppression',
            subjectId: String(r.suppression_id),
            details: { channel: r.channel, reason: r.suppression_reason, removalId: String(r.id), requestedBy: r.requested_by },
          },
          m,
        );
      }
      return removalView({ ...updated, address });
    });
  }

  // ---- CSV import, on the queue ----------------------------------------------------------

  /**
   * Takes an upload of channel,address,reason[,note] (any order, extra columns ignored)
   * and queues it: 202 {id}. The header is checked here, so a wrong file is a 400 at
   * once and never queued; the rows are read by a worker.
   */
  async acceptImport(file: Express.Multer.File | undefined, actor: StaffActor, enqueue: (id: string) => Promise<unknown>) {
    if (!file) throw new BadRequestException('Send the suppressions CSV as a multipart field named "file"');
    try {
      const header = await readFirstRecord(file.path);
      if (header === null) throw new BadRequestException('The file is empty: a header row (channel,address,reason) is required');
      const h = mapHeader(header, IMPORT_COLUMNS);
      if (!h.ok) throw new BadRequestException(h.message);
    } catch (err) {
      await unlink(file.path).catch(() => undefined);
      throw err;
    }
    const row = (await queryOne<{ id: string }>(
      this.ds,
      `INSERT INTO suppression_imports (file_path, file_name, requested_by, requested_ip) VALUES ($1, $2, $3, $4) RETURNING id`,
      [file.path, cleanNote(file.originalname)?.slice(0, 255) ?? null, actor.staff.userId, normaliseIp(actor.ip)],
    ))!;
    try {
      await enqueue(row.id);
    } catch (err) {
      // Not queued, so never run: say so on the row and drop the file, rather than leave
      // an import that looks queued forever.
      await this.ds.query(
        `UPDATE suppression_imports SET status = 'failed', failure_reason = 'The job queue was unavailable; upload the file again', finished_at = now() WHERE id = $1`,
        [row.id],
      );
      await unlink(file.path).catch(() => undefined);
      throw err;
    }
    return { id: row.id, status: 'queued' as const };
  }

  async getImport(id: string): Promise<SuppressionImportView> {
    if (!isUuid(id)) throw new NotFoundException('No suppression import with that id');
    const r = await queryOne<Record<string, unknown>>(this.ds, `SELECT * FROM suppression_imports WHERE id = $1`, [id]);
    if (!r) throw new NotFoundException('No suppression import with that id');
    return importView(r);
  }

  /**
   * The worker's half: claims the import, loads every row and marks it completed in one
   * transaction (with its audit row), so a crash keeps nothing and the retry starts
   * over. The file is deleted once the import has an outcome.
   */
  async runImport(id: string, finalAttempt: boolean): Promise<SuppressionImportView> {
    const claimed = await queryOne<{ file_path: string; requested_by: string; ip: string | null }>(
      this.ds,
      `UPDATE suppression_imports SET status = 'running', started_at = coalesce(started_at, now())
        WHERE id = $1 AND status IN ('queued', 'running')
        RETURNING file_path, requested_by, host(requested_ip) AS ip`,
      [id],
    );
    if (!claimed) return this.getImport(id);
    const actor: ImportActor = { userId: claimed.requested_by, ip: claimed.ip };
    try {
      await this.ds.transaction(async (m) => {
        const result = await this.importInTransaction(m, claimed.file_path, actor);
        await m.query(
          `UPDATE suppression_imports
              SET status = 'completed', rows_total = $2, inserted = $3, already_suppressed = $4, rejected = $5, errors = $6, finished_at = now()
            WHERE id = $1`,
          [id, result.rowsTotal, result.inserted, result.alreadySuppressed, result.rejected, JSON.stringify(result.errors)],
        );
      });
    } catch (err) {
      const fileProblem = err instanceof BadRequestException || (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!fileProblem && !finalAttempt) throw err;
      if (!fileProblem) this.logger.error({ importId: id, err: { message: (err as Error).message } }, 'suppression import failed');
      // A database error's text can quote row content: the person gets a message without it.
      const reason = fileProblem
        ? err instanceof BadRequestException
          ? err.message
          : 'The uploaded file is no longer there; upload it again'
        : 'The import failed on our side and nothing was kept; it has been logged. Try again, or ask an admin.';
      await this.ds.query(`UPDATE suppression_imports SET status = 'failed', failure_reason = $2, finished_at = now() WHERE id = $1`, [id, reason]);
    }
    await unlink(claimed.file_path).catch(() => undefined);
    return this.getImport(id);
  }

  private async importInTransaction(m: EntityManager, filePath: string, actor: ImportActor): Promise<SuppressionImportResult> {
    const result: SuppressionImportResult = { rowsTotal: 0, inserted: 0, alreadySuppressed: 0, rejected: 0, errors: [] };
    const state = {
      header: null as { index: Record<ImportColumn, number>; width: number; note: number } | null,
      headerProblem: null as string | null,
      batch: emptyBatch(),
    };

    const onRecord = (fields: string[], line: number) => {
      if (state.headerProblem !== null) return;
      if (state.header === null) {
        const h = mapHeader(fields, IMPORT_COLUMNS);
        if (h.ok) state.header = { index: h.index, width: h.width, note: fields.map((f) => f.trim().toLowerCase()).indexOf('note') };
        else state.headerProblem = h.message;
        return;
      }
      result.rowsTotal++;
      const row = readRow(fields, state.header.index, state.header.width, state.header.note);
      if ('rejected' in row) {
        result.rejected++;
        if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push({ line, reason: row.rejected });
        return;
      }
      const b = state.batch;
      b.channel.push(row.channel);
      b.address.push(row.address);
      b.reason.push(row.reason);
      b.note.push(row.note);
    };
    const flush = async () => {
      const b = state.batch;
      if (b.channel.length === 0) return;
      state.batch = emptyBatch();
      // Set-based: one statement per batch; a duplicate within the file or of an existing
      // row is skipped (the first occurrence in the file wins) and counted as already suppressed.
      const added = await queryOne<{ n: number }>(
        m,
        `WITH added AS (
           INSERT INTO suppressions (channel, address, reason, note, source, created_by)
           SELECT u.channel, u.address, u.reason, u.note, 'import', $5::uuid
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(channel, address, reason, note, ord)
            ORDER BY u.ord
           ON CONFLICT (channel, address) DO NOTHING
           RETURNING 1)
         SELECT count(*)::int AS n FROM added`,
        [b.channel, b.address, b.reason, b.note, actor.userId],
      );
      const n = added?.n ?? 0;
      result.inserted += n;
      result.alreadySuppressed += b.channel.length - n;
    };

    const splitter = new CsvSplitter(onRecord);
    for await (const chunk of createReadStream(filePath, { highWaterMark: 1 << 16 })) {
      splitter.pushBytes(chunk as Buffer);
      if (state.headerProblem !== null) break;
      if (state.batch.channel.length >= IMPORT_BATCH) await flush();
    }
    if (state.headerProblem === null) splitter.end();
    if (state.headerProblem !== null) throw new BadRequestException(state.headerProblem);
    if (state.header === null) throw new BadRequestException('The file is empty: a header row (channel,address,reason) is required');
    await flush();

    await this.audit.record(
      {
        actor: { type: 'staff', id: actor.userId, ip: actor.ip },
        action: 'suppressions.imported',
        subjectType: 'suppression',
        details: { inserted: result.inserted, alreadySuppressed: result.alreadySuppressed, rejected: result.rejected },
      },
      m,
    );
    return result;
  }
}

interface ImportRow {
  channel: SuppressionChannel;
  address: string;
  reason: string;
  note: string | null;
}

function emptyBatch() {
  return { channel: [] as string[], address: [] as string[], reason: [] as string[], note: [] as (string | null)[] };
}

/** One data row of an import: the row to insert, or why it was rejected. */
function readRow(fields: string[], index: Record<ImportColumn, number>, width: number, noteAt: number): ImportRow | { rejected: string } {
  if (fields.length !== width) return { rejected: `the row has ${fields.length} fields but the header has ${width}` };
  const channel = fields[index.channel].trim().toLowerCase();
  if (channel !== 'sms' && channel !== 'email') return { rejected: 'channel must be sms or email' };
  const reason = fields[index.reason].trim().toLowerCase();
  if (!(STAFF_SUPPRESSION_REASONS as readonly string[]).includes(reason)) {
    return { rejected: `reason must be one of ${STAFF_SUPPRESSION_REASONS.join(', ')}` };
  }
  const address = normaliseSuppressionAddress(channel, fields[index.address]);
  if (!address.ok) return { rejected: address.reason };
  const note = noteAt >= 0 ? cleanNote(fields[noteAt]) : null;
  if (note !== null && note.length > MAX_NOTE) return { rejected: `note must be at most ${MAX_NOTE} characters` };
  return { channel, address: address.address, reason, note };
}

/** Trimmed, empty as null; NUL (which Postgres text cannot hold) as U+FFFD. */
function cleanNote(raw: string | undefined): string | null {
  const note = raw?.trim().replace(/\0/g, '\ufffd');
  return note ? note : null;
}

function staffActor(a: StaffActor) {
  return { type: 'staff' as const, id: a.staff.userId, ip: a.ip ?? null };
}

function view(r: SuppressionRow, whole: boolean) {
  return {
    id: String(r.id),
    channel: r.channel,
    address: whole ? r.address : r.channel === 'sms' ? maskPhone(r.address) : maskEmail(r.address),
    reason: r.reason,
    source: r.source,
    note: r.note,
    createdBy: r.created_by,
    createdAt: r.created_at,
    masked: !whole,
  };
}

/** A suppressions cursor: the id of the last suppression on the page. */
function suppressionCursor(cursor: string): string {
  const [id] = decodeCursorAs(cursor, ['id8']);
  return id;
}


function optOutNeedsTwoPeople(s: SuppressionRow): ConflictException {
  return new ConflictException(
    `This suppression is an opt-out (reason ${s.reason}): removing it takes two people. ` +
      `An admin asks with POST /api/suppressions/${s.id}/removal-requests {"reason": "why"}; ` +
      `a second admin or a supervisor then approves it with POST /api/suppressions/removal-requests/<request id>/approve`,
  );
}

function removalView(r: RemovalRow) {
  return {
    id: String(r.id),
    suppressionId: String(r.suppression_id),
    channel: r.channel,
    address: r.address ?? null,
    suppressionReason: r.suppression_reason,
    requestReason: r.request_reason,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at,
    status: r.status,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    decisionNote: r.decision_note,
  };
}

function importView(r: Record<string, unknown>): SuppressionImportView {
  return {
    id: r.id as string,
    status: r.status as ImportStatus,
    fileName: (r.file_name as string | null) ?? null,
    rowsTotal: r.rows_total as number,
    inserted: r.inserted as number,
    alreadySuppressed: r.already_suppressed as number,
    rejected: r.rejected as number,
    errors: r.errors as SuppressionImportResult['errors'],
    failureReason: (r.failure_reason as string | null) ?? null,
    createdAt: r.created_at as Date,
    startedAt: (r.started_at as Date | null) ?? null,
    finishedAt: (r.finished_at as Date | null) ?? null,
  };
}

/** The first CSV record of a file (its header), read without reading the rest; null for an empty file. */
async function readFirstRecord(filePath: string): Promise<string[] | null> {
  let first: string[] | null = null;
  const splitter = new CsvSplitter((fields) => {
    first ??= fields;
  });
  const stream = createReadStream(filePath, { highWaterMark: 1 << 16 });
  let bytes = 0;
  try {
    for await (const chunk of stream) {
      splitter.pushBytes(chunk as Buffer);
      if (first !== null) return first;
      // A file with no line break would otherwise be read whole, into memory, in the request.
      if ((bytes += (chunk as Buffer).length) > MAX_HEADER_BYTES) {
        throw new BadRequestException('The first line is longer than 64 KiB: send a CSV with a header row (channel,address,reason)');
      }
    }
  } finally {
    stream.destroy();
  }
  splitter.end();
  return first;
}

function normaliseIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const v = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^[0-9a-fA-F:.]+$/.test(v) ? v : null;
}
