import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { DiscoveryService } from '@nestjs/core';
import { getMetadataStorage } from 'class-validator';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_KEY, type AccessRule } from '../../src/common/access.js';
import { STAFF_ROLES, type StaffRole } from '../../src/modules/auth/staff-user.entity.js';
import { ALWAYS_OPEN, SMS_TEMPLATE } from '../support/campaigns.js';
import { listRoutes, type RouteInfo } from '../support/routes.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { ownDatabase } from '../support/test-db.js';

/**
 * The bad-input corpus: every route the app serves (so routes added later are covered
 * without a line here), called with the right credentials and bad values in each path
 * parameter, in the usual query parameters and as JSON bodies. Whatever the input: never
 * a 5xx, always the standard error shape, and no row written anywhere (every table is
 * compared before and after, in a database of this file's own). The only writes a
 * refused request may make are failed-login audit rows.
 */

/** Path and query values, already percent-encoded as a client would send them. */
const URL_VALUES = [
  '-'.repeat(36), '%00', 'a%00b', '%ED%A0%80' /* a lone surrogate, as CESU-8 */, '%FF%FE', '1e300', '-1', '3000000000', '1.5', 'NaN',
  'Infinity', '2024-W01-1', '2024-001', '2024-02-30', '2024-01-01T25:00:00Z', "1'%20OR%20'1'%3D'1", '%3Bselect%20pg_sleep(5)--', 'a'.repeat(3000),
  '__proto__', 'constructor', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'null', 'undefined', '%F0%9F%98%80', '00000000-0000-0000-0000-000000000000',
  '3F2B8C1E-9A4D-4E2F-8B1A-0C9D8E7F6A5Z', '%20', '',
];

/** The values each query parameter a route reads gets on its own. */
const SHARP_URL_VALUES = ['-'.repeat(36), '%00', '%ED%A0%80', '1e300', '-1', '3000000000', '2024-W01-1', '2024-02-30', "1'%20OR%20'1'%3D'1", 'a'.repeat(3000), '__proto__', ''];

const QUERY_NAMES = [
  'cursor', 'limit', 'status', 'channel', 'institution', 'minLongestCallSeconds', 'calledAfter', 'calledBefore', 'reason', 'address',
  'subjectType', 'subjectId', 'action', 'needsReview', 'fromCursor', 'id', 'page', 'sort',
];

const cursorOf = (key: string) => Buffer.from(key).toString('base64url');
const CURSORS = ['[1e300,"3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b"]', `[1,"${'-'.repeat(36)}"]`, '["2024-W01-1","3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b"]', '["1e300"]', '["-1"]', '[]', '{}', 'null', '[[[[[]]]]]', '"\\u0000"'].map(cursorOf);

/** JSON texts for one field's value: wrong types, out of range, unstorable, hostile. */
const JSON_VALUES = [
  'null', 'true', '-1', '0', '-0', '1.5', '1e300', '-1e300', '3000000000', '9007199254740993', '""', `"${'-'.repeat(36)}"`, '"\\u0000"', '"a\\u0000b"',
  '"\\ud800"', '"\\udfff x"', '"2024-W01-1"', '"2024-02-30"', '"2024-01-01T10:00:00"', `"' OR 1=1; DROP TABLE victims; --"`, '"<script>alert(1)</script>"',
  '"javascript:alert(1)"', `"${'x'.repeat(200_000)}"`, '[]', '["x"]', '[null]', '{}', '{"$ne":1}', '{"__proto__":{"admin":true}}', '"__proto__"',
  '"NaN"', '"1e300"', '"3000000000"', `[${'"x",'.repeat(5000)}"x"]`, '{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}',
];

/** The values each body field gets on its own (the others are left out). */
const SHARP_JSON_VALUES = ['null', '1e300', '-1', '3000000000', `"${'-'.repeat(36)}"`, '"a\\u0000b"', '"\\ud800"', '"2024-W01-1"', '"2024-02-30"', '["x"]', '{"$ne":1}', `"${'x'.repeat(5000)}"`];

