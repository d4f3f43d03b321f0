import { randomInt, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { WEEKDAYS } from '../../src/common/compliance-gate.js';
import { InstitutionsService } from '../../src/modules/evidence/institutions.service.js';
import type { TestApp } from './test-app.js';

export const SMS_TEMPLATE =
  'City Police: we are contacting people called by fraudsters pretending to be ((institution)). Your ref ((reference)). ((report_url)) We will never ask for your PIN.';
export const EMAIL_TEMPLATE = {
  subject: 'City Police: a warning about calls from ((institution))',
  body: 'Your reference is ((reference)). Tell us what happened at ((report_url)).',
};
/** A send window that is always open. */
export const ALWAYS_OPEN = { start: '00:00', end: '23:59', timezone: 'UTC', days: [...WEEKDAYS] };

const ALPHABET = '346789ABCDEFGHJKMNPQRTWXY';
export const refCode = () => Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
export const randomMobile = () => `+447781${String(randomInt(10_000_000)).padStart(7, '0')}`;
/** An institution-like code to tag one test's victims with, and choose them by. */
export const tag = () => `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;

export interface VictimSeed {
  phone?: string;
  type?: 'mobile' | 'fixed_line' | 'other';
  email?: string | null;
  status?: string;
  score?: number;
}

/**
 * Victims of one test only: they carry `institution` as a second institution code, so
 * an audience `{institution}` selects exactly them. Returns their ids in order.
 */
export async function seedVictims(ds: DataSource, institution: string, seeds: VictimSeed[]): Promise<string[]> {
  await addTestInstitution(ds);
  const out: string[] = [];
  for (const [i, s] of seeds.entries()) {
    const type = s.type ?? 'mobile';
    const phone = s.phone ?? (type === 'mobile' ? randomMobile() : `+441184${String(randomInt(1_000_000)).padStart(6, '0')}`);
    const [row] = await ds.query(
      `INSERT INTO victims (phone_e164, phone_type, reference_code, status, email, call_count, longest_call_seconds, institutions, priority_score, channels)
       VALUES ($1, $2, $3, $4, $5, 1, 120, ARRAY['camptest_bank', $6], $7,
               (CASE WHEN $2 = 'mobile' THEN ARRAY['sms'] ELSE '{}'::text[] END) || (CASE WHEN $5::text IS NOT NULL THEN ARRAY['email'] ELSE '{}'::text[] END))
       ON CONFLICT (phone_e164) DO NOTHING RETURNING id`,
      [phone, type, refCode(), s.status ?? 'identified', s.email ?? null, institution, s.score ?? 1000 - i],
    );
    if (!row) throw new Error(`phone ${phone} already taken; run again`);
    out.push(row.id);
  }
  return out;
}

/**
 * The test institution 'Camptest Bank', after the real ones: an institutions table that
 * is not empty is taken as seeded, and other test files need the real ones.
 */
export async function addTestInstitution(ds: DataSource): Promise<void> {
  await new InstitutionsService(ds).ensureSeeded();
  await ds.query(`INSERT INTO institutions (code, name) VALUES ('camptest_bank', 'Camptest Bank') ON CONFLICT DO NOTHING`);
}

/** Many mobile victims in one statement (numbers from `base`). */
export async function seedManyVictims(ds: DataSource, institution: string, n: number, base = 447790000000): Promise<void> {
  await ds.query(
    `INSERT INTO victims (phone_e164, phone_type, reference_code, call_count, longest_call_seconds, institutions, priority_score, channels)
     SELECT '+' || ($3::bigint + i), 'mobile', upper(substr(md5($1 || i::text), 1, 12)), 1, 120, ARRAY['camptest_bank', $1], i, ARRAY['sms']
       FROM generate_series(1, $2) AS i`,
    [institution, n, base],
  );
}

export interface Staff {
  operator: string;
  supervisor: string;
  supervisor2: string;
  admin: string;
}

export async function staffTokens(t: TestApp): Promise<Staff> {
  return {
    operator: (await t.staff('operator')).token,
    supervisor: (await t.staff('supervisor')).token,
    supervisor2: (await t.staff('supervisor')).token,
    admin: (await t.staff('admin')).token,
  };
}

/** Creates, submits and approves a campaign for `institution`'s victims; returns its id. */
export async function approvedCampaign(t: TestApp, staff: Staff, institution: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t
    .http()
    .post('/api/campaigns')
    .set({ Authorization: `Bearer ${staff.operator}` })
    .send({ name: `Warning ${institution}`, channels: ['sms'], audience: { institution }, sms: { body: SMS_TEMPLATE }, sendWindow: ALWAYS_OPEN, ...extra });
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${JSON.stringify(res.body)}`);
  const id = res.body.id as string;
  await t.http().post(`/api/campaigns/${id}/submit`).set({ Authorization: `Bearer ${staff.operator}` }).expect(200);
  await t.http().post(`/api/campaigns/${id}/approve`).set({ Authorization: `Bearer ${staff.supervisor}` }).expect(200);
  return id;
}

/** Polls until `check` returns a value (not undefined/false), or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
