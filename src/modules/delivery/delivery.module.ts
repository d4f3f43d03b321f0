import { Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { CampaignsModule } from '../campaigns/campaigns.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { ApplyProviderRatesOnStart } from '../settings/provider-rates.service.js';
import { DeliveryService } from './delivery.service.js';
import { EmailProcessor, SmsProcessor } from './delivery.processors.js';
import { EMAIL_PROVIDER, SMS_PROVIDER } from './providers/provider.js';
import { SandboxProvider } from './providers/sandbox.provider.js';
import { SmtpEmailProvider } from './providers/smtp-email.provider.js';
import { TwilioSmsProvider } from './providers/twilio-sms.provider.js';
import { ReceiptsService } from './receipts.service.js';
import { ReconcilerService } from './reconciler.service.js';
import { TwilioWebhookController } from './twilio-webhook.controller.js';
import { MessagesController } from './messages.controller.js';
import { MessagesModule } from './messages.module.js';
import { MessagesService } from './messages.service.js';

/** Receipts are written by the api (webhooks) and by the workers (sandbox, reconciler). */
@Module({ imports: [MessagesModule], providers: [ReceiptsService], exports: [ReceiptsService] })
export class ReceiptsModule {}

/** Status callbacks from the providers; messages that need a person. */
@Module({ imports: [ReceiptsModule, MessagesModule], controllers: [TwilioWebhookController, MessagesController], providers: [MessagesService] })
export class DeliveryApiModule {}

/**
 * The sending side: providers chosen by SMS_PROVIDER / EMAIL_PROVIDER, the `sms` and
 * `email` processors, and the reconciler.
 */
@Module({
  imports: [ReceiptsModule, MessagesModule, CampaignsModule, SettingsModule],
  providers: [
    {
      provide: SMS_PROVIDER,
      inject: [APP_CONFIG, getDataSourceToken(), ReceiptsService],
      useFactory: (config: AppConfig, ds: DataSource, receipts: ReceiptsService) =>
        config.smsProvider === 'twilio'
          ? new TwilioSmsProvider(config, { timeoutMs: config.providerTimeoutMs })
          : new SandboxProvider('sms', ds, receipts, { latencyMs: config.sandboxLatencyMs, receiptDelayMs: config.sandboxReceiptDelayMs }),
    },
    {
      provide: EMAIL_PROVIDER,
      inject: [APP_CONFIG, getDataSourceToken(), ReceiptsService],
      useFactory: (config: AppConfig, ds: DataSource, receipts: ReceiptsService) =>
        config.emailProvider === 'smtp'
          ? new SmtpEmailProvider(config, { connectionTimeoutMs: config.providerTimeoutMs, socketTimeoutMs: config.providerTimeoutMs })
          : new SandboxProvider('email', ds, receipts, { latencyMs: config.sandboxLatencyMs, receiptDelayMs: config.sandboxReceiptDelayMs }),
    },
    DeliveryService,
    SmsProcessor,
    EmailProcessor,
    ReconcilerService,
    ApplyProviderRatesOnStart,
  ],
  exports: [DeliveryService, ReconcilerService],
})
export class DeliveryWorkerModule {}
