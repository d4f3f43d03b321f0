import type { Channel } from '../../common/channel.js';
import { Processor } from '@nestjs/bullmq';
import { Inject, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { BaseProcessor } from '../queues/base.processor.js';
import { JobPayloads, QUEUE } from '../queues/queue-names.js';
import { DeliveryService } from './delivery.service.js';

/**
 * The `sms` and `email` workers. Their pace is the channel's global rate limit, set on
 * the queue (so shared by every worker on every machine, and changed at runtime by an
 * admin); WORKER_CONCURRENCY is how many sends one process has in flight at once.
 */
abstract class SendProcessor extends BaseProcessor implements OnModuleInit {
  protected abstract readonly channel: Channel;

  constructor(
    protected readonly delivery: DeliveryService,
    @Inject(APP_CONFIG) protected readonly config: AppConfig,
  ) {
    super();
  }

  onModuleInit(): void {
    this.worker.concurrency = this.config.workerConcurrency;
  }

  process(job: Job<JobPayloads['sms']['send']>, token?: string) {
    return this.delivery.process(this.channel, job, token, this.worker);
  }
}

@Processor(QUEUE.sms, { autorun: true, maxStalledCount: 10, stalledInterval: 15_000 })
export class SmsProcessor extends SendProcessor {
  protected readonly channel = 'sms' as const;
}

@Processor(QUEUE.email, { autorun: true, maxStalledCount: 10, stalledInterval: 15_000 })
export class EmailProcessor extends SendProcessor {
  protected readonly channel = 'email' as const;
}
