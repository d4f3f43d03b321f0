import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { DataSource, EntityManager } from 'typeorm';
import type { StaffPrincipal } from '../../common/access.js';
import { CsvSplitter, mapHeader } from '../../common/csv-records.js';
import { maskEmail, maskPhone } from '../../common/pii.js';
import { decodeCursorAs, encodeCursor } from '../../common/paging.js';
import { queryOne, queryRows } from '../../database/sql.js';
import { AuditService } from '../audit/audit.service.js';
import { normaliseSuppressionAddress, SuppressionChannel } from './suppression-address.js';
import { CreateSuppressionDto, STAFF_SUPPRESSION_REASONS, SuppressionQueryDto } from './suppressions.dto.js';

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

/**
 * The do-not-contact list the compliance gate consults. Addresses are stored normalised
 * (E.164, lower-cased email), so any written form finds the same row; (channel, address)
 * is unique. Addresses never go to the application log.
 */
@Injectable()
export class SuppressionsService {
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
        const why = tried.length === 1 && !tried[0]!.ok ? tried[0]!.reason : 'address is neither a phone number nor a valid email address';
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
    const nextCursor = rows.length > limit ? encodeCursor([String(page[page.length - 1]!.id)]) : null;
    const whole = staff.role !== 'analyst';
    return { items: page.map((r) => view(r, whole)), nextCursor };
  }

  async remove(id: string, actor: StaffActor): Promise<void> {
    if (!/^[1-9]\d{0,17}$/.test(id)) throw new NotFoundException('No suppression with that id');
    await this.ds.transaction(async (m) => {
      const row = await queryOne<SuppressionRow>(m, `DELETE FROM suppressions WHERE id = $1::bigint RETURNING *`, [id]);
      if (!row) throw new NotFoundException('No suppression with that id');
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
   * Imports a CSV (channel,address,reason[,note], any order, extra columns ignored) saved
   * at filePath, in one transaction with its audit row, and deletes the file whatever
   * happens. A wrong header keeps nothing (400); a bad row is reported with its line.
   */
  async importCsv(filePath: string, actor: StaffActor): Promise<SuppressionImportResult> {
    try {
      return await this.ds.transaction((m) => this.importInTransaction(m, filePath, actor));
    } finally {
      await unlink(filePath).catch(() => undefined);
    }
  }

  private async importInTransaction(m: EntityManager, filePath: string, actor: StaffActor): Promise<SuppressionImportResult> {
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
        [b.channel, b.address, b.reason, b.note, actor.staff.userId],
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
        actor: staffActor(actor),
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
  const channel = fields[index.channel]!.trim().toLowerCase();
  if (channel !== 'sms' && channel !== 'email') return { rejected: 'channel must be sms or email' };
  const reason = fields[index.reason]!.trim().toLowerCase();
  if (!(STAFF_SUPPRESSION_REASONS as readonly string[]).includes(reason)) {
    return { rejected: `reason must be one of ${STAFF_SUPPRESSION_REASONS.join(', ')}` };
  }
  const address = normaliseSuppressionAddress(channel, fields[index.address]!);
  if (!address.ok) return { rejected: address.reason };
  const note = noteAt >= 0 ? cleanNote(fields[noteAt]!) : null;
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
