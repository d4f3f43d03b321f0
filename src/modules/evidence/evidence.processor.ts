import { Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { BaseProcessor } from '../queues/base.processor.js';
import { JobPayloads, QUEUE } from '../queues/queue-names.js';
import { callImportSpec } from './call-import.spec.js';
import { EvidenceImportsService } from './evidence-imports.service.js';
import { InstitutionsService } from './institutions.service.js';

@Processor(QUEUE.evidence, { concurrency: 1, lockDuration: 120_000 })
export class EvidenceProcessor extends BaseProcessor {
  constructor(
    private readonly imports: EvidenceImportsService,
    private readonly institutions: InstitutionsService,
  ) {
    super();
  }

  async process(job: Job<JobPayloads['evidence']['import-calls']>) {
    switch (job.name) {
      case 'import-calls': {
        await this.institutions.ensureSeeded();
        const view = await this.imports.run(job.data.importId, callImportSpec(), (p) => {
          void job.updateProgress(Math.round((100 * p.bytes) / Math.max(1, p.totalBytes)));
        });
        return { status: view.status, rowsAccepted: view.rowsAccepted, rowsRejected: view.rowsRejected };
      }
      default:
        throw new Error(`unknown evidence job "${job.name}"`);
    }
  }
}
