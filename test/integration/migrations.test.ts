import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/database/data-source.js';
import { MIGRATIONS } from '../../src/database/migrations.js';
import { withClient } from '../support/pg.js';

// Fresh databases of its own on the local Postgres (not the shared test database), so
// that "created" and "applied" can be checked from nothing.
const BASE = 'postgres://postgres@127.0.0.1:5432';
const created: string[] = [];

function freshUrl(): string {
  const name = `outreach_mig_${randomBytes(6).toString('hex')}`;
  created.push(name);
  return `${BASE}/${name}`;
}

/** Runs a statement that must fail, and returns the Postgres error (code and constraint). */
async function pgError(c: Client, sql: string, params: unknown[] = []): Promise<{ code?: string; constraint?: string }> {
  try {
    await c.query(sql, params);
  } catch (err) {
    return err as { code?: string; constraint?: string };
  }
  throw new Error(`expected this statement to fail: ${sql}`);
}

const ALL = MIGRATIONS.map((m) => m.name);

describe('migrate()', () => {
  afterAll(async () => {
    await withClient(`${BASE}/postgres`, async (c) => {
      for (const name of created) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
  });

  it('creates a missing database and applies every migration (the core one first), then is a no-op the second time', async () => {
    const url = freshUrl();
    const first = await migrate(url);
    expect(first.created).toBe(true);
    expect(first.applied).toEqual(ALL);
    expect(first.applied).toContain('CoreSchema1764230000000');

    const second = await migrate(url);
    expect(second).toEqual({ created: false, applied: [] });

    await withClient(url, async (c) => {
      const { rows } = await c.query(`SELECT name FROM schema_migrations ORDER BY id`);
      expect(rows.map((r) => r.name)).toEqual(ALL);
      const tables = await c.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['staff_users', 'banks', 'audit_events', 'victims', 'campaigns', 'messages', 'referrals']),
      );
    });
  });

  it('the schema enforces the uniqueness and status guarantees', async () => {
    const url = freshUrl();
    await migrate(url);
    await withClient(url, async (c) => {
      const indexes = await c.query(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('victims', 'messages')`,
      );
      const defs = Object.fromEntries(indexes.rows.map((r) => [r.indexname, r.indexdef as string]));
      expect(defs.victims_phone_key).toMatch(/CREATE UNIQUE INDEX .* \(phone_e164\)$/);
      expect(defs.victims_reference_code_key).toMatch(/CREATE UNIQUE INDEX .* \(reference_code\)$/);
      expect(defs.messages_campaign_victim_channel_key).toMatch(/CREATE UNIQUE INDEX .* \(campaign_id, victim_id, channel\)$/);
      expect(defs.messages_provider_message_id_key).toMatch(
        /CREATE UNIQUE INDEX .* \(provider_message_id\) WHERE \(provider_message_id IS NOT NULL\)$/,
      );

      // victims: one row per number and per reference code.
      const victim = async (phone: string, ref: string) =>
        (await c.query(`INSERT INTO victims (phone_e164, phone_type, reference_code) VALUES ($1, 'mobile', $2) RETURNING id`, [phone, ref]))
          .rows[0].id as string;
      const v1 = await victim('+447723456701', 'REF-A1');
      const v2 = await victim('+447723456702', 'REF-A2');
      expect(await pgError(c, `INSERT INTO victims (phone_e164, phone_type, reference_code) VALUES ('+447723456701', 'mobile', 'REF-A3')`))
        .toMatchObject({ code: '23505', constraint: 'victims_phone_key' });
      expect(await pgError(c, `INSERT INTO victims (phone_e164, phone_type, reference_code) VALUES ('+447723456703', 'mobile', 'REF-A1')`))
        .toMatchObject({ code: '23505', constraint: 'victims_reference_code_key' });
      expect(await pgError(c, `INSERT INTO victims (phone_e164, phone_type, reference_code, status) VALUES ('+447723456704', 'mobile', 'REF-A4', 'bogus')`))
        .toMatchObject({ code: '23514' });

      // messages: one per (campaign, victim, channel); provider ids unique when present.
      const staff = (await c.query(`INSERT INTO staff_users (email, password_hash, role) VALUES ('mig@test.police.uk', 'x', 'admin') RETURNING id`)).rows[0].id;
      expect(await pgError(c, `INSERT INTO staff_users (email, password_hash, role) VALUES ('other@test.police.uk', 'x', 'wizard')`))
        .toMatchObject({ code: '23514' });
      const campaign = (
        await c.query(
          `INSERT INTO campaigns (name, channels, send_window, created_by) VALUES ('mig', ARRAY['sms','email'], '{}'::jsonb, $1) RETURNING id`,
          [staff],
        )
      ).rows[0].id;
      expect(await pgError(c, `INSERT INTO campaigns (name, channels, send_window, created_by, status) VALUES ('x', ARRAY['sms'], '{}', $1, 'bogus')`, [staff]))
        .toMatchObject({ code: '23514' });
      const message = (campaignId: string, victimId: string, channel: string, providerId: string | null, status = 'pending') =>
        c.query(
          `INSERT INTO messages (campaign_id, victim_id, channel, address, body, provider_message_id, status)
           VALUES ($1, $2, $3, 'addr', 'body', $4, $5)`,
          [campaignId, victimId, channel, providerId, status],
        );
      await message(campaign, v1, 'sms', 'SM-1');
      await message(campaign, v1, 'email', null);
      await message(campaign, v2, 'email', null); // many NULL provider ids are fine
      expect(await pgError(c, `INSERT INTO messages (campaign_id, victim_id, channel, address, body) VALUES ($1, $2, 'sms', 'a', 'b')`, [campaign, v1]))
        .toMatchObject({ code: '23505', constraint: 'messages_campaign_victim_channel_key' });
      expect(await message(campaign, v2, 'sms', 'SM-1').catch((e) => e)).toMatchObject({ code: '23505', constraint: 'messages_provider_message_id_key' });
      expect(await message(campaign, v2, 'sms', null, 'bogus').catch((e) => e)).toMatchObject({ code: '23514' });
      expect(await message(campaign, v2, 'fax', null).catch((e) => e)).toMatchObject({ code: '23514' });
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM messages`);
      expect(rows[0].n).toBe(3);

      // The audit log is append-only, enforced by the database itself.
      await c.query(`INSERT INTO audit_events (actor_type, action) VALUES ('system', 'test')`);
      expect(await pgError(c, `UPDATE audit_events SET action = 'changed'`)).toMatchObject({ code: '42501' });
      expect(await pgError(c, `DELETE FROM audit_events`)).toMatchObject({ code: '42501' });
    });
  });

  it('two migrators starting at once on a new database both succeed, and the migration runs once', async () => {
    const url = freshUrl();
    const [a, b] = await Promise.all([migrate(url), migrate(url)]);
    // Exactly one of them created the database and exactly one applied the migration.
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect([a.applied, b.applied].sort((x, y) => x.length - y.length)).toEqual([[], ALL]);
    await withClient(url, async (c) => {
      const { rows } = await c.query(`SELECT count(*)::int AS n FROM schema_migrations`);
      expect(rows[0].n).toBe(ALL.length);
    });
  });

  it('refuses a database name that is not a plain identifier', async () => {
    await expect(migrate(`${BASE}/outreach_mig_${randomUUID().slice(0, 4)}%22%3Bdrop`)).rejects.toThrow(/not a plain identifier/);
  });
});
