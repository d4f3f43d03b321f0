import { Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { BaseProcessor } from '../queues/base.processor.js';
import { JobPayloads, QUEUE } from '../queues/queue-names.js';
import { EvidenceImportsService } from '../evidence/evidence-imports.service.js';
import { contactImportSpec } from './contact-import.spec.js';
import { VictimMatchingService } from './victim-matching.service.js';

type VictimJob = Job<JobPayloads['victims']['import-contacts']> | Job<JobPayloads['victims']['match']>;

@Processor(QUEUE.victims, { concurrency: 1, lockDuration: 120_000 })
export class VictimsProcessor extends BaseProcessor {
  constructor(
    private readonly imports: EvidenceImportsService,
    private readonly matching: VictimMatchingService,
  ) {
    super();
  }

  async process(job: VictimJob) {
    switch (job.name) {
      case 'import-contacts': {
        const { importId } = job.data as JobPayloads['victims']['import-contacts'];
        const view = await this.imports.run(importId, contactImportSpec());
        return { status: view.status, rowsAccepted: view.rowsAccepted, rowsRejected: view.rowsRejected };
      }
      case 'match': {
        const { requestedBy } = job.data as JobPayloads['victims']['match'];
        return this.matching.match(requestedBy ? { type: 'staff', id: requestedBy } : { type: 'system' });
      }
      default:
        throw new Error(`unknown victims job "${job.name}"`);
    }
  }
}
