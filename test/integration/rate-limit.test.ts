import { Controller, Get } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { Redis } from 'ioredis';
import { Public } from '../../src/common/access.js';
import { PublicRateLimit } from '../../src/common/rate-limit.js';
import { HttpErrorFilter } from '../../src/common/http-exception.filter.js';
import { AppConfigModule } from '../../src/config/config.module.js';
import { RateLimitGuard } from '../../src/modules/rate-limit/rate-limit.guard.js';
import { RateLimitStoreModule, RateLimitThrottlerModule } from '../../src/modules/rate-limit/rate-limit.module.js';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimitStore } from '../../src/modules/rate-limit/redis-rate-limit.store.js';
import { startTestApp, TestApp, testConfig } from '../support/test-app.js';
import { TEST_REDIS_URL } from '../support/test-db.js';

let nextAddress = 1;
const address = () => `203.0.113.${nextAddress++}`;

/** Two api processes of one deployment: the same database and the same Redis prefix. */
async function twoProcesses(env: Record<string, string>): Promise<[TestApp, TestApp]> {
  const prefix = `test-rl-${randomUUID().slice(0, 8)}`;
  const a = await startTestApp({ QUEUE_PREFIX: prefix, ...env });
  const b = await startTestApp({ QUEUE_PREFIX: prefix, ...env });
  return [a, b];
}

