import { BadRequestException, ConflictException, ForbiddenException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { StaffPrincipal } from '../../common/access.js';
import { validateSendWindow, type SendWindow } from '../../common/compliance-gate.js';
import { queryOne, queryRows } from '../../database/sql.js';
import { decodeCursorAs, encodeCursor } from '../../common/paging.js';
import { AuditService } from '../audit/audit.service.js';
import { MessagesRepository } from '../delivery/messages.repository.js';
import { audienceProblems } from './campaign-audience.js';
import { CampaignContent, type TemplateTexts } from './campaign-content.js';
import { actionsFrom, CampaignAction, CampaignStatus, decideMove } from './campaign-state.js';
import type { AudienceDto, Channel, ChannelStrategy, CreateCampaignDto, UpdateCampaignDto, CampaignListQueryDto } from './campaigns.dto.js';
import { isUuid } from '../../common/input-rules.js';

export const DEFAULT_SEND_WINDOW: SendWindow = {
  start: '09:00',
  end: '20:00',
  timezone: 'Europe/London',
  days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
};

export interface CampaignRow {
  id: string;
  name: string;
  status: CampaignStatus;
  channels: Channel[];
  channel_strategy: ChannelStrategy;
  audience: AudienceDto;
  sms_body: string | null;
  email_subject: string | null;
  email_body: string | null;
  email_html: string | null;
  send_window: SendWindow;
  start_at: Date | null;
  created_by: string;
  updated_by: string | null;
  submitted_by: string | null;
  submitted_at: Date | null;
  approved_by: string | null;
  approved_at: Date | null;
  launched_by: string | null;
  launched_at: Date | null;
  paused_at: Date | null;
  completed_at: Date | null;
  cancelled_at: Date | null;
  audience_size: number | null;
  launch_summary: Record<string, unknown> | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** The columns each move sets besides the status. */
const MOVE_COLUMNS: Record<Exclude<CampaignAction, 'edit' | 'launch'>, { set: string; actorColumn?: string }> = {
  submit: { set: 'submitted_at = now()', actorColumn: 'submitted_by' },
  approve: { set: 'approved_at = now()', actorColumn: 'approved_by' },
  pause: { set: 'paused_at = now()' },
  resume: { set: 'paused_at = NULL' },
  cancel: { set: 'cancelled_at = now()' },
};

/**
 * Campaigns: drafting (content rules checked on every save), the two-person approval
 * and the moves of the state machine. Every change is audited with its actor, in the
 * transaction that makes it; an illegal move answers 409 and changes nothing.
 */
@Injectable()
export class CampaignsService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly content: CampaignContent,
    private readonly messages: MessagesRepository,
  ) {}

  async create(dto: CreateCampaignDto, staff: StaffPrincipal, ip: string | null) {
    const fields = await this.validated(dto);
    return this.ds.transaction(async (m) => {
      const row = await queryOne<CampaignRow>(
        m,
        `INSERT INTO campaigns (name, channels, channel_strategy, audience, sms_body, email_subject, email_body, email_html,
                                send_window, start_at, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING *`,
        [...fieldParams(fields), staff.userId],
      );
      await this.audit.record(
        { actor: actorOf(staff, ip), action: 'campaign.created', subjectType: 'campaign', subjectId: row!.id, details: { name: fields.name, channels: fields.channels } },
        m,
      );
      return view(row!);
    });
  }

  /** PATCH: allowed until launch; a submitted or approved campaign goes back to draft. */
  async update(id: string, dto: UpdateCampaignDto, staff: StaffPrincipal, ip: string | null) {
    return this.ds.transaction(async (m) => {
      const current = await this.lock(m, id);
      this.check('edit', current, staff);
      const merged: CreateCampaignDto = {
        name: dto.name ?? current.name,
        channels: dto.channels ?? current.channels,
        channelStrategy: dto.channelStrategy ?? current.channel_strategy,
        audience: dto.audience ?? current.audience,
        sms: dto.sms ?? (current.sms_body !== null ? { body: current.sms_body } : undefined),
        email: dto.email ?? (current.email_body !== null ? { subject: current.email_subject ?? '', body: current.email_body, html: current.email_html ?? undefined } : undefined),
        sendWindow: dto.sendWindow ?? { ...current.send_window, days: [...current.send_window.days] },
        startAt: dto.startAt ?? current.start_at?.toISOString(),
      };
      // Templates for a channel the campaign no longer uses are dropped, not kept hidden.
      if (!merged.channels.includes('sms')) merged.sms = undefined;
      if (!merged.channels.includes('email')) merged.email = undefined;
      const fields = await this.validated(merged, dto.startAt !== undefined);
      const row = await queryOne<CampaignRow>(
        m,
        `UPDATE campaigns SET name = $1, channels = $2, channel_strategy = $3, audience = $4, sms_body = $5, email_subject = $6,
                email_body = $7, email_html = $8, send_window = $9, start_at = $10, updated_by = $11,
                status = 'draft', submitted_by = NULL, submitted_at = NULL, approved_by = NULL, approved_at = NULL,
                version = version + 1, updated_at = now()
          WHERE id = $12 RETURNING *`,
        [...fieldParams(fields), staff.userId, id],
      );
      await this.audit.record(
        {
          actor: actorOf(staff, ip), action: 'campaign.updated', subjectType: 'campaign', subjectId: id,
          details: { fields: Object.keys(dto), previousStatus: current.status, status: 'draft' },
        },
        m,
      );
      return view(row!);
    });
  }

  /** submit, approve, pause, resume, cancel. */
  async move(id: string, action: Exclude<CampaignAction, 'edit' | 'launch'>, staff: StaffPrincipal, ip: string | null) {
    return this.ds.transaction(async (m) => {
      const current = await this.lock(m, id);
      const to = this.check(action, current, staff);
      if (action === 'submit' || action === 'approve') await this.assertContentOk(current);
      const columns = MOVE_COLUMNS[action];
      const row = await queryOne<CampaignRow>(
        m,
        `UPDATE campaigns SET status = $2, ${columns.set}${columns.actorColumn ? `, ${columns.actorColumn} = $3` : ''},
                version = version + 1, updated_at = now()
          WHERE id = $1 RETURNING *`,
        columns.actorColumn ? [id, to, staff.userId] : [id, to],
      );
      let cancelledMessages = 0;
      if (action === 'cancel') cancelledMessages = await this.messages.cancelCampaign(m, id);
      await this.audit.record(
        {
          actor: actorOf(staff, ip), action: `campaign.${pastTense(action)}`, subjectType: 'campaign', subjectId: id,
          details: { from: current.status, to, ...(action === 'cancel' ? { cancelledMessages } : {}) },
        },
        m,
      );
      return view(row!);
    });
  }

  async get(id: string) {
    return view(await this.row(id));
  }

  async row(id: string): Promise<CampaignRow> {
    return this.find(this.ds, id);
  }

  async list(q: CampaignListQueryDto) {
    const limit = q.limit ?? 50;
    const params: unknown[] = [];
    const where: string[] = [];
    if (q.status) where.push(`status = $${params.push(q.status)}`);
    if (q.cursor) {
      const [at, cid] = campaignCursor(q.cursor);
      where.push(`(created_at, id) < ($${params.push(at)}::timestamptz, $${params.push(cid)}::uuid)`);
    }
    const rows = await queryRows<CampaignRow>(
      this.ds,
      `SELECT * FROM campaigns ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC, id DESC LIMIT ${limit + 1}`,
      params,
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(view),
      nextCursor: rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    };
  }

  /** The campaign, locked for the rest of the transaction; 404 when there is none. */
  async lock(m: EntityManager, id: string): Promise<CampaignRow> {
    return this.find(m, id, 'FOR UPDATE');
  }

  /** The move's target status, or the 403/409 that refuses it. */
  check(action: CampaignAction, c: CampaignRow, staff: StaffPrincipal): CampaignStatus {
    const d = decideMove(
      action,
      { status: c.status, createdBy: c.created_by, updatedBy: c.updated_by, submittedBy: c.submitted_by, startAt: c.start_at },
      { userId: staff.userId, role: staff.role },
      new Date(),
    );
    if (d.ok) return d.to;
    throw d.status === 403 ? new ForbiddenException(d.message) : new ConflictException(d.message);
  }

  private async find(runner: DataSource | EntityManager, id: string, lock = ''): Promise<CampaignRow> {
    if (!isUuid(id)) throw new NotFoundException('No campaign with that id');
    const row = await queryOne<CampaignRow>(runner, `SELECT * FROM campaigns WHERE id = $1 ${lock}`, [id]);
    if (!row) throw new NotFoundException('No campaign with that id');
    return row;
  }

  /** Content rules again at submit and approval: configuration may have changed since the save. */
  private async assertContentOk(c: CampaignRow): Promise<void> {
    const violations = await this.content.violations(templatesOf(c.channels, c.sms_body, c.email_subject, c.email_body, c.email_html));
    if (violations.length > 0) throw contentError(violations);
  }

  /** Everything a campaign must satisfy to be saved, beyond the DTO's field checks. */
  private async validated(dto: CreateCampaignDto, startAtChanged = true) {
    const problems: string[] = [];
    if (dto.channels.includes('sms') && !dto.sms) problems.push('sms.body is required when channels include sms');
    if (dto.channels.includes('email') && !dto.email) problems.push('email.subject and email.body are required when channels include email');
    if (!dto.channels.includes('sms') && dto.sms) problems.push('an sms template was given but channels do not include sms');
    if (!dto.channels.includes('email') && dto.email) problems.push('an email template was given but channels do not include email');
    const sendWindow = dto.sendWindow ?? DEFAULT_SEND_WINDOW;
    problems.push(...validateSendWindow(sendWindow));
    const a = dto.audience ?? {};
    // An edit that leaves the audience alone keeps the stored one: it is checked again too.
    problems.push(...audienceProblems(a));
    if (a.calledAfter && a.calledBefore && Date.parse(a.calledAfter) >= Date.parse(a.calledBefore)) {
      problems.push('audience.calledAfter must be before audience.calledBefore');
    }
    const startAt = dto.startAt ? new Date(dto.startAt) : null;
    if (startAt && startAtChanged && startAt.getTime() < Date.now() - 60_000) problems.push('startAt is in the past; leave it out to start at launch');
    if (problems.length > 0) throw new BadRequestException(problems.join('; '));

    const violations = await this.content.violations(templatesOf(dto.channels, dto.sms?.body ?? null, dto.email?.subject ?? null, dto.email?.body ?? null, dto.email?.html ?? null));
    if (violations.length > 0) throw contentError(violations);
    return { ...dto, channelStrategy: dto.channelStrategy ?? 'all', audience: a, sendWindow, startAt };
  }
}

