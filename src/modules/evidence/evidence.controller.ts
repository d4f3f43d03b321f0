import { BadRequestException, Controller, Get, HttpCode, Param, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { ALL_STAFF, CurrentStaff, OPERATORS_AND_UP, Roles, StaffPrincipal } from '../../common/access.js';
import { EvidenceImportsService } from './evidence-imports.service.js';
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
  @Post()
  @HttpCode(202)
  @Roles(...OPERATORS_AND_UP)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', properties: { file: { type: 'string', format: 'binary' } } } })
  @UseInterceptors(FileInterceptor('file'))
  async upload(@UploadedFile() file: Express.Multer.File | undefined, @CurrentStaff() staff: StaffPrincipal) {
    if (!file) throw new BadRequestException('Send the call-records CSV as a multipart field named "file"');
    const id = await this.imports.create('calls', file.path, file.originalname, { type: 'staff', id: staff.userId }, true);
    await this.producer.add(QUEUE.evidence, 'import-calls', { importId: id }, { jobId: `import-${id}`, attempts: 3, backoff: { type: 'exponential', delay: 5000 } });
    return { id, status: 'queued' };
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
