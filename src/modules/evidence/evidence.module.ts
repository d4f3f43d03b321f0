import { Module } from '@nestjs/common';
import { MulterModule } from '@nestjs/platform-express';
import { multerOptions } from '../../common/uploads.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { EvidenceController } from './evidence.controller.js';
import { EvidenceImportsService } from './evidence-imports.service.js';
import { EvidenceProcessor } from './evidence.processor.js';
import { InstitutionsService } from './institutions.service.js';

/** Seized call records: import jobs and the institutions they impersonated. */
@Module({ providers: [EvidenceImportsService, InstitutionsService], exports: [EvidenceImportsService, InstitutionsService] })
export class EvidenceModule {}

/** Streams uploads to disk with the configured size limit (shared by the victims module). */
export const UploadsModule = MulterModule.registerAsync({ inject: [APP_CONFIG], useFactory: (c: AppConfig) => multerOptions(c) });

@Module({ imports: [EvidenceModule, UploadsModule], controllers: [EvidenceController] })
export class EvidenceApiModule {}

@Module({ imports: [EvidenceModule], providers: [EvidenceProcessor] })
export class EvidenceWorkerModule {}
