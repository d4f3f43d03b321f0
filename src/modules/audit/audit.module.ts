import { Global, Module } from '@nestjs/common';
import { AuditService } from './audit.service.js';
import { AuditController } from './audit.controller.js';

@Global()
@Module({ providers: [AuditService], exports: [AuditService] })
export class AuditModule {}

/** The HTTP side (read access for admins) is only mounted by the api role. */
@Module({ controllers: [AuditController] })
export class AuditApiModule {}
