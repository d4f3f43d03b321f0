import { Module } from '@nestjs/common';
import { MessagesModule } from '../delivery/messages.module.js';
import { SettingsModule } from '../settings/settings.module.js';
import { CampaignLifecycleService } from './campaign-lifecycle.service.js';
import { CampaignContent } from './campaign-content.js';
import { CampaignLaunchService } from './campaign-launch.service.js';
import { CampaignsController, TemplatesController } from './campaigns.controller.js';
import { CampaignsService } from './campaigns.service.js';
import { CampaignStatsService } from './campaign-stats.service.js';

/** Campaigns: templates and content rules, the approval state machine, audience and launch. */
@Module({
  imports: [SettingsModule, MessagesModule],
  providers: [CampaignContent, CampaignsService, CampaignLaunchService, CampaignLifecycleService, CampaignStatsService],
  exports: [CampaignContent, CampaignsService, CampaignLaunchService, CampaignLifecycleService, CampaignStatsService],
})
export class CampaignsModule {}

@Module({ imports: [CampaignsModule], controllers: [CampaignsController, TemplatesController] })
export class CampaignsApiModule {}
