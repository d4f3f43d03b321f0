import { Body, Controller, Get, HttpCode, Logger, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ALL_STAFF, ClientIp, CurrentStaff, OPERATORS_AND_UP, Roles, StaffPrincipal, SUPERVISORS_AND_UP } from '../../common/access.js';
import { CampaignContent } from './campaign-content.js';
import { CampaignLaunchService } from './campaign-launch.service.js';
import { CampaignLifecycleService } from './campaign-lifecycle.service.js';
import { CampaignListQueryDto, CreateCampaignDto, TemplatePreviewDto, UpdateCampaignDto } from './campaigns.dto.js';
import { CampaignsService } from './campaigns.service.js';
import { CampaignStatsService } from './campaign-stats.service.js';

@ApiTags('campaigns')
@ApiBearerAuth()
@Controller('api/templates')
export class TemplatesController {
  constructor(private readonly content: CampaignContent) {}

  /** Rendered with sample values: encoding, characters, segments, replacements for non-GSM characters, violations. */
  @Post('preview')
  @HttpCode(200)
  @Roles(...ALL_STAFF)
  preview(@Body() dto: TemplatePreviewDto) {
    return this.content.preview(dto);
  }
}

@ApiTags('campaigns')
@ApiBearerAuth()
@Controller('api/campaigns')
export class CampaignsController {
  constructor(
    private readonly campaigns: CampaignsService,
    private readonly launcher: CampaignLaunchService,
    private readonly lifecycle: CampaignLifecycleService,
    private readonly statsService: CampaignStatsService,
  ) {}

  private readonly logger = new Logger(CampaignsController.name);

  @Post()
  @Roles(...OPERATORS_AND_UP)
  create(@Body() dto: CreateCampaignDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.campaigns.create(dto, staff, ip);
  }

  @Get()
  @Roles(...ALL_STAFF)
  list(@Query() q: CampaignListQueryDto) {
    return this.campaigns.list(q);
  }

  @Get(':id')
  @Roles(...ALL_STAFF)
  get(@Param('id') id: string) {
    return this.campaigns.get(id);
  }

  /** Until launch; a submitted or approved campaign goes back to draft. */
  @Patch(':id')
  @Roles(...OPERATORS_AND_UP)
  update(@Param('id') id: string, @Body() dto: UpdateCampaignDto, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.campaigns.update(id, dto, staff, ip);
  }

  /** Audience per channel, who is blocked and why, SMS segments and an ETA. */
  @Get(':id/preview')
  @Roles(...ALL_STAFF)
  preview(@Param('id') id: string) {
    return this.launcher.preview(id);
  }

  /** Counts by status and channel, sends per minute, responses, losses confirmed (pence), ETA. */
  @Get(':id/stats')
  @Roles(...ALL_STAFF)
  stats(@Param('id') id: string) {
    return this.statsService.stats(id);
  }

  @Post(':id/submit')
  @HttpCode(200)
  @Roles(...OPERATORS_AND_UP)
  submit(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.campaigns.move(id, 'submit', staff, ip);
  }

  /** Two people: a supervisor or admin who neither wrote nor submitted it. */
  @Post(':id/approve')
  @HttpCode(200)
  @Roles(...SUPERVISORS_AND_UP)
  approve(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.campaigns.move(id, 'approve', staff, ip);
  }

  @Post(':id/launch')
  @HttpCode(200)
  @Roles(...SUPERVISORS_AND_UP)
  launch(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.launcher.launch(id, staff, ip);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @Roles(...SUPERVISORS_AND_UP)
  pause(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.lifecycle.pause(id, staff, ip);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Roles(...SUPERVISORS_AND_UP)
  resume(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.lifecycle.resume(id, staff, ip);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles(...SUPERVISORS_AND_UP)
  cancel(@Param('id') id: string, @CurrentStaff() staff: StaffPrincipal, @ClientIp() ip: string | null) {
    return this.lifecycle.cancel(id, staff, ip);
  }
}
