import { Controller, Get, Param, UploadedFile } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { CsvUploadRoute } from '../../common/uploads.js';
import { ALL_STAFF, CurrentStaff, OPERATORS_AND_UP, Roles, StaffPrincipal } from '../../common/access.js';
import { EvidenceImportsService, IMPORT_JOB_OPTIONS } from './evidence-imports.service.js';
import { QUEUE } from '../queues/queue-names.js';
import { QueueProducer } from '../queues/queue-producer.js';

@ApiTags('evidence')
@ApiBearerAuth()
@Controller('api/evidence/imports')
export class EvidenceController {
  constructor(
    private readonly imports: EvidenceImportsService,
    private readonly producer: QueueProducer,
  ) {}

  /** Streams the upload to disk; a worker imports it. Poll GET /api/evidence/imports/:id. */
  @CsvUploadRoute()
  @Roles(...OPERATORS_AND_UP)
  upload(@UploadedFile() file: Express.Multer.File | undefined, @CurrentStaff() staff: StaffPrincipal) {
    return this.imports.acceptUpload('calls', file, staff.userId, (id) =>
      this.producer.add(QUEUE.evidence, 'import-calls', { importId: id }, IMPORT_JOB_OPTIONS(id)),
    );
  }

  @Get()
  @Roles(...ALL_STAFF)
  async list(@CurrentStaff() staff: StaffPrincipal) {
    return (await this.imports.list()).map((v) => EvidenceImportsService.forViewer(v, staff.role));
  }

  @Get(':id')
  @Roles(...ALL_STAFF)
  async get(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal) {
    return EvidenceImportsService.forViewer(await this.imports.get(id), staff.role);
  }
}
