import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Campaigns: who last edited one (the approver must be someone else), the launch's
 * accounting, runtime settings (provider rates) and the indexes launch and the
 * frequency cap rely on.
 */
export class Campaigns1764250000000 implements MigrationInterface {
  name = 'Campaigns1764250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE campaigns
        ADD COLUMN updated_by uuid REFERENCES staff_users(id),
        ADD COLUMN paused_at timestamptz,
        ADD COLUMN launch_summary jsonb`);
    await q.query(`
      CREATE TABLE settings (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        updated_by uuid REFERENCES staff_users(id),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The frequency cap looks up each audience member's recent messages by victim and time.
    await q.query(`DROP INDEX IF EXISTS messages_victim_idx`);
    await q.query(`CREATE INDEX messages_victim_idx ON messages (victim_id, created_at) INCLUDE (campaign_id, status)`);
    await q.query(`CREATE INDEX campaigns_status_idx ON campaigns (status, created_at)`);
    // Enqueueing (and re-enqueueing) walks a campaign's messages of one status by id.
    await q.query(`DROP INDEX IF EXISTS messages_campaign_status_idx`);
    await q.query(`CREATE INDEX messages_campaign_status_idx ON messages (campaign_id, status, id)`);
    // Audiences and victim lists page by (priority_score DESC, id DESC).
    await q.query(`DROP INDEX IF EXISTS victims_priority_idx`);
    await q.query(`CREATE INDEX victims_priority_idx ON victims (priority_score DESC, id DESC)`);
    await q.query(`CREATE INDEX suppressions_created_idx ON suppressions (id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS suppressions_created_idx`);
    await q.query(`DROP INDEX IF EXISTS victims_priority_idx`);
    await q.query(`CREATE INDEX victims_priority_idx ON victims (priority_score DESC, id)`);
    await q.query(`DROP INDEX IF EXISTS messages_campaign_status_idx`);
    await q.query(`CREATE INDEX messages_campaign_status_idx ON messages (campaign_id, status)`);
    await q.query(`DROP INDEX IF EXISTS campaigns_status_idx`);
    await q.query(`DROP INDEX IF EXISTS messages_victim_idx`);
    await q.query(`CREATE INDEX messages_victim_idx ON messages (victim_id, created_at)`);
    await q.query(`DROP TABLE IF EXISTS settings`);
    await q.query(`ALTER TABLE campaigns DROP COLUMN launch_summary, DROP COLUMN paused_at, DROP COLUMN updated_by`);
  }
}
