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
import { LoginLockout } from './login-lockout.js';
import { StaffAccessCache } from './staff-access.cache.js';
import { StaffUsersRepository } from './staff-users.repository.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';
import { RateLimitStoreModule, RateLimitThrottlerModule } from '../rate-limit/rate-limit.module.js';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard.js';
import { UnexpectedInputGuard } from '../../common/validation.js';

const jwt = JwtModule.registerAsync({
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => ({
    secret: config.jwtSecret,
    signOptions: { algorithm: 'HS256', issuer: config.jwtIssuer, audience: config.jwtAudience },
    verifyOptions: { algorithms: ['HS256'], issuer: config.jwtIssuer, audience: config.jwtAudience },
  }),
});

/** Users, banks and their credentials; used by the CLI as well as the api. */
@Global()
@Module({
  imports: [jwt, RateLimitStoreModule],
  providers: [AuthService, BankAuthService, StaffUsersRepository, StaffAccessCache, LoginLockout, UsersService],
  exports: [AuthService, BankAuthService, StaffAccessCache, UsersService, jwt],
})
export class AuthModule {}

/**
 * The global guards every role that serves HTTP mounts: rate limits first (so floods of
 * bad tokens are limited too), then deny-by-default access.
 */
@Module({
  imports: [RateLimitThrottlerModule],
  providers: [
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: APP_GUARD, useClass: AccessGuard },
    // After the access guard: input a route does not read is refused (see validation.ts).
    { provide: APP_GUARD, useClass: UnexpectedInputGuard },
  ],
})
export class AccessGuardModule {}

/** The api role's routes: staff login and logout, user administration, the bank's own profile. */
@Module({ controllers: [AuthController, UsersController, BankProfileController] })
export class AuthApiModule {}
