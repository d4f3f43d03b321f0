import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery: the sandbox providers' record of what they "sent" (the outside world's
 * record, kept apart from ours), every provider receipt as received, and the indexes
 * the workers and the reconciler rely on.
 */
export class Delivery1764260000000 implements MigrationInterface {
  name = 'Delivery1764260000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key to messages, no unique message id: a provider records whatever it
    // is asked to send, so a double send shows up here as two rows.
    await q.query(`
      CREATE TABLE sandbox_messages (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel text NOT NULL CHECK (channel IN ('sms','email')),
        message_id bigint NOT NULL,
        provider_message_id text NOT NULL UNIQUE,
        to_address text NOT NULL,
        subject text,
        body text NOT NULL,
        outcome text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX sandbox_messages_message_idx ON sandbox_messages (message_id)`);

    // Every receipt, once (a repeat is the same row): none lost, and the ones that
    // arrive before the worker recorded the provider's id are applied when it does.
    await q.query(`
      CREATE TABLE provider_receipts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        provider text NOT NULL,
        provider_message_id text NOT NULL,
        status text NOT NULL,
        error_code text NOT NULL DEFAULT '',
        received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        applied_at timestamptz,
        UNIQUE (provider_message_id, status, error_code)
      )`);
    await q.query(`CREATE INDEX provider_receipts_unapplied_idx ON provider_receipts (provider_message_id) WHERE applied_at IS NULL`);

    await q.query(`CREATE INDEX messages_sending_idx ON messages (sending_at) WHERE status = 'sending'`);
    await q.query(`CREATE INDEX messages_queued_idx ON messages (channel, campaign_id) WHERE status = 'queued'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS messages_queued_idx`);
    await q.query(`DROP INDEX IF EXISTS messages_sending_idx`);
    await q.query(`DROP TABLE IF EXISTS provider_receipts`);
    await q.query(`DROP TABLE IF EXISTS sandbox_messages`);
  }
}
