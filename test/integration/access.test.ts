import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_KEY, AccessRule } from '../../src/common/access.js';
import { STAFF_ROLES, StaffRole } from '../../src/modules/auth/staff-user.entity.js';
import { startTestApp, TestApp, TEST_PASSWORD } from '../support/test-app.js';
import { listRoutes } from '../support/routes.js';

/**
 * The access table: every route the api serves and who may call it. A new route that is
 * not listed here, or whose declared rule differs, fails this test.
 */
const ACCESS: Record<string, 'public' | 'bank' | StaffRole[]> = {
  'GET /health': 'public',
  'GET /metrics': 'public',
  'POST /api/auth/login': 'public',
  'GET /api/audit-events': ['admin'],
  'POST /api/admin/queue-probes': ['admin'],
  'GET /api/admin/queue-probes/:id': ['admin'],
  'GET /api/bank/profile': 'bank',
  'POST /api/evidence/imports': ['admin', 'supervisor', 'operator'],
  'GET /api/evidence/imports': ['admin', 'supervisor', 'operator', 'analyst'],
  'GET /api/evidence/imports/:id': ['admin', 'supervisor', 'operator', 'analyst'],
  'POST /api/contacts/imports': ['admin', 'supervisor', 'operator'],
  'GET /api/contacts/imports/:id': ['admin', 'supervisor', 'operator', 'analyst'],
  'POST /api/victims/match': ['admin', 'supervisor', 'operator'],
  'GET /api/victims': ['admin', 'supervisor', 'operator', 'analyst'],
  'GET /api/victims/:id': ['admin', 'supervisor', 'operator', 'analyst'],
  'POST /api/templates/preview': ['admin', 'supervisor', 'operator', 'analyst'],
  'POST /api/campaigns': ['admin', 'supervisor', 'operator'],
  'GET /api/campaigns': ['admin', 'supervisor', 'operator', 'analyst'],
  'GET /api/campaigns/:id': ['admin', 'supervisor', 'operator', 'analyst'],
  'PATCH /api/campaigns/:id': ['admin', 'supervisor', 'operator'],
  'GET /api/campaigns/:id/preview': ['admin', 'supervisor', 'operator', 'analyst'],
  'GET /api/campaigns/:id/stats': ['admin', 'supervisor', 'operator', 'analyst'],
  'POST /webhooks/twilio/status': 'public',
  'GET /api/messages': ['admin', 'supervisor'],
  'POST /api/messages/:id/resolve': ['admin', 'supervisor'],
  'POST /api/campaigns/:id/submit': ['admin', 'supervisor', 'operator'],
  'POST /api/campaigns/:id/approve': ['admin', 'supervisor'],
  'POST /api/campaigns/:id/launch': ['admin', 'supervisor'],
  'POST /api/campaigns/:id/pause': ['admin', 'supervisor'],
  'POST /api/campaigns/:id/resume': ['admin', 'supervisor'],
  'POST /api/campaigns/:id/cancel': ['admin', 'supervisor'],
  'GET /api/settings/provider-rates': ['admin', 'supervisor', 'operator', 'analyst'],
  'PUT /api/settings/provider-rates': ['admin'],
  'POST /api/suppressions': ['admin', 'supervisor', 'operator'],
  'GET /api/suppressions': ['admin', 'supervisor', 'operator', 'analyst'],
  'DELETE /api/suppressions/:id': ['admin'],
  'POST /api/suppressions/imports': ['admin', 'supervisor', 'operator'],
  'GET /api/suppressions/imports/:id': ['admin', 'supervisor', 'operator', 'analyst'],
  'POST /api/suppressions/:id/removal-requests': ['admin'],
  'GET /api/suppressions/removal-requests': ['admin', 'supervisor'],
  'POST /api/suppressions/removal-requests/:id/approve': ['admin', 'supervisor'],
  'POST /api/suppressions/removal-requests/:id/reject': ['admin', 'supervisor'],
  // the link's token is the capability (RFC 8058 one-click: mail clients send no cookie)
  'GET /unsubscribe/:token': 'public',
  'POST /unsubscribe/:token': 'public',
  'GET /assets/*path': 'public',
  'POST /api/auth/logout': ['admin', 'supervisor', 'operator', 'analyst'],
  'GET /api/users': ['admin'],
  'PATCH /api/users/:id': ['admin'],
};

describe('access control on every route', () => {
  let t: TestApp;
  let tokens: Record<StaffRole, string>;
  let emails: Record<StaffRole, string>;
  let bankKey: string;

  beforeAll(async () => {
    t = await startTestApp();
    tokens = {} as Record<StaffRole, string>;
    emails = {} as Record<StaffRole, string>;
    for (const role of STAFF_ROLES) ({ token: tokens[role], email: emails[role] } = await t.staff(role));
    bankKey = (await t.bank()).apiKey;
  });
  afterAll(() => t.close());

  it('lists exactly the routes in the access table, each with the rule it declares', () => {
    const routes = listRoutes(t.app);
    const served = Object.fromEntries(
      routes.map((r) => {
        const rule = Reflect.getMetadata(ACCESS_KEY, r.handler) as AccessRule | undefined;
        return [`${r.method} ${r.path}`, rule ? (rule.kind === 'staff' ? [...rule.roles].sort() : rule.kind) : 'NONE'];
      }),
    );
    const expected = Object.fromEntries(
      Object.entries(ACCESS).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]),
    );
    expect(served).toEqual(expected);
  });

  for (const [route, rule] of Object.entries(ACCESS)) {
    const [method, rawPath] = route.split(' ');
    const path = rawPath.replace(/:id\b/g, '00000000-0000-0000-0000-000000000000');
    const call = () => (t.http() as unknown as Record<string, (p: string) => import('supertest').Test>)[method.toLowerCase()](path);

    if (rule === 'public') continue;
    it(`${route}: 401 without credentials`, async () => {
      const res = await call();
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    if (rule === 'bank') {
      it(`${route}: 401 with a staff token or a wrong key`, async () => {
        expect((await call().set('authorization', `Bearer ${tokens.admin}`)).status).toBe(401);
        expect((await call().set('authorization', 'Bearer obk_not-a-real-key')).status).toBe(401);
        expect((await call().set('authorization', `Bearer ${bankKey}`)).status).not.toBe(401);
      });
      continue;
    }

    for (const role of STAFF_ROLES) {
      const allowed = rule.includes(role);
      it(`${route}: ${role} is ${allowed ? 'let through' : 'refused with 403'}`, async () => {
        const res = await call().set('authorization', `Bearer ${tokens[role]}`);
        if (allowed) expect([401, 403]).not.toContain(res.status);
        else expect(res.status).toBe(403);
        // Logging out ends the token the other routes use.
        if (route === 'POST /api/auth/logout') {
          const login = await t.http().post('/api/auth/login').send({ email: emails[role], password: TEST_PASSWORD }).expect(200);
          tokens[role] = login.body.accessToken as string;
        }
      });
    }
    it(`${route}: a bank key is not a staff token`, async () => {
      expect((await call().set('authorization', `Bearer ${bankKey}`)).status).toBe(401);
    });
  }
});
