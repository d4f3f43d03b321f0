import { Processor } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { hostname } from 'node:os';
import { AuditService, SYSTEM_ACTOR } from '../audit/audit.service.js';
import { BaseProcessor } from './base.processor.js';
import { JobPayloads, QUEUE } from './queue-names.js';

export interface ProbeResult {
  probeId: string;
  processedAt: string;
  worker: { pid: number; host: string };
}

@Processor(QUEUE.maintenance)
export class MaintenanceProcessor extends BaseProcessor {
  constructor(private readonly audit: AuditService) {
    super();
  }

  async process(job: Job<JobPayloads['maintenance']['probe']>): Promise<ProbeResult> {
    switch (job.name) {
      case 'probe': {
        const result: ProbeResult = {
          probeId: job.data.probeId,
          processedAt: new Date().toISOString(),
          worker: { pid: process.pid, host: hostname() },
        };
        await this.audit.record({
          actor: SYSTEM_ACTOR,
          action: 'queue.probe_processed',
          subjectType: 'job',
          subjectId: String(job.id),
          details: { probeId: job.data.probeId, pid: process.pid },
        });
        return result;
      }
      default:
        throw new Error(`unknown maintenance job "${job.name}"`);
    }
  }
}
