import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../../common/access.js';
import { maskEmail, maskPhone } from '../../common/pii.js';
import { queryOne, queryRows } from '../../database/sql.js';
import { decodeCursorAs, encodeCursor } from '../../common/paging.js';
import { AuditService } from '../audit/audit.service.js';
import { victimFilterSql } from './victim-filters.js';
import { VictimQueryDto } from './victims.dto.js';
import { isUuid } from '../../common/input-rules.js';

interface VictimRow {
  id: string;
  phone_e164: string;
  phone_type: string;
  reference_code: string;
  status: string;
  email: string | null;
  full_name: string | null;
  call_count: number;
  total_call_seconds: string;
  longest_call_seconds: number;
  first_call_at: Date | null;
  last_call_at: Date | null;
  institutions: string[];
  account_count: number;
  priority_score: number;
  channels: string[];
  opted_out_channels: string[];
  notified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/**
 * Victim queries. Analysts see masked numbers, emails and names; operators and above
 * see them whole, and every such read is audited.
 */
@Injectable()
export class VictimsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
  ) {}

  async list(q: VictimQueryDto, staff: StaffPrincipal) {
    const limit = q.limit ?? 50;
    const params: unknown[] = [];
    const where = victimFilterSql(q, params);
    if (q.cursor) {
      const c = victimCursor(q.cursor);
      where.push(`(priority_score, id) < ($${params.push(c.score)}, $${params.push(c.id)}::uuid)`);
    }
    const rows = await queryRows<VictimRow>(
      this.ds,
      `SELECT * FROM victims ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY priority_score DESC, id DESC LIMIT ${limit + 1}`,
      params,
    );
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor([page[page.length - 1].priority_score, page[page.length - 1].id]) : null;
    const whole = staff.role !== 'analyst';
    if (whole && page.length > 0) {
      await this.audit.record({
        actor: { type: 'staff', id: staff.userId },
        action: 'victims.listed',
        subjectType: 'victim',
        details: { count: page.length, filters: { ...q, cursor: undefined }, ids: page.map((v) => v.id) },
      });
    }
    return { items: page.map((v) => view(v, whole)), nextCursor };
  }

  async get(id: string, staff: StaffPrincipal) {
    if (!isUuid(id)) throw new NotFoundException('No victim with that id');
    const v = await queryOne<VictimRow>(this.ds, `SELECT * FROM victims WHERE id = $1`, [id]);
    if (!v) throw new NotFoundException('No victim with that id');
    const whole = staff.role !== 'analyst';
    if (whole) {
      await this.audit.record({ actor: { type: 'staff', id: staff.userId }, action: 'victim.viewed', subjectType: 'victim', subjectId: id });
    }
    return view(v, whole);
  }
}

function view(v: VictimRow, whole: boolean) {
  return {
    id: v.id,
    phone: whole ? v.phone_e164 : maskPhone(v.phone_e164),
    phoneType: v.phone_type,
    email: v.email === null ? null : whole ? v.email : maskEmail(v.email),
    fullName: v.full_name === null ? null : whole ? v.full_name : initials(v.full_name),
    referenceCode: whole ? v.reference_code : v.reference_code.slice(0, 2) + '**********',
    status: v.status,
    callCount: v.call_count,
    totalCallSeconds: Number(v.total_call_seconds),
    longestCallSeconds: v.longest_call_seconds,
    firstCallAt: v.first_call_at,
    lastCallAt: v.last_call_at,
    institutions: v.institutions,
    accountCount: v.account_count,
    priorityScore: v.priority_score,
    channels: v.channels,
    /** Channels the victim opted out of (unsubscribe, STOP, provider opt-out): never contact them there. */
    optedOutChannels: v.opted_out_channels,
    notifiedAt: v.notified_at,
    masked: !whole,
  };
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((p) => p[0] + '.')
    .join(' ');
}

/** A victims cursor: [priority_score, id] of the last victim on the page. */
function victimCursor(cursor: string): { score: number; id: string } {
  const [score, id] = decodeCursorAs(cursor, ['int4', 'uuid']);
  return { score, id };
}
