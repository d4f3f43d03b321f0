import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { verifyUnsubscribeToken } from '../../common/unsubscribe.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { AuditService } from '../audit/audit.service.js';
import { MessagesRepository } from '../delivery/messages.repository.js';
import { SuppressionsService } from '../suppressions/suppressions.service.js';


const MAX_BIGINT = 9223372036854775807n;

/**
 * Email unsubscribe (RFC 8058 one-click). The link's token is an HMAC of the message
 * id: it names one email we sent, so it is the whole capability, and it is all a mail
 * client sends (no cookie, no session).
 */
@Injectable()
export class UnsubscribeService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly suppressions: SuppressionsService,
    private readonly messages: MessagesRepository,
  ) {}

  /** Whether the token names an email we sent; reads only (a GET must change nothing). */
  async isValid(token: string): Promise<boolean> {
    return (await this.messageFor(token, this.ds)) !== undefined;
  }

  /**
   * Suppresses the message's address for email with reason `unsubscribe` and audits it,
   * in one transaction; null when the token names no email of ours. Twice is the same as
   * once: an address already opted out is left alone and nothing more is written.
   */
  async unsubscribe(token: string): Promise<{ outcome: 'created' | 'upgraded' | 'already' } | null> {
    return this.ds.transaction(async (m) => {
      const msg = await this.messageFor(token, m);
      if (!msg) return null;
      const s = await this.suppressions.recordOptOut(m, { channel: 'email', address: msg.address, reason: 'unsubscribe', source: 'unsubscribe' });
      if (s.outcome !== 'already') {
        await this.audit.record(
          {
            // The person themselves. Neither their address (the suppression row, behind
            // staff access rules, holds it) nor their IP: the token already proves the link
            // was theirs, and we keep no more about a victim than the case needs.
            actor: { type: 'victim', id: msg.victim_id, ip: null },
            action: 'suppression.unsubscribed',
            subjectType: 'message',
            subjectId: String(msg.id),
            details: { victimId: msg.victim_id, suppressionId: s.id, channel: 'email', outcome: s.outcome },
          },
          m,
        );
      }
      return { outcome: s.outcome };
    });
  }

  private async messageFor(token: string, runner: DataSource | EntityManager) {
    const id = verifyUnsubscribeToken(token, this.config.jwtSecret);
    if (id === null || BigInt(id) > MAX_BIGINT) return undefined;
    return this.messages.findEmail(runner, id);
  }
}