function fieldParams(f: Awaited<ReturnType<CampaignsService['validated']>>): unknown[] {
  return [
    f.name.trim(), f.channels, f.channelStrategy, JSON.stringify(f.audience), f.sms?.body ?? null, f.email?.subject ?? null,
    f.email?.body ?? null, f.email?.html ?? null, JSON.stringify(f.sendWindow), f.startAt,
  ];
}

export function templatesOf(
  channels: Channel[], smsBody: string | null, subject: string | null, emailBody: string | null, emailHtml: string | null = null,
): TemplateTexts[] {
  const out: TemplateTexts[] = [];
  if (channels.includes('sms')) out.push({ channel: 'sms', body: smsBody ?? '' });
  if (channels.includes('email')) out.push({ channel: 'email', body: emailBody ?? '', subject: subject ?? '', ...(emailHtml !== null ? { html: emailHtml } : {}) });
  return out;
}

function contentError(violations: Array<{ channel: string; rule: string; message: string }>) {
  return new BadRequestException({
    message: `The ${violations.length === 1 ? 'template breaks a content rule' : `templates break ${violations.length} content rules`}: ` +
      violations.map((v) => `${v.channel}: ${v.message}`).join(' '),
    violations,
  });
}

function actorOf(staff: StaffPrincipal, ip: string | null) {
  return { type: 'staff' as const, id: staff.userId, ip };
}

