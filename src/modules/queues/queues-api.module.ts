import { Module } from '@nestjs/common';
import { QueueProbeController } from './queue-probe.controller.js';

@Module({ controllers: [QueueProbeController] })
export class QueuesApiModule {}
