import { Module } from '@nestjs/common';
import { UploadsModule } from '../evidence/evidence.module.js';
import { SuppressionImportsController, SuppressionsController } from './suppressions.controller.js';
import { SuppressionsService } from './suppressions.service.js';

/** The do-not-contact list the compliance gate consults. */
@Module({ providers: [SuppressionsService], exports: [SuppressionsService] })
export class SuppressionsModule {}

@Module({ imports: [SuppressionsModule, UploadsModule], controllers: [SuppressionsController, SuppressionImportsController] })
export class SuppressionsApiModule {}
