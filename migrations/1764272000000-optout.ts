import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Opt-outs that stick (issue 10):
 * - two opt-out reasons of the person's own (`unsubscribe` from the email link, `sms_stop`
 *   from an SMS reply) beside `provider_opt_out` and the staff-recorded `opt_out`;
 * - any opt-out suppression, whoever inserts it (the delivery code writes them in plain
 *   SQL), marks the matching victims opted out of that channel, by trigger;
 * - an opt-out suppression cannot be deleted, truncated or rewritten into another reason
 *   unless a removal was requested by one admin and approved by another person;
 * - suppression CSV imports become queued jobs with a row of their own.
 */
export class Optout1764272000000 implements MigrationInterface {
  name = 'Optout1764272000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check`);
    await q.query(`
      ALTER TABLE suppressions ADD CONSTRAINT suppressions_reason_check
        CHECK (reason IN ('opt_out','hard_bounce','do_not_contact','complaint','provider_opt_out','unsubscribe','sms_stop'))`);

    // One definition of "opt-out" for every trigger; src/common/opt-out.ts holds the same list.
    await q.query(`
      CREATE FUNCTION suppression_is_opt_out(reason text) RETURNS boolean
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $$ SELECT reason IN ('opt_out','provider_opt_out','unsubscribe','sms_stop') $$`);

    // A constant default: no table rewrite, even on 200,000 victims.
    await q.query(`
      ALTER TABLE victims ADD COLUMN opted_out_channels text[] NOT NULL DEFAULT '{}'
        CONSTRAINT victims_opted_out_channels_valid CHECK (opted_out_channels <@ ARRAY['sms','email']::text[])`);
    // What an opt-out that took the last channel replaced, so that an approved removal
    // can put it back (notified stays notified).
    await q.query(`ALTER TABLE victims ADD COLUMN status_before_opt_out text`);
    // Suppressions hold emails lower-cased; victims hold them as written. Partial, so the
    // many victims without an email cost matching nothing.
    await q.query(`CREATE INDEX victims_email_lower_idx ON victims (lower(email)) WHERE email IS NOT NULL`);

    // Set-based (transition table), so a 12,000-row import is one join, not 12,000 lookups.
    // Only victims still at the contact stage move to opted_out, and only when no channel
    // is left to reach them; one who has answered keeps that status (the answer matters
    // more), and the channel list and the address suppression still stop messages.
    await q.query(`
      CREATE FUNCTION suppressions_mark_opted_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        WITH o AS (
          SELECT DISTINCT channel, address FROM added WHERE suppression_is_opt_out(reason)
        ), hit AS (
          SELECT v.id, o.channel FROM o JOIN victims v ON o.channel = 'sms' AND v.phone_e164 = o.address
          UNION
          SELECT v.id, o.channel FROM o JOIN victims v ON o.channel = 'email' AND v.email IS NOT NULL AND lower(v.email) = o.address
        ), per AS (
          SELECT h.id, ARRAY(SELECT DISTINCT c FROM unnest(v.opted_out_channels || array_agg(h.channel)) c ORDER BY c) AS channels
            FROM hit h JOIN victims v ON v.id = h.id
           GROUP BY h.id, v.opted_out_channels
        )
        UPDATE victims v
           SET opted_out_channels = per.channels,
               status_before_opt_out = CASE WHEN v.status IN ('identified','notified') AND cardinality(ARRAY(SELECT unnest(v.channels) EXCEPT SELECT unnest(per.channels))) = 0
                                            THEN v.status ELSE v.status_before_opt_out END,
               status = CASE WHEN v.status IN ('identified','notified') AND cardinality(ARRAY(SELECT unnest(v.channels) EXCEPT SELECT unnest(per.channels))) = 0
                             THEN 'opted_out' ELSE v.status END,
               updated_at = now()
          FROM per
         WHERE v.id = per.id AND v.opted_out_channels IS DISTINCT FROM per.channels;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER suppressions_opt_out_inserted AFTER INSERT ON suppressions
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION suppressions_mark_opted_out()`);
    await q.query(`
      CREATE TRIGGER suppressions_opt_out_updated AFTER UPDATE ON suppressions
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION suppressions_mark_opted_out()`);

    // The removal requests: kept after the suppression is gone (no foreign key), as the
    // record of who asked, who agreed and why.
    await q.query(`
      CREATE TABLE suppression_removals (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        suppression_id bigint NOT NULL,
        channel text NOT NULL,
        suppression_reason text NOT NULL,
        request_reason text NOT NULL CHECK (length(request_reason) BETWEEN 1 AND 500),
        requested_by uuid NOT NULL REFERENCES staff_users(id),
        requested_at timestamptz NOT NULL DEFAULT now(),
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected')),
        decided_by uuid REFERENCES staff_users(id),
        decided_at timestamptz,
        decision_note text CHECK (decision_note IS NULL OR length(decision_note) <= 500),
        CONSTRAINT suppression_removals_decided CHECK ((status = 'pending') = (decided_by IS NULL)),
        CONSTRAINT suppression_removals_two_people CHECK (status <> 'approved' OR decided_by <> requested_by)
      )`);
    await q.query(`CREATE UNIQUE INDEX suppression_removals_one_pending ON suppression_removals (suppression_id) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX suppression_removals_status_idx ON suppression_removals (status, id DESC)`);

