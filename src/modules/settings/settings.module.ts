import { Module } from '@nestjs/common';
import { ApplyProviderRatesOnStart, ProviderRatesService } from './provider-rates.service.js';
import { SettingsController } from './settings.controller.js';

/** Runtime settings kept in Postgres: the providers' global sending rates. */
@Module({ providers: [ProviderRatesService], exports: [ProviderRatesService] })
export class SettingsModule {}

@Module({ imports: [SettingsModule], controllers: [SettingsController], providers: [ApplyProviderRatesOnStart] })
export class SettingsApiModule {}
