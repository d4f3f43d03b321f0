import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { ThrottlerException, ThrottlerGuard, ThrottlerLimitDetail, ThrottlerRequest } from '@nestjs/throttler';
import type { Request } from 'express';
import { TooManyRequestsError } from '../../common/rate-limit.js';

/** Probes and scrapers are not callers to limit: an orchestrator must always reach them. */
export function isProbe(path: string): boolean {
  return path === '/health' || path.startsWith('/health/') || path === '/metrics';
}

export function isWebhook(path: string): boolean {
  return path.startsWith('/webhooks/');
}

/**
 * @nestjs/throttler's guard with the house rules: every 429 has the standard body and a
 * plain `Retry-After` (the library names it `Retry-After-<throttler>`). While Redis is
 * away the store counts per process; should the store itself fail, the request passes
 * (logged) rather than turn a limiter fault into an outage.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly log = new Logger(RateLimitGuard.name);

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const path = RateLimitGuard.path(context);
    if (isWebhook(path)) return this.webhook(context);
    return super.canActivate(context);
  }

  /**
   * Twilio's callbacks meet only the webhook ceiling, counted in this process: the
   * throttler's walk over every named limit, and a Redis round trip, on each of thousands
   * of callbacks a second cost a third of the receipts path's throughput, for a limit
   * that only guards against a flood of unsigned junk (the signature is the real check).
   */
  private async webhook(context: ExecutionContext): Promise<boolean> {
    const t = this.throttlers.find((x) => x.name === 'webhook');
    if (!t || typeof t.limit !== 'number' || typeof t.ttl !== 'number') return true;
    const req = context.switchToHttp().getRequest<Request>();
    const block = typeof t.blockDuration === 'number' ? t.blockDuration : t.ttl;
    const r = await this.storageService.increment(req.ip ?? 'unknown', t.ttl, t.limit, block, 'webhook');
    if (r.isBlocked) await this.throwThrottlingException(context, { ...r, limit: t.limit, ttl: t.ttl, key: 'webhook', tracker: req.ip ?? 'unknown' });
    return true;
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(props);
    } catch (err) {
      if (err instanceof TooManyRequestsError || err instanceof ThrottlerException) throw err;
      this.log.warn(`Rate limit not checked (${props.throttler.name}): ${(err as Error).message}`);
      return true;
    }
  }

  protected override generateKey(context: ExecutionContext, tracker: string, name: string): string {
    // `global` and `webhook` count an address across routes; the others per route.
    if (name === 'global' || name === 'webhook') return tracker;
    return `${context.getClass().name}.${context.getHandler().name}:${tracker}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new TooManyRequestsError(
      'Too many requests from your address; wait for the number of seconds in the Retry-After header, then try again',
      detail.timeToBlockExpire,
    );
  }

  static path(context: ExecutionContext): string {
    return context.switchToHttp().getRequest<Request>().path;
  }
}
