import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res, UploadedFile } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ALL_STAFF, ClientIp, CurrentStaff, OPERATORS_AND_UP, Roles, StaffPrincipal } from '../../common/access.js';
import { CsvUploadRoute } from '../../common/uploads.js';
import { CreateSuppressionDto, SuppressionQueryDto } from './suppressions.dto.js';
import { SuppressionsService } from './suppressions.service.js';

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

  @Delete(':id')
  @HttpCode(204)
  @Roles('admin')
  async remove(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null): Promise<void> {
    await this.suppressions.remove(id, { staff, ip });
  }
}

@ApiTags('suppressions')
@ApiBearerAuth()
@Controller('api/suppressions/imports')
export class SuppressionImportsController {
  constructor(private readonly suppressions: SuppressionsService) {}

  /**
   * Imports a CSV of channel,address,reason[,note] at once (not queued): 200 with counts
   * and the first 100 rejected lines. A wrong header keeps nothing.
   */
  @HttpCode(200)
  @CsvUploadRoute()
  @Roles(...OPERATORS_AND_UP)
  upload(@UploadedFile() file: Express.Multer.File | undefined, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    if (!file) throw new BadRequestException('Send the suppressions CSV as a multipart field named "file"');
    return this.suppressions.importCsv(file.path, { staff, ip });
  }
}
