import { Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { BaseProcessor } from '../queues/base.processor.js';
import { JobPayloads, QUEUE } from '../queues/queue-names.js';
import { SuppressionsService } from './suppressions.service.js';

@Processor(QUEUE.suppressions, { concurrency: 1, lockDuration: 120_000 })
export class SuppressionsProcessor extends BaseProcessor {
  constructor(private readonly suppressions: SuppressionsService) {
    super();
  }

  async process(job: Job<JobPayloads['suppressions']['import']>) {
    switch (job.name) {
      case 'import': {
        // The last attempt records the failure on the import instead of leaving it running.
        const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        const view = await this.suppressions.runImport(job.data.importId, finalAttempt);
        return { status: view.status, inserted: view.inserted, rejected: view.rejected };
      }
      default:
        throw new Error(`unknown suppressions job "${job.name}"`);
    }
  }
}
