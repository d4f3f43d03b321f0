import { Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { CurrentStaff, Roles, StaffPrincipal } from '../../common/access.js';
import { AuditService } from '../audit/audit.service.js';
import { QUEUE } from './queue-names.js';
import { QueueProducer } from './queue-producer.js';
import { isUuid } from '../../common/input-rules.js';

/**
 * Admins check that workers are consuming: a probe job goes through Redis to whichever
 * worker is running, which answers with its pid and host.
 */
@ApiTags('operations')
@ApiBearerAuth()
@Controller('api/admin/queue-probes')
export class QueueProbeController {
  constructor(
    private readonly producer: QueueProducer,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @HttpCode(202)
  @Roles('admin')
  async create(@CurrentStaff() staff: StaffPrincipal): Promise<{ id: string }> {
    const probeId = randomUUID();
    await this.producer.add(QUEUE.maintenance, 'probe', { probeId, requestedAt: new Date().toISOString() }, { jobId: `probe-${probeId}` });
    await this.audit.record({ actor: { type: 'staff', id: staff.userId }, action: 'queue.probe_requested', subjectType: 'job', subjectId: `probe-${probeId}` });
    return { id: probeId };
  }

  @Get(':id')
  @Roles('admin')
  async get(@Param('id') id: string) {
    if (!isUuid(id)) throw new NotFoundException('No such probe');
    const job = await this.producer.queue(QUEUE.maintenance).getJob(`probe-${id}`);
    if (!job) throw new NotFoundException('No such probe');
    const result: unknown = job.returnvalue ?? null;
    return { id, state: await job.getState(), result, failedReason: job.failedReason ?? null };
  }
}
