import { DynamicModule, Module, Type } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { pinoParams } from './common/logging.js';
import { APP_CONFIG, AppConfigModule } from './config/config.module.js';
import { AppConfig, AppRole, loadConfig } from './config/configuration.js';
import { dataSourceOptions } from './database/data-source.js';
import { AuditApiModule, AuditModule } from './modules/audit/audit.module.js';
import { AccessGuardModule, AuthApiModule, AuthModule } from './modules/auth/auth.module.js';
import { EvidenceApiModule, EvidenceWorkerModule } from './modules/evidence/evidence.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { VictimsApiModule, VictimsWorkerModule } from './modules/victims/victims.module.js';
import { SuppressionsApiModule, SuppressionsWorkerModule } from './modules/suppressions/suppressions.module.js';
import { CampaignsApiModule } from './modules/campaigns/campaigns.module.js';
import { DeliveryApiModule, DeliveryWorkerModule } from './modules/delivery/delivery.module.js';
import { SettingsApiModule } from './modules/settings/settings.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { QueuesApiModule } from './modules/queues/queues-api.module.js';
import { QueuesWorkerModule } from './modules/queues/queues-worker.module.js';
import { QueuesModule } from './modules/queues/queues.module.js';
import { ResponsesApiModule } from './modules/responses/responses.module.js';

/** Modules every role needs: configuration, logs, database, audit, credentials, queues. */
export function coreImports(config: AppConfig, logTo?: DestinationStream): Array<Type | DynamicModule> {
  return [
    AppConfigModule.forRoot(config),
    LoggerModule.forRoot(pinoParams(config.logLevel, logTo)),
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => dataSourceOptions(c.databaseUrl),
    }),
    AuditModule,
    AuthModule,
    QueuesModule.forRoot(),
  ];
}

/** HTTP: controllers, webhooks, pages. */
const API_MODULES: Array<Type | DynamicModule> = [
  AuthApiModule,
  AuditApiModule,
  QueuesApiModule,
  MetricsModule,
  EvidenceApiModule,
  VictimsApiModule,
  SuppressionsApiModule,
  CampaignsApiModule,
  SettingsApiModule,
  DeliveryApiModule,
  ResponsesApiModule,
];

/** BullMQ processors and schedulers. */
const WORKER_MODULES: Array<Type | DynamicModule> = [QueuesWorkerModule, EvidenceWorkerModule, VictimsWorkerModule, DeliveryWorkerModule, SuppressionsWorkerModule];

/**
 * One codebase, two roles (DESIGN.md §3). The worker role serves only /health (and
 * /metrics) over HTTP; `all` runs both in one process.
 */
@Module({})
export class AppModule {
  /** `logTo`: where logs go (stdout by default; the CLI's demo sends a worker's to stderr). */
  static forRole(role: AppRole, config: AppConfig = loadConfig(), logTo?: DestinationStream): DynamicModule {
    const imports = [...coreImports(config, logTo), AccessGuardModule, HealthModule];
    if (role === 'api' || role === 'all') imports.push(...API_MODULES);
    if (role === 'worker' || role === 'all') imports.push(...WORKER_MODULES);
    if (role === 'worker') imports.push(MetricsModule);
    return { module: AppModule, imports };
  }
}
