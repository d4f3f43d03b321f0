import 'reflect-metadata';
import { HttpException, Module } from '@nestjs/common';
import { CommandFactory } from 'nest-commander';
import pino from 'pino';
import { LoggerModule } from 'nestjs-pino';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BankCreateCommand } from './cli/bank-create.command.js';
import { CliError } from './cli/cli-error.js';
import { UserCreateCommand } from './cli/user-create.command.js';
import { UserDisableCommand, UserEnableCommand, UserSetPasswordCommand, UserSetRoleCommand, UserUnlockCommand } from './cli/user-admin.command.js';
import { DatasetGenerateCommand } from './cli/dataset-generate.command.js';
import { DemoCommand } from './cli/demo.command.js';
import { ContactsImportCommand, EvidenceImportCommand } from './cli/evidence-import.command.js';
import { VictimsMatchCommand } from './cli/victims-match.command.js';
import { EvidenceModule } from './modules/evidence/evidence.module.js';
import { VictimsModule } from './modules/victims/victims.module.js';
import { CampaignsModule } from './modules/campaigns/campaigns.module.js';
import { SettingsModule } from './modules/settings/settings.module.js';
import { QueuesModule } from './modules/queues/queues.module.js';
import { pinoParams } from './common/logging.js';
import { APP_CONFIG, AppConfigModule } from './config/config.module.js';
import { AppConfig, ConfigError, loadConfig } from './config/configuration.js';
import { dataSourceOptions, migrate } from './database/data-source.js';
import { AuditModule } from './modules/audit/audit.module.js';
import { AuthModule } from './modules/auth/auth.module.js';
import { InputError } from './modules/auth/auth.service.js';

const COMMANDS = [
  UserCreateCommand,
  UserDisableCommand,
  UserEnableCommand,
  UserSetRoleCommand,
  UserSetPasswordCommand,
  UserUnlockCommand,
  BankCreateCommand,
  DatasetGenerateCommand,
  EvidenceImportCommand,
  ContactsImportCommand,
  VictimsMatchCommand,
  DemoCommand,
];

function cliModule(config: AppConfig) {
  @Module({
    imports: [
      AppConfigModule.forRoot(config),
      // Logs go to stderr so that stdout carries only the command's JSON.
      LoggerModule.forRoot(pinoParams(process.env.LOG_LEVEL ?? 'warn', pino.destination(2))),
      TypeOrmModule.forRootAsync({ inject: [APP_CONFIG], useFactory: (c: AppConfig) => dataSourceOptions(c.databaseUrl) }),
      AuditModule,
      AuthModule,
      QueuesModule.forRoot(),
      EvidenceModule,
      VictimsModule,
      CampaignsModule,
      SettingsModule,
    ],
    providers: COMMANDS,
  })
  class CliModule {}
  return CliModule;
}

function fail(message: string): void {
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  // Every command works on a fresh machine: the database is created and migrated first.
  await migrate(config.databaseUrl);
  await CommandFactory.run(cliModule(config), {
    logger: ['error', 'warn'],
    errorHandler: (err: Error & { exitCode?: number }) => {
      // commander's own errors (unknown option, missing argument) have already been printed.
      if (err.exitCode !== 0) process.exitCode = err.exitCode || 1;
      else process.exitCode = 0;
    },
    serviceErrorHandler: (err: Error) => {
      if (err instanceof InputError || err instanceof CliError) return fail(err.message);
      if (err instanceof HttpException) return fail(err.message);
      fail(err.stack ?? String(err));
    },
  });
}

main().catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err));
});