    await q.query(`
      CREATE FUNCTION suppressions_guard_opt_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'TRUNCATE' THEN
          IF EXISTS (SELECT 1 FROM suppressions WHERE suppression_is_opt_out(reason)) THEN
            RAISE EXCEPTION 'suppressions holds opt-outs, which cannot be truncated' USING ERRCODE = 'P0001';
          END IF;
          RETURN NULL;
        END IF;
        IF NOT suppression_is_opt_out(OLD.reason) THEN
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        IF TG_OP = 'UPDATE' THEN
          IF NEW.channel <> OLD.channel OR NEW.address <> OLD.address OR NOT suppression_is_opt_out(NEW.reason) THEN
            RAISE EXCEPTION 'opt-out suppression % cannot be changed into something else', OLD.id USING ERRCODE = 'P0001';
          END IF;
          RETURN NEW;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM suppression_removals r WHERE r.suppression_id = OLD.id AND r.status = 'approved') THEN
          RAISE EXCEPTION 'opt-out suppression % can only be removed by two people (a removal approved by a second person)', OLD.id
            USING ERRCODE = 'P0001';
        END IF;
        RETURN OLD;
      END $$`);
    await q.query(`CREATE TRIGGER suppressions_guard_opt_out BEFORE UPDATE OR DELETE ON suppressions FOR EACH ROW EXECUTE FUNCTION suppressions_guard_opt_out()`);
    await q.query(`CREATE TRIGGER suppressions_guard_truncate BEFORE TRUNCATE ON suppressions FOR EACH STATEMENT EXECUTE FUNCTION suppressions_guard_opt_out()`);

    // An approved removal gives the channel back to the victims it was taken from.
    await q.query(`
      CREATE FUNCTION suppressions_unmark_opted_out() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF suppression_is_opt_out(OLD.reason) THEN
          UPDATE victims v
             SET opted_out_channels = array_remove(v.opted_out_channels, OLD.channel),
                 status = CASE WHEN v.status = 'opted_out' AND OLD.channel = ANY (v.channels)
                               THEN coalesce(v.status_before_opt_out, CASE WHEN v.notified_at IS NULL THEN 'identified' ELSE 'notified' END)
                               ELSE v.status END,
                 status_before_opt_out = CASE WHEN v.status = 'opted_out' AND OLD.channel = ANY (v.channels) THEN NULL ELSE v.status_before_opt_out END,
                 updated_at = now()
           WHERE OLD.channel = ANY (v.opted_out_channels)
             AND ((OLD.channel = 'sms' AND v.phone_e164 = OLD.address)
               OR (OLD.channel = 'email' AND v.email IS NOT NULL AND lower(v.email) = OLD.address));
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER suppressions_opt_out_deleted AFTER DELETE ON suppressions FOR EACH ROW EXECUTE FUNCTION suppressions_unmark_opted_out()`);

    await q.query(`
      CREATE TABLE suppression_imports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','running','completed','failed')),
        file_path text NOT NULL,
        file_name text,
        requested_by uuid NOT NULL REFERENCES staff_users(id),
        requested_ip inet,
        rows_total integer NOT NULL DEFAULT 0,
        inserted integer NOT NULL DEFAULT 0,
        already_suppressed integer NOT NULL DEFAULT 0,
        rejected integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]'::jsonb,
        failure_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS suppression_imports`);
    await q.query(`DROP TRIGGER IF EXISTS suppressions_opt_out_deleted ON suppressions`);
    await q.query(`DROP FUNCTION IF EXISTS suppressions_unmark_opted_out()`);
    await q.query(`DROP TRIGGER IF EXISTS suppressions_guard_truncate ON suppressions`);
    await q.query(`DROP TRIGGER IF EXISTS suppressions_guard_opt_out ON suppressions`);
    await q.query(`DROP FUNCTION IF EXISTS suppressions_guard_opt_out()`);
    await q.query(`DROP TABLE IF EXISTS suppression_removals`);
    await q.query(`DROP TRIGGER IF EXISTS suppressions_opt_out_updated ON suppressions`);
    await q.query(`DROP TRIGGER IF EXISTS suppressions_opt_out_inserted ON suppressions`);
    await q.query(`DROP FUNCTION IF EXISTS suppressions_mark_opted_out()`);
    await q.query(`DROP INDEX IF EXISTS victims_email_lower_idx`);
    await q.query(`ALTER TABLE victims DROP COLUMN IF EXISTS status_before_opt_out`);
    await q.query(`ALTER TABLE victims DROP COLUMN IF EXISTS opted_out_channels`);
    // The older schema has no unsubscribe or sms_stop: they stay opt-outs, under its name.
    await q.query(`UPDATE suppressions SET reason = 'opt_out' WHERE reason IN ('unsubscribe','sms_stop')`);
    await q.query(`ALTER TABLE suppressions DROP CONSTRAINT suppressions_reason_check`);
    await q.query(`
      ALTER TABLE suppressions ADD CONSTRAINT suppressions_reason_check
        CHECK (reason IN ('opt_out','hard_bounce','do_not_contact','complaint','provider_opt_out'))`);
    await q.query(`DROP FUNCTION IF EXISTS suppression_is_opt_out(text)`);
  }
}
