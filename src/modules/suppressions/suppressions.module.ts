import { Module } from '@nestjs/common';
import { UploadsModule } from '../evidence/evidence.module.js';
import { SuppressionImportsController, SuppressionRemovalsController, SuppressionsController } from './suppressions.controller.js';
import { SuppressionsProcessor } from './suppressions.processor.js';
import { SuppressionsService } from './suppressions.service.js';

/** The do-not-contact list the compliance gate consults. */
@Module({ providers: [SuppressionsService], exports: [SuppressionsService] })
export class SuppressionsModule {}

@Module({
  imports: [SuppressionsModule, UploadsModule],
  controllers: [SuppressionRemovalsController, SuppressionImportsController, SuppressionsController],
})
export class SuppressionsApiModule {}

@Module({ imports: [SuppressionsModule], providers: [SuppressionsProcessor] })
export class SuppressionsWorkerModule {}
