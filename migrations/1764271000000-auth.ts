import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Staff access that can be withdrawn: every token carries the user's token_version, and
 * bumping it (logout, disable, role or password change) ends every token issued before.
 *
 * The per-account lock columns go: failed logins are now counted in Redis per (email,
 * client address) and per email, whether or not the account exists (docs/decisions.md,
 * "Login throttling"). A lock kept on the account row could be set by anyone who knows
 * the email, and only exists for real accounts, which told callers which emails are staff.
 */
export class Auth1764271000000 implements MigrationInterface {
  name = 'Auth1764271000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE staff_users ADD COLUMN token_version integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE staff_users DROP COLUMN failed_login_count, DROP COLUMN locked_until`);
    // The last-active-admin check reads exactly these rows, under lock, on every change.
    await q.query(`CREATE INDEX staff_users_active_admins_idx ON staff_users (id) WHERE role = 'admin' AND NOT disabled`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS staff_users_active_admins_idx`);
    await q.query(`ALTER TABLE staff_users ADD COLUMN failed_login_count integer NOT NULL DEFAULT 0, ADD COLUMN locked_until timestamptz`);
    await q.query(`ALTER TABLE staff_users DROP COLUMN token_version`);
  }
}
