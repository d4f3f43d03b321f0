import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { redisOptions } from '../queues/redis-options.js';

/**
 * Counts hits in a fixed window and, once `threshold` is reached, blocks the key for
 * `blockMs` and starts a fresh window. One script, so parallel requests on any number
 * of api processes cannot both slip under the limit. KEYS share a hash tag so the
 * script also runs on Redis Cluster.
 */
const HIT_SCRIPT = `
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return {tonumber(ARGV[2]), 0, blocked, 0} end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return {hits, ttl, tonumber(ARGV[3]), 1}
end
return {hits, ttl, 0, 0}
`;

export interface HitResult {
  hits: number;
  /** Until the window ends, in ms. */
  windowMs: number;
  /** How long the key stays blocked, in ms; 0 when it is not blocked. */
  blockedMs: number;
  /** This hit reached the threshold and started the block. */
  justBlocked: boolean;
}

type ScriptedRedis = Redis & {
  rateLimitHit(hitsKey: string, blockKey: string, windowMs: number, threshold: number, blockMs: number): Promise<[number, number, number, number]>;
};

/**
 * Rate-limit counters in Redis, under `<QUEUE_PREFIX>:rl:`, so a limit holds across every
 * api process of a deployment and parallel test runs (one prefix each) never collide.
 * Trackers (addresses, emails) are hashed: no personal data in Redis key names.
 */
@Injectable()
export class RedisRateLimitStore implements ThrottlerStorage, OnModuleDestroy {
  private readonly logger = new Logger(RedisRateLimitStore.name);
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = `${config.queuePrefix}:rl`;
    // A command that cannot reach Redis fails within a second instead of holding the request.
    this.redis = new Redis({ ...redisOptions(config.redisUrl), lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 1000 }) as ScriptedRedis;
    this.redis.defineCommand('rateLimitHit', { numberOfKeys: 2, lua: HIT_SCRIPT });
    this.redis.on('error', (err: Error) => this.logger.warn(`Redis (rate limits): ${err.message}`));
  }

  /** Counts one hit of `tracker` under `name`; the key is blocked once `threshold` hits fall in one window. */
  async hit(name: string, tracker: string, windowMs: number, threshold: number, blockMs: number): Promise<HitResult> {
    const k = this.key(name, tracker);
    const [hits, ttl, blocked, just] = await this.redis.rateLimitHit(`${k}:h`, `${k}:b`, windowMs, threshold, blockMs);
    return { hits, windowMs: ttl, blockedMs: blocked, justBlocked: just === 1 };
  }

  /** How long `tracker` stays blocked under `name`, in ms (0: not blocked); counts nothing. */
  async blockedFor(name: string, tracker: string): Promise<number> {
    return Math.max(0, await this.redis.pttl(`${this.key(name, tracker)}:b`));
  }

  /** Forgets the hits and any block of `tracker` under `name`. */
  async reset(name: string, tracker: string): Promise<void> {
    const k = this.key(name, tracker);
    await this.redis.del(`${k}:h`, `${k}:b`);
  }

  /** Forgets every counter whose name starts with `namePrefix` (all addresses of one email). */
  async resetAll(namePrefix: string): Promise<number> {
    let removed = 0;
    for await (const keys of this.redis.scanStream({ match: `${this.prefix}:${namePrefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length) removed += await this.redis.del(...keys);
    }
    return removed;
  }

  /** Remembers a fact about `tracker` for `ttlMs` (a client address that logged in before). */
  async remember(name: string, tracker: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.key(name, tracker)}:m`, '1', 'PX', ttlMs);
  }

  async remembers(name: string, tracker: string): Promise<boolean> {
    return (await this.redis.exists(`${this.key(name, tracker)}:m`)) === 1;
  }

  /** @nestjs/throttler's storage: `limit` requests pass in each window, the next one is blocked. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): ReturnType<ThrottlerStorage['increment']> {
    const r = await this.hit(throttlerName, key, ttl, limit + 1, blockDuration);
    return {
      totalHits: r.hits,
      timeToExpire: Math.ceil(r.windowMs / 1000),
      isBlocked: r.blockedMs > 0,
      timeToBlockExpire: Math.ceil(r.blockedMs / 1000),
    };
  }

  private key(name: string, tracker: string): string {
    return `${this.prefix}:${name}:{${createHash('sha256').update(tracker).digest('base64url').slice(0, 32)}}`;
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
