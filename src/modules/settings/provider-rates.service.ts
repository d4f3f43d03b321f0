import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../../common/access.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { queryOne } from '../../database/sql.js';
import { AuditService } from '../audit/audit.service.js';
import { QUEUE } from '../queues/queue-names.js';
import { failFast, QueueProducer } from '../queues/queue-producer.js';

export interface ProviderRates {
  sms: number;
  email: number;
}

const KEY = 'provider_rates';

/**
 * The providers' sending rates, messages per second per channel. They are global: one
 * limit shared by every campaign, worker and machine (BullMQ's global rate limit on the
 * channel's queue). Configuration gives the defaults; an admin can change them at
 * runtime. Postgres keeps the value, so it is applied again at start-up and survives
 * Redis losing its data.
 */
@Injectable()
export class ProviderRatesService {
  private readonly logger = new Logger(ProviderRatesService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly producer: QueueProducer,
    private readonly audit: AuditService,
  ) {}

  async get(): Promise<ProviderRates & { source: 'configuration' | 'admin'; updatedAt: Date | null; updatedBy: string | null }> {
    const row = await queryOne<{ value: ProviderRates; updated_at: Date; updated_by: string | null }>(
      this.ds,
      `SELECT value, updated_at, updated_by FROM settings WHERE key = $1`,
      [KEY],
    );
    if (!row) return { sms: this.config.smsRatePerSecond, email: this.config.emailRatePerSecond, source: 'configuration', updatedAt: null, updatedBy: null };
    return { sms: row.value.sms, email: row.value.email, source: 'admin', updatedAt: row.updated_at, updatedBy: row.updated_by };
  }

  async set(rates: ProviderRates, staff: StaffPrincipal, ip: string | null) {
    const before = await this.get();
    await this.ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO settings (key, value, updated_by, updated_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_by = EXCLUDED.updated_by, updated_at = now()`,
        [KEY, JSON.stringify(rates), staff.userId],
      );
      await this.audit.record(
        {
          actor: { type: 'staff', id: staff.userId, ip }, action: 'settings.provider_rates_changed', subjectType: 'settings', subjectId: KEY,
          details: { from: { sms: before.sms, email: before.email }, to: rates },
        },
        m,
      );
    });
    // Postgres holds the setting; when Redis is down it is applied at the next start-up.
    const applied = await this.apply(rates).then(
      () => true,
      (err: Error) => {
        this.logger.warn({ err: { message: err.message } }, 'provider rates saved but not yet applied to the queues');
        return false;
      },
    );
    return { ...(await this.get()), appliedToQueues: applied };
  }

  /** Sets each channel queue's global rate limit: at most `rate` jobs per second across all workers. */
  async apply(rates: ProviderRates): Promise<void> {
    await failFast(
      Promise.all([
        this.producer.queue(QUEUE.sms).setGlobalRateLimit(rates.sms, 1000),
        this.producer.queue(QUEUE.email).setGlobalRateLimit(rates.email, 1000),
      ]),
    );
  }
}

/**
 * Applies the stored rates to the queues when a server (api or worker) starts; the CLI
 * does not. Not awaited: start-up must not wait for Redis, which may be down.
 */
@Injectable()
export class ApplyProviderRatesOnStart implements OnApplicationBootstrap {
  private readonly logger = new Logger(ApplyProviderRatesOnStart.name);
  constructor(private readonly rates: ProviderRatesService) {}

  onApplicationBootstrap(): void {
    void this.rates
      .get()
      .then((r) => this.rates.apply(r))
      .catch((err: Error) =>
        this.logger.warn({ err: { message: err.message } }, 'could not apply the provider rates to the queues; they apply when Redis is back'),
      );
  }
}
