import { Body, Controller, ForbiddenException, Headers, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
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
  async status(
    @Req() req: Request,
    @Headers('x-twilio-signature') signature: string | undefined,
    @Body() body: Record<string, string>,
    @Query('messageId') messageId: unknown,
  ) {
    this.verify(req, signature, body);
    const sid = typeof body.MessageSid === 'string' ? body.MessageSid : typeof body.SmsSid === 'string' ? body.SmsSid : '';
    const status = twilioReceiptStatus(String(body.MessageStatus ?? body.SmsStatus ?? ''), body.ErrorCode);
    if (!/^(SM|MM)[0-9a-f]{32}$/i.test(sid) || status === null) return;
    const ours = typeof messageId === 'string' && /^[1-9]\d{0,17}$/.test(messageId) ? messageId : null;
    await this.receipts.record({ provider: 'twilio', providerMessageId: sid, status, errorCode: body.ErrorCode || null, messageId: ours });
  }

  private verify(req: Request, signature: string | undefined, body: Record<string, string>): void {
    const token = this.config.twilio.authToken;
    const url = this.config.publicBaseUrl + req.originalUrl;
    if (!token || !signature || !twilio.validateRequest(token, signature, url, body ?? {})) {
      throw new ForbiddenException('The request is not signed by Twilio');
    }
  }
}
