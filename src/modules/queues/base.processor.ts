import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';

/**
 * Every processor extends this: it logs worker errors (an unhandled 'error' event would
 * otherwise be lost) and failed jobs, by id and name only: payloads never reach logs.
 */
export abstract class BaseProcessor extends WorkerHost {
  protected readonly logger = new Logger(this.constructor.name);

  @OnWorkerEvent('error')
  onWorkerError(err: Error): void {
    this.logger.error({ err: { message: err.message, name: err.name } }, 'worker error');
  }

  @OnWorkerEvent('failed')
  onJobFailed(job: Job | undefined, err: Error): void {
    this.logger.warn(
      { jobId: job?.id, jobName: job?.name, attemptsMade: job?.attemptsMade, err: { message: err.message, name: err.name } },
      'job failed',
    );
  }
}
