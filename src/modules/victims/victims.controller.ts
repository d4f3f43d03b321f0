import { Controller, Get, HttpCode, Param, Post, Query, UploadedFile } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CsvUploadRoute } from '../../common/uploads.js';
import { ALL_STAFF, CurrentStaff, OPERATORS_AND_UP, Roles, StaffPrincipal } from '../../common/access.js';
import { AuditService } from '../audit/audit.service.js';
import { EvidenceImportsService, IMPORT_JOB_OPTIONS } from '../evidence/evidence-imports.service.js';
import { QUEUE } from '../queues/queue-names.js';
import { QueueProducer } from '../queues/queue-producer.js';
import { VictimQueryDto } from './victims.dto.js';
import { VictimsService } from './victims.service.js';

@ApiTags('victims')
@ApiBearerAuth()
@Controller('api/victims')
export class VictimsController {
  constructor(
    private readonly victims: VictimsService,
    private readonly producer: QueueProducer,
    private readonly audit: AuditService,
  ) {}

  /** Re-runs matching over all imported call records in a worker. */
  @Post('match')
  @HttpCode(202)
  @Roles(...OPERATORS_AND_UP)
  async match(@CurrentStaff() staff: StaffPrincipal) {
    const job = await this.producer.add(QUEUE.victims, 'match', { requestedBy: staff.userId }, { attempts: 3, backoff: { type: 'exponential', delay: 5000 } });
    await this.audit.record({ actor: { type: 'staff', id: staff.userId }, action: 'victims.match_requested', subjectType: 'job', subjectId: String(job.id) });
    return { jobId: job.id, status: 'queued' };
  }

  @Get()
  @Roles(...ALL_STAFF)
  list(@Query() query: VictimQueryDto, @CurrentStaff() staff: StaffPrincipal) {
    return this.victims.list(query, staff);
  }

  @Get(':id')
  @Roles(...ALL_STAFF)
  get(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal) {
    return this.victims.get(id, staff);
  }
}

@ApiTags('victims')
@ApiBearerAuth()
@Controller('api/contacts/imports')
export class ContactImportsController {
  constructor(
    private readonly imports: EvidenceImportsService,
    private readonly producer: QueueProducer,
  ) {}

  @CsvUploadRoute()
  @Roles(...OPERATORS_AND_UP)
  upload(@UploadedFile() file: Express.Multer.File | undefined, @CurrentStaff() staff: StaffPrincipal) {
    return this.imports.acceptUpload('contacts', file, staff.userId, (id) =>
      this.producer.add(QUEUE.victims, 'import-contacts', { importId: id }, IMPORT_JOB_OPTIONS(id)),
    );
  }

  @Get(':id')
  @Roles(...ALL_STAFF)
  async get(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal) {
    return EvidenceImportsService.forViewer(await this.imports.get(id), staff.role);
  }
}
