import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
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

/** Throttlers counted per process rather than in Redis (see `increment`). */
const PER_PROCESS = new Set(['webhook']);

type ScriptedRedis = Redis & {
  rateLimitHit(hitsKey: string, blockKey: string, windowMs: number, threshold: number, blockMs: number): Promise<[number, number, number, number]>;
};

/**
 * Rate-limit counters in Redis, under `<QUEUE_PREFIX>:rl:`, so a limit holds across every
 * api process of a deployment and parallel test runs (one prefix each) never collide.
 * Trackers (addresses, emails) are hashed: no personal data in Redis key names.
 */
@Injectable()
export class RedisRateLimitStore implements ThrottlerStorage, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RedisRateLimitStore.name);
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;

  /** Used while Redis cannot be reached: the same rules, per process. */
  private readonly local = new LocalCounters();
  private redisDown = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.prefix = `${config.queuePrefix}:rl`;
    // No offline queue: while Redis is away a command fails at once and the local
    // counters answer, rather than every request waiting for a reconnect.
    this.redis = new Redis({ ...redisOptions(config.redisUrl), enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1000 }) as ScriptedRedis;
    this.redis.defineCommand('rateLimitHit', { numberOfKeys: 2, lua: HIT_SCRIPT });
    this.redis.on('error', () => undefined); // reported once per outage by onRedis()
  }

  /**
   * Waits (up to a second) for the connection, so that the first requests after start are
   * not counted in memory while the next ones go to Redis.
   */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, 1000);
      timer.unref();
      this.redis.once('ready', done);
    });
  }

  /** Counts one hit of `tracker` under `name`; the key is blocked once `threshold` hits fall in one window. */
  async hit(name: string, tracker: string, windowMs: number, threshold: number, blockMs: number): Promise<HitResult> {
    const k = this.key(name, tracker);
    return this.onRedis(
      async () => {
        const [hits, ttl, blocked, just] = await this.redis.rateLimitHit(`${k}:h`, `${k}:b`, windowMs, threshold, blockMs);
        return { hits, windowMs: ttl, blockedMs: blocked, justBlocked: just === 1 };
      },
      () => this.local.hit(k, windowMs, threshold, blockMs),
    );
  }

  /** How long `tracker` stays blocked under `name`, in ms (0: not blocked); counts nothing. */
  async blockedFor(name: string, tracker: string): Promise<number> {
    const k = this.key(name, tracker);
    return this.onRedis(async () => Math.max(0, await this.redis.pttl(`${k}:b`)), () => this.local.blockedFor(k));
  }

  /** Forgets the hits and any block of `tracker` under `name`. */
  async reset(name: string, tracker: string): Promise<void> {
    const k = this.key(name, tracker);
    this.local.reset(k);
    await this.onRedis(async () => void (await this.redis.del(`${k}:h`, `${k}:b`)), () => undefined);
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
    const k = this.key(name, tracker);
    await this.onRedis(async () => void (await this.redis.set(`${k}:m`, '1', 'PX', ttlMs)), () => this.local.remember(k, ttlMs));
  }

  async remembers(name: string, tracker: string): Promise<boolean> {
    const k = this.key(name, tracker);
    return this.onRedis(async () => (await this.redis.exists(`${k}:m`)) === 1, () => this.local.remembers(k));
  }

  /** @nestjs/throttler's storage: `limit` requests pass in each window, the next one is blocked. */
  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): ReturnType<ThrottlerStorage['increment']> {
    // The webhook ceiling is counted in this process only: it guards against a flood of
    // unsigned junk (the signature is the real check), and a Redis round trip on every one
    // of Twilio's callbacks halved the receipts path's throughput.
    // (Not hashed: the hash keeps addresses out of Redis key names, and this never leaves the process.)
    const r = PER_PROCESS.has(throttlerName)
      ? this.local.hit(`${throttlerName}:${key}`, ttl, limit + 1, blockDuration)
      : await this.hit(throttlerName, key, ttl, limit + 1, blockDuration);
    return {
      totalHits: r.hits,
      timeToExpire: Math.ceil(r.windowMs / 1000),
      isBlocked: r.blockedMs > 0,
      timeToBlockExpire: Math.ceil(r.blockedMs / 1000),
    };
  }

  /**
   * Limits that hold per process while Redis is away are better than none (unlimited
   * password guesses) and better than refusing everyone (staff locked out in an incident).
   */
  private async onRedis<T>(shared: () => Promise<T>, local: () => T): Promise<T> {
    if (this.redis.status === 'ready') {
      try {
        const result = await shared();
        if (this.redisDown) this.logger.warn('Redis is back: rate limits are shared by every process again');
        this.redisDown = false;
        return result;
      } catch (err) {
        this.noteDown((err as Error).message);
      }
    } else {
      this.noteDown(`connection ${this.redis.status}`);
    }
    return local();
  }

  private noteDown(why: string): void {
    if (!this.redisDown) this.logger.warn(`Redis cannot be reached (${why}): rate limits and login locks hold per process until it is back`);
    this.redisDown = true;
  }

  private key(name: string, tracker: string): string {
    return `${this.prefix}:${name}:{${createHash('sha256').update(tracker).digest('base64url').slice(0, 32)}}`;
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}

/** The Lua script's rules in memory, for one process. */
class LocalCounters {
  private readonly hits = new Map<string, { n: number; until: number }>();
  private readonly until = new Map<string, number>(); // blocks and remembered facts: key -> expiry

  hit(k: string, windowMs: number, threshold: number, blockMs: number): HitResult {
    const now = Date.now();
    const blocked = this.blockedFor(k);
    if (blocked > 0) return { hits: threshold, windowMs: 0, blockedMs: blocked, justBlocked: false };
    this.sweep(now);
    let h = this.hits.get(k);
    if (!h || h.until <= now) h = { n: 0, until: now + windowMs };
    h.n++;
    if (h.n >= threshold) {
      this.hits.delete(k);
      this.until.set(`${k}:b`, now + blockMs);
      return { hits: h.n, windowMs: h.until - now, blockedMs: blockMs, justBlocked: true };
    }
    this.hits.set(k, h);
    return { hits: h.n, windowMs: h.until - now, blockedMs: 0, justBlocked: false };
  }

  blockedFor(k: string): number {
    return Math.max(0, (this.until.get(`${k}:b`) ?? 0) - Date.now());
  }

  reset(k: string): void {
    this.hits.delete(k);
    this.until.delete(`${k}:b`);
  }

  remember(k: string, ttlMs: number): void {
    this.until.set(`${k}:m`, Date.now() + ttlMs);
  }

  remembers(k: string): boolean {
    return (this.until.get(`${k}:m`) ?? 0) > Date.now();
  }

  // An outage under a flood must not grow memory without end.
  private sweep(now: number): void {
    if (this.hits.size + this.until.size < 100_000) return;
    for (const [k, h] of this.hits) if (h.until <= now) this.hits.delete(k);
    for (const [k, t] of this.until) if (t <= now) this.until.delete(k);
  }
}