function expectTooMany(res: { status: number; body: unknown; headers: Record<string, string> }, maxSeconds: number) {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({ statusCode: 429, error: 'Too Many Requests', message: expect.stringMatching(/Retry-After/) });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

describe('rate limits with the real defaults, across two api processes', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    // An empty value counts as unset: these undo testConfig's high limits.
    [a, b] = await twoProcesses({ RATE_LIMIT_GLOBAL_PER_IP: '', RATE_LIMIT_PUBLIC_PER_IP: '', RATE_LIMIT_LOGIN_PER_IP: '', RATE_LIMIT_WEBHOOK_PER_IP: '' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('allows 30 login attempts per address per minute, counted across both processes; other addresses are not affected', async () => {
    expect(a.config.rateLimit).toEqual({ windowSeconds: 60, globalPerIp: 1200, publicPerIp: 60, loginPerIp: 30, webhookPerIp: 600_000 });
    const from = address();
    for (let i = 0; i < 30; i++) {
      const app = i % 2 ? a : b;
      // A new email each time, so the per-account lockout does not come first.
      const res = await app.http().post('/api/auth/login').set('x-forwarded-for', from).send({ email: `rl-${i}-${randomUUID().slice(0, 6)}@test.police.uk`, password: 'x' });
      expect(res.status, `attempt ${i + 1}`).toBe(401);
    }
    const refused = await a.http().post('/api/auth/login').set('x-forwarded-for', from).send({ email: 'rl-last@test.police.uk', password: 'x' });
    expectTooMany(refused, 60);
    const elsewhere = await b.http().post('/api/auth/login').set('x-forwarded-for', address()).send({ email: 'rl-last@test.police.uk', password: 'x' });
    expect(elsewhere.status).toBe(401);
  });

  it('keeps Redis keys under the deployment prefix, with no email or address in their names', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys = await redis.keys(`${a.config.queuePrefix}:rl:*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        expect(k).not.toMatch(/@|203\.0\.113/);
        expect(await redis.pttl(k)).toBeGreaterThan(0); // every counter expires by itself
      }
    } finally {
      redis.disconnect();
    }
  });
});

describe('rate limits: global, public and webhook limits are separate', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = await twoProcesses({ RATE_LIMIT_GLOBAL_PER_IP: '4', RATE_LIMIT_PUBLIC_PER_IP: '3', RATE_LIMIT_WEBHOOK_PER_IP: '6' });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('the global ceiling counts every route of both processes for one address', async () => {
    const from = address();
    const paths = ['/api/campaigns', '/api/victims', '/api/users', '/api/audit-events'];
    for (const [i, p] of paths.entries()) {
      expect((await (i % 2 ? a : b).http().get(p).set('x-forwarded-for', from)).status).toBe(401);
    }
    expectTooMany(await a.http().get('/api/campaigns').set('x-forwarded-for', from), 60);
    expect((await a.http().get('/api/campaigns').set('x-forwarded-for', address())).status).toBe(401);
  });

  it('public routes have a per-address limit of their own', async () => {
    const from = address();
    for (let i = 0; i < 3; i++) {
      expect((await (i % 2 ? a : b).http().post('/api/auth/login').set('x-forwarded-for', from).send({ email: `p${i}@test.police.uk`, password: 'x' })).status).toBe(401);
    }
    expectTooMany(await a.http().post('/api/auth/login').set('x-forwarded-for', from).send({ email: 'p9@test.police.uk', password: 'x' }), 60);
  });

  it('webhooks are limited apart from the low public and global limits, per process, and probes are never limited', async () => {
    const from = address();
    // The webhook ceiling is counted in each process (a flood guard; the signature is the
    // check): six on each process pass to the signature check, the seventh on one is refused.
    for (let i = 0; i < 12; i++) {
      // No signature: 403, but not a rate limit.
      expect((await (i % 2 ? a : b).http().post('/webhooks/twilio/status').set('x-forwarded-for', from).type('form').send({ MessageSid: 'SM1' })).status).toBe(403);
    }
    expectTooMany(await a.http().post('/webhooks/twilio/status').set('x-forwarded-for', from).type('form').send({ MessageSid: 'SM1' }), 60);
    for (let i = 0; i < 10; i++) expect((await a.http().get('/health').set('x-forwarded-for', from)).status).not.toBe(429);
  });
});

describe('while Redis cannot be reached', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ APP_ROLE: 'api', REDIS_URL: 'redis://127.0.0.1:6390', RATE_LIMIT_GLOBAL_PER_IP: '8' });
  });
  afterAll(() => t?.close());

  it('staff can still log in, and the lockout and the limits hold in the process', async () => {
    const user = await t.staff('operator');
    const from = address();
    for (let i = 0; i < 5; i++) {
      expect((await t.http().post('/api/auth/login').set('x-forwarded-for', from).send({ email: user.email, password: 'nope' })).status).toBe(401);
    }
    expect((await t.http().post('/api/auth/login').set('x-forwarded-for', from).send({ email: user.email, password: 'nope' })).status).toBe(429);
    const other = address();
    for (let i = 0; i < 8; i++) expect((await t.http().get('/api/campaigns').set('x-forwarded-for', other)).status).toBe(401);
    expectTooMany(await t.http().get('/api/campaigns').set('x-forwarded-for', other), 60);
  });
});

describe('a public route with a limit of its own', () => {
  @Controller('probe')
  class ProbeController {
    @Get('strict')
    @Public()
    @PublicRateLimit(2, 30)
    strict() {
      return { ok: true };
    }

    @Get('default')
    @Public()
    loose() {
      return { ok: true };
    }
  }

  it('@PublicRateLimit(limit, seconds) replaces RATE_LIMIT_PUBLIC_PER_IP for that route only', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppConfigModule.forRoot(testConfig({ RATE_LIMIT_PUBLIC_PER_IP: '5' })), RateLimitStoreModule, RateLimitThrottlerModule],
      controllers: [ProbeController],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    }).compile();
    const app = moduleRef.createNestApplication();
    app.useGlobalFilters(new HttpErrorFilter());
    await app.init();
    try {
      const http = () => request(app.getHttpServer());
      await http().get('/probe/strict').expect(200);
      await http().get('/probe/strict').expect(200);
      expectTooMany(await http().get('/probe/strict'), 30);
      for (let i = 0; i < 5; i++) await http().get('/probe/default').expect(200);
      expectTooMany(await http().get('/probe/default'), 60);
    } finally {
      await app.close();
    }
  });
});

describe('the Redis store', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('lets exactly `limit` parallel hits through, then blocks for the block duration', async () => {
    const store = t.app.get(RedisRateLimitStore);
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 40 }, () => store.increment(key, 60_000, 10, 5_000, 'test')));
    expect(results.filter((r) => !r.isBlocked)).toHaveLength(10);
    const blocked = results.filter((r) => r.isBlocked);
    expect(blocked).toHaveLength(30);
    expect(Math.max(...blocked.map((r) => r.timeToBlockExpire))).toBe(5);
  });
});
