import { Module } from '@nestjs/common';
import { EvidenceModule, UploadsModule } from '../evidence/evidence.module.js';
import { VictimMatchingService } from './victim-matching.service.js';
import { ContactImportsController, VictimsController } from './victims.controller.js';
import { VictimsProcessor } from './victims.processor.js';
import { VictimsService } from './victims.service.js';

/** Potential victims: matching, scoring, contact enrichment and queries. */
@Module({
  imports: [EvidenceModule],
  providers: [VictimMatchingService, VictimsService],
  exports: [VictimMatchingService, VictimsService],
})
export class VictimsModule {}

@Module({ imports: [VictimsModule, EvidenceModule, UploadsModule], controllers: [VictimsController, ContactImportsController] })
export class VictimsApiModule {}

@Module({ imports: [VictimsModule, EvidenceModule], providers: [VictimsProcessor] })
export class VictimsWorkerModule {}
