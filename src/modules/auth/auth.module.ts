import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { AccessGuard } from './access.guard.js';
import { AuthController } from './auth.controller.js';
import { BankProfileController } from './bank-profile.controller.js';
import { AuthService } from './auth.service.js';
import { BankAuthService } from './bank-auth.service.js';

const jwt = JwtModule.registerAsync({
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => ({ secret: config.jwtSecret, signOptions: { algorithm: 'HS256' }, verifyOptions: { algorithms: ['HS256'] } }),
});

/** Users, banks and their credentials; used by the CLI as well as the api. */
@Global()
@Module({
  imports: [jwt],
  providers: [AuthService, BankAuthService],
  exports: [AuthService, BankAuthService, jwt],
})
export class AuthModule {}

/** The global deny-by-default guard: every role that serves HTTP mounts it. */
@Module({ providers: [{ provide: APP_GUARD, useClass: AccessGuard }] })
export class AccessGuardModule {}

/** The api role's routes: staff login and the bank's own profile. */
@Module({ controllers: [AuthController, BankProfileController] })
export class AuthApiModule {}
