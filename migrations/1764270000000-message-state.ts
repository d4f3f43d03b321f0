import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Message state with one owner: receipts may name our message id (Twilio's
 * StatusCallback URL carries it), so a receipt can settle a message whose API answer was
 * lost; messages in `unknown` are listed for staff, oldest first.
 */
export class MessageState1764270000000 implements MigrationInterface {
  name = 'MessageState1764270000000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key: a receipt is stored before anything is known of it, as the provider sent it.
    await q.query(`ALTER TABLE provider_receipts ADD COLUMN message_id bigint`);
    await q.query(`CREATE INDEX provider_receipts_message_idx ON provider_receipts (message_id) WHERE message_id IS NOT NULL AND applied_at IS NULL`);
    await q.query(`CREATE INDEX messages_unknown_idx ON messages (id) WHERE status = 'unknown'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS messages_unknown_idx`);
    await q.query(`DROP INDEX IF EXISTS provider_receipts_message_idx`);
    await q.query(`ALTER TABLE provider_receipts DROP COLUMN IF EXISTS message_id`);
  }
}