/** Whole bodies whatever the route. */
const WHOLE_BODIES = [
  '[]', '[{}]', '[1,2,3]', '"text"', '42', 'null', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}',
  '{"a":' .repeat(1000) + '1' + '}'.repeat(1000), '['.repeat(5000) + ']'.repeat(5000), '{"a":', '{"a":1,}', "{'a':1}", '{"\\u0000":1}',
  '{"\\ud800":1}', `{"x":"${'y'.repeat(1_100_000)}"}`,
];

interface Call {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
}

describe('the bad-input corpus, on every route', () => {
  let t: TestApp;
  const tokens = {} as Record<StaffRole, string>;
  let bankKey = '';

  beforeAll(async () => {
    const db = await ownDatabase('bad_input');
    t = await startTestApp({ DATABASE_URL: db, APP_ROLE: 'api' });
    for (const role of STAFF_ROLES) tokens[role] = (await t.staff(role)).token;
    bankKey = (await t.bank()).apiKey;
  });
  afterAll(() => t?.close());

  /** Every table's rows, as a hash per table; failed-login audit rows left out. */
  async function fingerprint(): Promise<Record<string, string>> {
    const tables: Array<{ name: string }> = await t.ds.query(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
    );
    const parts = tables.map(({ name }) => {
      const where = name === 'audit_events' ? `WHERE x.action <> 'auth.login_failed'` : '';
      return `SELECT '${name}' AS name, count(*)::text || ':' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS h FROM "${name}" x ${where}`;
    });
    const rows: Array<{ name: string; h: string }> = await t.ds.query(parts.join(' UNION ALL '));
    return Object.fromEntries(rows.map((r) => [r.name, r.h]));
  }

  function credentials(route: RouteInfo): string | undefined {
    const rule = Reflect.getMetadata(ACCESS_KEY, route.handler) as AccessRule | undefined;
    if (!rule || rule.kind === 'public') return undefined;
    if (rule.kind === 'bank') return bankKey;
    return tokens[rule.roles.includes('admin') ? 'admin' : rule.roles[0]];
  }

  /** The DTO class a route takes as its body or query, from Nest's own metadata. */
  function argDto(route: RouteInfo, type: RouteParamtypes): Function | undefined {
    const wrapper = t.app.get(DiscoveryService).getControllers().find((w) => w.metatype?.prototype?.[route.handler.name] === route.handler);
    if (!wrapper?.metatype) return undefined;
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, wrapper.metatype, route.handler.name) ?? {}) as Record<string, { index: number }>;
    const entry = Object.entries(args).find(([k]) => Number(k.split(':')[0]) === type);
    if (!entry) return undefined;
    const types = Reflect.getMetadata('design:paramtypes', wrapper.metatype.prototype, route.handler.name) as Function[] | undefined;
    const dto = types?.[entry[1].index];
    return dto === Object ? undefined : dto;
  }

  function takesArg(route: RouteInfo, type: RouteParamtypes): boolean {
    const wrapper = t.app.get(DiscoveryService).getControllers().find((w) => w.metatype?.prototype?.[route.handler.name] === route.handler);
    const args = (wrapper?.metatype ? Reflect.getMetadata(ROUTE_ARGS_METADATA, wrapper.metatype, route.handler.name) ?? {} : {}) as Record<string, unknown>;
    return Object.keys(args).some((k) => Number(k.split(':')[0]) === type);
  }

  function fieldsOf(dto: Function | undefined, otherwise: string[]): string[] {
    if (!dto) return otherwise;
    return [...new Set(getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false).map((m) => m.propertyName))];
  }

  /** Fields whose declared type is another DTO: bad values go one level down too. */
  function nestedOf(dto: Function): Array<[string, string[]]> {
    return fieldsOf(dto, []).flatMap((f) => {
      const type = Reflect.getMetadata('design:type', dto.prototype, f) as Function | undefined;
      const inner = type && ![Object, Array, String, Number, Boolean].includes(type as never) ? fieldsOf(type, []) : [];
      return inner.length > 0 ? [[f, inner] as [string, string[]]] : [];
    });
  }

  function callsFor(route: RouteInfo): Call[] {
    const params = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    const fill = (values: Record<string, string>) => route.path.replace(/:(\w+)/g, (_m, name: string) => values[name] ?? '3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b');
    const calls: Call[] = [];
    const method = route.method;
    for (const p of params) for (const v of URL_VALUES) calls.push({ method, path: fill({ [p]: v }) });
    const base = fill({});
    // Every common name at once, for each value; then each name the route reads, alone.
    for (const v of [...SHARP_URL_VALUES, ...CURSORS.slice(0, 3)]) calls.push({ method, path: `${base}?${QUERY_NAMES.map((n) => `${n}=${v}`).join('&')}` });
    for (const name of fieldsOf(argDto(route, RouteParamtypes.QUERY), [])) {
      for (const v of [...SHARP_URL_VALUES, ...CURSORS.slice(0, 3)]) calls.push({ method, path: `${base}?${name}=${v}` });
      calls.push({ method, path: `${base}?${name}=1&${name}=2` }, { method, path: `${base}?${name}[a]=1` }, { method, path: `${base}?${name}` });
    }
    if (method !== 'GET') {
      const dto = argDto(route, RouteParamtypes.BODY);
      const fields = fieldsOf(dto, ['name', 'id', 'email', 'password', 'body']);
      // A route that reads no body refuses any before looking at it: a few values show that.
      const values = takesArg(route, RouteParamtypes.BODY) ? JSON_VALUES : SHARP_JSON_VALUES.slice(0, 4);
      for (const v of values) calls.push({ method, path: base, body: `{${fields.map((f) => `${JSON.stringify(f)}:${v}`).join(',')}}` });
      for (const body of WHOLE_BODIES) calls.push({ method, path: base, body });
      calls.push({ method, path: base, body: 'name=x%00&channels=sms', contentType: 'application/x-www-form-urlencoded' });
      calls.push({ method, path: base, body: '{"name":"x"}', contentType: 'text/plain' });
      if (dto) {
        for (const f of fields) for (const v of SHARP_JSON_VALUES) calls.push({ method, path: base, body: `{${JSON.stringify(f)}:${v}}` });
        for (const [f, inner] of nestedOf(dto)) {
          for (const v of SHARP_JSON_VALUES) calls.push({ method, path: base, body: `{${JSON.stringify(f)}:{${inner.map((i) => `${JSON.stringify(i)}:${v}`).join(',')}}}` });
        }
      }
    }
    return calls;
  }

  async function send(call: Call, auth: string | undefined): Promise<Response> {
    const req = (t.http() as unknown as Record<string, (p: string) => import('supertest').Test>)[call.method.toLowerCase()](call.path);
    if (auth) req.set('authorization', `Bearer ${auth}`);
    if (call.body !== undefined) req.set('content-type', call.contentType ?? 'application/json').send(call.body);
    return req;
  }

  it('never answers 5xx, always answers errors in the standard shape, and writes nothing', async () => {
    const routes = listRoutes(t.app);
    expect(routes.length).toBeGreaterThan(30);
    const failures: string[] = [];
    let calls = 0;
    for (const route of routes) {
      const auth = credentials(route);
      const before = await fingerprint();
      for (const call of callsFor(route)) {
        calls++;
        const res = await send(call, auth);
        const what = `${call.method} ${call.path.slice(0, 120)}${call.body !== undefined ? ` body ${call.body.slice(0, 120)}` : ''} → ${res.status}`;
        if (res.status >= 500) failures.push(`${what}: ${JSON.stringify(res.body).slice(0, 200)}`);
        else if (res.status >= 400 && /^text\/html/.test(String(res.headers['content-type']))) {
          // Pages for people (unsubscribe, later the report form) answer with a page of the
          // same design, not JSON: it must still be a whole page with a heading.
          if (!/<h1[^>]*>[^<]+<\/h1>/.test(res.text)) failures.push(`${what}: an HTML error without a page heading`);
        } else if (res.status >= 400) {
          const b = res.body as Record<string, unknown>;
          if (b.statusCode !== res.status || typeof b.error !== 'string' || typeof b.message !== 'string' || b.message === '') {
            failures.push(`${what}: not the standard error shape: ${JSON.stringify(b).slice(0, 200)}`);
          }
        } else if (call.body !== undefined && res.status < 300 && auth !== undefined) {
          // Public routes may ignore a body (their callers are mail providers, Twilio, browsers); staff and bank routes may not.
          failures.push(`${what}: a bad body was accepted`);
        }
      }
      const after = await fingerprint();
      const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
      if (changed.length > 0) failures.push(`${route.method} ${route.path}: bad input changed ${changed.join(', ')}`);
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(2000);
  });

  // A body that passes every check but one: that check must hold when nothing else trips
  // first. Free text (a name) may be anything storable, and null is "not given"; what
  // is saved must be runnable (its preview answers 200), what is refused writes nothing.
  it('a good campaign with one bad field is refused, or saved in a form that runs', async () => {
    const good = { name: 'Corpus', channels: ['sms'], audience: { institution: 'barclays' }, sms: { body: SMS_TEMPLATE }, sendWindow: ALWAYS_OPEN };
    const variants: Array<Record<string, unknown>> = [];
    for (const v of JSON_VALUES.filter((x) => x.length < 1000).map((x) => JSON.parse(x) as unknown)) {
      variants.push(
        { ...good, name: v }, { ...good, channels: v }, { ...good, channelStrategy: v }, { ...good, audience: v }, { ...good, sms: v },
        { ...good, sendWindow: v }, { ...good, startAt: v }, { ...good, audience: { institution: 'barclays', minLongestCallSeconds: v } },
        { ...good, audience: { institution: 'barclays', calledAfter: v } }, { ...good, audience: { institution: v } },
        { ...good, audience: { institution: 'barclays', limit: v } }, { ...good, audience: { institution: 'barclays', excludeContactedWithinDays: v } },
        { ...good, sms: { body: v } }, { ...good, sendWindow: { ...ALWAYS_OPEN, days: [v] } }, { ...good, sendWindow: { ...ALWAYS_OPEN, timezone: v } },
        { ...good, sendWindow: { ...ALWAYS_OPEN, start: v } },
      );
    }
    const auth = { authorization: `Bearer ${tokens.operator}` };
    const failures: string[] = [];
    // Nothing else writes to this database: the rows a save would write are enough to count.
    const written = async () => JSON.stringify(await t.ds.query(`SELECT (SELECT count(*) FROM campaigns) AS c, (SELECT count(*) FROM audit_events) AS a`));
    for (const body of variants) {
      const before = await written();
      const res = await t.http().post('/api/campaigns').set(auth).send(body);
      const what = `${JSON.stringify(body).slice(0, 160)} → ${res.status} ${JSON.stringify(res.body).slice(0, 160)}`;
      if (res.status === 201) {
        const preview = await t.http().get(`/api/campaigns/${res.body.id}/preview`).set(auth);
        if (preview.status !== 200) failures.push(`${what}: saved, but its preview answers ${preview.status} ${JSON.stringify(preview.body).slice(0, 160)}`);
      } else if (res.status !== 400 || typeof res.body.message !== 'string') failures.push(what);
      else if ((await written()) !== before) failures.push(`${what}: refused, but wrote`);
    }
    expect(failures).toEqual([]);
  });
});
