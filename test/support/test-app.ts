import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import request from 'supertest';
import { createApp } from '../../src/bootstrap.js';
import { AppConfig, loadConfig } from '../../src/config/configuration.js';
import { AuthService } from '../../src/modules/auth/auth.service.js';
import type { StaffRole } from '../../src/modules/auth/staff-user.entity.js';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-db.js';

export const TEST_PASSWORD = 'test-password-123456';

/** Test configuration: the test database, and a BullMQ prefix of its own per test file. */
export function testConfig(env: Record<string, string> = {}): AppConfig {
  return loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: `test-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
    PORT: '0',
    // The reconciler acts on every campaign in the database, which test files share:
    // off unless a test (on a database of its own) turns it on.
    RECONCILE_INTERVAL_MS: '3600000',
    // Test files log in many users and call many routes from 127.0.0.1; the real
    // defaults are tested in test/integration/rate-limit.test.ts.
    RATE_LIMIT_GLOBAL_PER_IP: '1000000',
    RATE_LIMIT_PUBLIC_PER_IP: '1000000',
    RATE_LIMIT_LOGIN_PER_IP: '1000000',
    ...env,
  });
}

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  http: () => ReturnType<typeof request>;
  ds: DataSource;
  /** Creates a staff user with this role and returns a bearer token for it. */
  staff(role: StaffRole): Promise<{ id: string; email: string; token: string }>;
  bank(name?: string): Promise<{ id: string; apiKey: string; name: string }>;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig(env);
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer();
  const ds = app.get(DataSource);
  const auth = app.get(AuthService);
  const http = () => request(server);
  return {
    app,
    config,
    http,
    ds,
    async staff(role) {
      const email = `${role}-${randomUUID().slice(0, 8)}@test.police.uk`;
      const user = await auth.createUser({ email, password: TEST_PASSWORD, role }, { type: 'system', id: 'test' });
      const res = await http().post('/api/auth/login').send({ email, password: TEST_PASSWORD }).expect(200);
      return { id: user.id, email, token: res.body.accessToken as string };
    },
    async bank(name = `Bank ${randomUUID().slice(0, 8)}`) {
      const bank = await auth.createBank({ name }, { type: 'system', id: 'test' });
      return { id: bank.id, apiKey: bank.apiKey, name };
    },
    close: () => app.close(),
  };
}
