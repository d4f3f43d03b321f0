import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UploadedFile } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ALL_STAFF, ClientIp, CurrentStaff, OPERATORS_AND_UP, Roles, StaffPrincipal, SUPERVISORS_AND_UP } from '../../common/access.js';
import { CsvUploadRoute } from '../../common/uploads.js';
import { QUEUE } from '../queues/queue-names.js';
import { QueueProducer } from '../queues/queue-producer.js';
import { CreateSuppressionDto, DecideRemovalDto, RemovalQueryDto, RequestRemovalDto, SuppressionQueryDto } from './suppressions.dto.js';
import { SUPPRESSION_IMPORT_JOB_OPTIONS, SuppressionsService } from './suppressions.service.js';

@ApiTags('suppressions')
@ApiBearerAuth()
@Controller('api/suppressions')
export class SuppressionsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  /** 201 with created: true for a new address; 200 with the existing row and created: false otherwise. */
  @Post()
  @Roles(...OPERATORS_AND_UP)
  async create(
    @Body() dto: CreateSuppressionDto,
    @CurrentStaff() staff: StaffPrincipal,
    @ClientIp() ip: string | null,
    @Res({ passthrough: true }) res: Response,
  ) {
    const result = await this.suppressions.create(dto, { staff, ip });
    res.status(result.created ? 201 : 200);
    return result;
  }

  /** Newest first; analysts see addresses masked. */
  @Get()
  @Roles(...ALL_STAFF)
  list(@Query() query: SuppressionQueryDto, @CurrentStaff() staff: StaffPrincipal) {
    return this.suppressions.list(query, staff);
  }

  /** 204; an opt-out answers 409 with how to ask for its two-person removal. */
  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  async remove(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null): Promise<void> {
    await this.suppressions.remove(id, { staff, ip });
  }

  /** First of two people: an admin asks for an opt-out to be removed, saying why. */
  @Post(':id/removal-requests')
  @Roles('admin')
  requestRemoval(@Param('id') id: string, @Body() dto: RequestRemovalDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.suppressions.requestRemoval(id, dto, { staff, ip });
  }
}

/** The second person's side of removing an opt-out: an admin or supervisor other than the requester. */
@ApiTags('suppressions')
@ApiBearerAuth()
@Controller('api/suppressions/removal-requests')
export class SuppressionRemovalsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  @Get()
  @Roles(...SUPERVISORS_AND_UP)
  list(@Query() query: RemovalQueryDto) {
    return this.suppressions.listRemovals(query);
  }

  /** Deletes the opt-out in the same transaction. 409 for the requester's own request. */
  @Post(':id/approve')
  @HttpCode(200)
  @Roles(...SUPERVISORS_AND_UP)
  approve(@Param('id') id: string, @Body() dto: DecideRemovalDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.suppressions.decideRemoval(id, 'approve', dto, { staff, ip });
  }

  /** Keeps the opt-out; the requester may withdraw their own request this way. */
  @Post(':id/reject')
  @HttpCode(200)
  @Roles(...SUPERVISORS_AND_UP)
  reject(@Param('id') id: string, @Body() dto: DecideRemovalDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.suppressions.decideRemoval(id, 'reject', dto, { staff, ip });
  }
}

@ApiTags('suppressions')
@ApiBearerAuth()
@Controller('api/suppressions/imports')
export class SuppressionImportsController {
  constructor(
    private readonly suppressions: SuppressionsService,
    private readonly producer: QueueProducer,
  ) {}

  /**
   * Queues a CSV of channel,address,reason[,note]: 202 {id}; a worker imports it (a
   * 2 GiB file must not hold an HTTP request). A wrong header is 400 at once and keeps
   * nothing. Poll GET /api/suppressions/imports/:id for the counts and rejected lines.
   */
  @CsvUploadRoute()
  @Roles(...OPERATORS_AND_UP)
  upload(@UploadedFile() file: Express.Multer.File | undefined, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.suppressions.acceptImport(file, { staff, ip }, (id) =>
      this.producer.add(QUEUE.suppressions, 'import', { importId: id }, SUPPRESSION_IMPORT_JOB_OPTIONS(id)),
    );
  }

  @Get(':id')
  @Roles(...ALL_STAFF)
  get(@Param('id') id: string) {
    return this.suppressions.getImport(id);
  }
}
