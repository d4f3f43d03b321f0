import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { queryRows, type SqlRunner } from '../../database/sql.js';
import { ActorType } from './audit-event.entity.js';

export interface Actor {
  type: ActorType;
  id?: string | null;
  ip?: string | null;
}

export interface AuditEntry {
  actor: Actor;
  action: string;
  subjectType?: string;
  subjectId?: string | null;
  details?: Record<string, unknown>;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };

/**
 * The one way to write the audit log. Pass the transaction's EntityManager when the
 * audited change is transactional, so the record and its audit row commit together.
 * Details must never hold secrets; phone numbers and emails only where the action is
 * about them (the log is read by staff, not shipped to log aggregators).
 */
@Injectable()
export class AuditService {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async record(entry: AuditEntry, runner: SqlRunner = this.ds): Promise<void> {
    await runner.query(
      `INSERT INTO audit_events (actor_type, actor_id, action, subject_type, subject_id, details, ip)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        entry.actor.type,
        entry.actor.id ?? null,
        entry.action,
        entry.subjectType ?? null,
        entry.subjectId ?? null,
        JSON.stringify(entry.details ?? {}),
        normaliseIp(entry.actor.ip),
      ],
    );
  }

  async list(filter: { subjectType?: string; subjectId?: string; action?: string; limit?: number }) {
    const params: unknown[] = [];
    const where: string[] = [];
    if (filter.subjectType) where.push(`subject_type = $${params.push(filter.subjectType)}`);
    if (filter.subjectId) where.push(`subject_id = $${params.push(filter.subjectId)}`);
    if (filter.action) where.push(`action = $${params.push(filter.action)}`);
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    return queryRows<AuditEventView>(
      this.ds,
      `SELECT id, occurred_at AS "occurredAt", actor_type AS "actorType", actor_id AS "actorId", action,
              subject_type AS "subjectType", subject_id AS "subjectId", details
         FROM audit_events ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY id DESC LIMIT ${limit}`,
      params,
    );
  }
}

export interface AuditEventView {
  id: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  details: Record<string, unknown> | null;
}

function normaliseIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const v = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return /^[0-9a-fA-F:.]+$/.test(v) ? v : null;
}
