import { isBigintId } from '../../common/input-rules.js';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../../common/access.js';
import { decodeCursorAs, encodeCursor } from '../../common/paging.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { AuditService } from '../audit/audit.service.js';
import { messageJobOptions, retryPolicy } from '../campaigns/message-jobs.js';
import { QueueProducer } from '../queues/queue-producer.js';
import type { MessageListQueryDto, ResolveMessageDto } from './messages.dto.js';
import { MessagesRepository } from './messages.repository.js';

/** Campaign statuses in which a message settled as never sent goes again. */
const STILL_SENDING = new Set(['running', 'scheduled', 'paused']);

/**
 * Messages that need a person: those in `unknown` (the provider could not say whether
 * it has them), and the decision on each, audited. A message settled as not sent goes
 * back to `queued` and gets its job again, unless its campaign has finished or was
 * cancelled meanwhile (then it is cancelled: a late warning out of its campaign would
 * confuse more than help).
 */
@Injectable()
export class MessagesService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly messages: MessagesRepository,
    private readonly audit: AuditService,
    private readonly producer: QueueProducer,
  ) {}

  async list(q: MessageListQueryDto) {
    const limit = q.limit ?? 50;
    const after = q.cursor ? decodeCursorAs(q.cursor, ['id8'])[0] : null;
    const rows = await this.messages.listUnknown(after, limit + 1, q.campaignId);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({
        id: String(r.id),
        campaignId: r.campaign_id,
        victimId: r.victim_id,
        channel: r.channel,
        address: r.address,
        attempts: r.attempts,
        errorCode: r.error_code,
        error: r.error_message,
        sendingAt: r.sending_at,
        updatedAt: r.updated_at,
      })),
      nextCursor: rows.length > limit && page.length > 0 ? encodeCursor([String(page[page.length - 1].id)]) : null,
    };
  }

  async resolve(id: string, dto: ResolveMessageDto, staff: StaffPrincipal, ip: string | null) {
    if (!isBigintId(id)) throw new NotFoundException('No message with that id');
    const settled = await this.ds.transaction(async (m) => {
      const msg = await this.messages.lockForResolve(m, id);
      if (!msg) throw new NotFoundException('No message with that id');
      if (msg.status !== 'unknown') {
        throw new ConflictException(`The message is ${msg.status}, not unknown: only a message whose fate is unknown can be resolved.`);
      }
      const to = dto.outcome === 'sent' ? 'sent' : STILL_SENDING.has(msg.campaign_status) ? 'queued' : 'cancelled';
      await this.messages.resolveUnknown(m, id, to, { via: 'staff', by: staff.userId, outcome: dto.outcome });
      await this.audit.record(
        {
          actor: { type: 'staff', id: staff.userId, ip },
          action: 'message.resolved',
          subjectType: 'message',
          subjectId: id,
          details: { outcome: dto.outcome, to, note: dto.note ?? null, campaignId: msg.campaign_id },
        },
        m,
      );
      return { ...msg, to };
    });
    let enqueued = false;
    // A paused campaign's message gets its job when the campaign resumes.
    if (settled.to === 'queued' && settled.campaign_status !== 'paused') {
      await this.producer.add(
        settled.channel,
        'send',
        { messageId: id },
        messageJobOptions(id, settled.not_before, retryPolicy(this.config)),
      );
      enqueued = true;
    }
    return { id, status: settled.to, enqueued };
  }
}