function pastTense(action: string): string {
  return { submit: 'submitted', approve: 'approved', pause: 'paused', resume: 'resumed', cancel: 'cancelled', launch: 'launched' }[action] ?? action;
}

/** A campaigns cursor: [created_at, id] of the last campaign on the page. */
function campaignCursor(cursor: string): [string, string] {
  return decodeCursorAs(cursor, ['timestamp', 'uuid']);
}

export function view(c: CampaignRow) {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    allowedActions: actionsFrom(c.status),
    channels: c.channels,
    channelStrategy: c.channel_strategy,
    audience: c.audience,
    sms: c.sms_body === null ? null : { body: c.sms_body },
    email: c.email_body === null ? null : { subject: c.email_subject, body: c.email_body, html: c.email_html },
    sendWindow: c.send_window,
    startAt: c.start_at,
    createdBy: c.created_by,
    updatedBy: c.updated_by,
    submittedBy: c.submitted_by,
    submittedAt: c.submitted_at,
    approvedBy: c.approved_by,
    approvedAt: c.approved_at,
    launchedBy: c.launched_by,
    launchedAt: c.launched_at,
    pausedAt: c.paused_at,
    completedAt: c.completed_at,
    cancelledAt: c.cancelled_at,
    audienceSize: c.audience_size,
    launch: c.launch_summary,
    version: c.version,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}
