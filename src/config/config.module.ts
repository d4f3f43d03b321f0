import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig, loadConfig } from './configuration.js';

export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Provides the validated AppConfig under the APP_CONFIG token. Tests and the CLI pass a
 * ready config; the server loads it from the environment once.
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig = loadConfig()): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}
