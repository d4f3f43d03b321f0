import { isBigintId } from '../../common/input-rules.js';
import { Controller, ForbiddenException, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request } from 'express';
import twilio from 'twilio';
import { Public } from '../../common/access.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { ReceiptsService } from './receipts.service.js';
import { twilioReceiptStatus } from './twilio-status.js';

/**
 * Twilio's status callbacks. The signature is checked against PUBLIC_BASE_URL + the
 * path as Twilio called it (403, nothing stored, when it is wrong or missing); the
 * receipt is committed before the 204, so an acknowledged callback is never lost, and
 * Twilio retries one that was not acknowledged. The callback URL names our message id
 * (`?messageId=`, signed with the rest of the URL), so a callback settles a message whose
 * API answer was lost.
 */
@ApiExcludeController()
@Controller('webhooks/twilio')
export class TwilioWebhookController {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly receipts: ReceiptsService,
  ) {}

  @Post('status')
  @Public()
  @HttpCode(204)
  // Only the raw request is taken: the global pipes would pass over every parameter of
  // thousands of callbacks a second, and every field used here is checked by shape below.
  async status(@Req() req: Request) {
    const body = (req.body ?? {}) as Record<string, unknown>;
    this.verify(req, req.headers['x-twilio-signature'], body);
    const sid = typeof body.MessageSid === 'string' ? body.MessageSid : typeof body.SmsSid === 'string' ? body.SmsSid : '';
    const messageStatus = typeof body.MessageStatus === 'string' ? body.MessageStatus : typeof body.SmsStatus === 'string' ? body.SmsStatus : '';
    // A code is digits; anything else (a NUL, a novel) would fail the whole receipt batch it lands in.
    const errorCode = typeof body.ErrorCode === 'string' && /^\d{1,10}$/.test(body.ErrorCode) ? body.ErrorCode : null;
    const status = twilioReceiptStatus(messageStatus, errorCode);
    if (!/^(SM|MM)[0-9a-f]{32}$/i.test(sid) || status === null) return;
    const messageId = req.query.messageId;
    const ours = isBigintId(messageId) ? messageId : null;
    await this.receipts.record({ provider: 'twilio', providerMessageId: sid, status, errorCode, messageId: ours });
  }

  private verify(req: Request, signature: string | string[] | undefined, body: Record<string, unknown>): void {
    const token = this.config.twilio.authToken;
    const url = this.config.publicBaseUrl + req.originalUrl;
    if (!token || typeof signature !== 'string' || !twilio.validateRequest(token, signature, url, body)) {
      throw new ForbiddenException('The request is not signed by Twilio');
    }
  }
}
