import { ExecutionContext, Global, Module } from '@nestjs/common';
import { ThrottlerModule, ThrottlerOptions } from '@nestjs/throttler';
import { ACCESS_KEY, AccessRule } from '../../common/access.js';
import { LOGIN_THROTTLE } from '../../common/rate-limit.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { isProbe, isWebhook, RateLimitGuard } from './rate-limit.guard.js';
import { RedisRateLimitStore } from './redis-rate-limit.store.js';

/** The Redis counters, for the guard and for the login lockout (AuthService). */
@Global()
@Module({ providers: [RedisRateLimitStore], exports: [RedisRateLimitStore] })
export class RateLimitStoreModule {}

const isPublic = (ctx: ExecutionContext) =>
  (Reflect.getMetadata(ACCESS_KEY, ctx.getHandler()) as AccessRule | undefined)?.kind === 'public' ||
  (Reflect.getMetadata(ACCESS_KEY, ctx.getClass()) as AccessRule | undefined)?.kind === 'public';

/** The throttlers every HTTP request meets; see src/common/rate-limit.ts. */
export function throttlers(config: AppConfig): ThrottlerOptions[] {
  const ms = config.rateLimit.windowSeconds * 1000;
  const path = (c: ExecutionContext) => RateLimitGuard.path(c);
  return [
    { name: 'global', limit: config.rateLimit.globalPerIp, ttl: ms, skipIf: (c) => isProbe(path(c)) || isWebhook(path(c)) },
    { name: 'webhook', limit: config.rateLimit.webhookPerIp, ttl: ms, skipIf: (c) => !isWebhook(path(c)) },
    { name: 'public', limit: config.rateLimit.publicPerIp, ttl: ms, skipIf: (c) => !isPublic(c) || isProbe(path(c)) || isWebhook(path(c)) },
    { name: 'login', limit: config.rateLimit.loginPerIp, ttl: ms, skipIf: (c) => Reflect.getMetadata(LOGIN_THROTTLE, c.getHandler()) !== true },
  ];
}

/**
 * @nestjs/throttler on the Redis store. The guard itself (RateLimitGuard) is mounted by
 * AccessGuardModule, before the access guard, since global guards run in the order
 * they are provided.
 */
export const RateLimitThrottlerModule = ThrottlerModule.forRootAsync({
  inject: [APP_CONFIG, RedisRateLimitStore],
  useFactory: (config: AppConfig, storage: RedisRateLimitStore) => ({ throttlers: throttlers(config), storage }),
});
