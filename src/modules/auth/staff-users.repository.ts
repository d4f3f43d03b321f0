import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { queryOne, queryRows } from '../../database/sql.js';
import type { StaffRole } from './staff-user.entity.js';

type Runner = DataSource | EntityManager;

/** What the guard needs to know about a user, as it is now. */
export interface LiveStaff {
  id: string;
  email: string;
  role: StaffRole;
  disabled: boolean;
  tokenVersion: number;
}

export interface StaffUserView {
  id: string;
  email: string;
  displayName: string | null;
  role: StaffRole;
  disabled: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

const VIEW = `id, email, display_name AS "displayName", role, disabled, last_login_at AS "lastLoginAt", created_at AS "createdAt"`;

/** The one owner of `staff_users` SQL. */
@Injectable()
export class StaffUsersRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  findForLogin(email: string) {
    return queryOne<{ id: string; role: StaffRole; password_hash: string; disabled: boolean; token_version: number }>(
      this.ds,
      `SELECT id, role, password_hash, disabled, token_version FROM staff_users WHERE email = $1`,
      [email],
    );
  }

  findLive(id: string): Promise<LiveStaff | undefined> {
    return queryOne<LiveStaff>(
      this.ds,
      `SELECT id, email, role, disabled, token_version AS "tokenVersion" FROM staff_users WHERE id = $1`,
      [id],
    );
  }

  recordLogin(id: string): Promise<unknown> {
    return this.ds.query(`UPDATE staff_users SET last_login_at = now() WHERE id = $1`, [id]);
  }

  insert(m: Runner, user: { email: string; passwordHash: string; role: StaffRole; displayName: string | null }) {
    return m.query<Array<{ id: string; email: string; role: StaffRole }>>(
      `INSERT INTO staff_users (email, password_hash, role, display_name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING RETURNING id, email, role`,
      [user.email, user.passwordHash, user.role, user.displayName],
    );
  }

  /** Users ordered by email, after `after` (keyset). */
  list(after: { email: string; id: string } | null, limit: number): Promise<StaffUserView[]> {
    return after
      ? queryRows<StaffUserView>(this.ds, `SELECT ${VIEW} FROM staff_users WHERE (email, id) > ($1, $2) ORDER BY email, id LIMIT $3`, [after.email, after.id, limit])
      : queryRows<StaffUserView>(this.ds, `SELECT ${VIEW} FROM staff_users ORDER BY email, id LIMIT $1`, [limit]);
  }

  /**
   * Locks every active admin's row, then the target's, in id order, so two changes to
   * admins at once are serialised and the last-admin check cannot be raced.
   */
  async lockForChange(m: Runner, id: string): Promise<{ target: StaffUserView | undefined; activeAdmins: string[] }> {
    const admins = await queryRows<{ id: string }>(
      m,
      `SELECT id FROM staff_users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE`,
    );
    const target = await queryOne<StaffUserView>(m, `SELECT ${VIEW} FROM staff_users WHERE id = $1 FOR UPDATE`, [id]);
    return { target, activeAdmins: admins.map((a) => a.id) };
  }

  findByEmail(m: Runner, email: string) {
    return queryOne<{ id: string }>(m, `SELECT id FROM staff_users WHERE email = $1`, [email]);
  }

  /** Applies the change and ends every token issued before it. */
  update(m: Runner, id: string, change: { role: StaffRole; disabled: boolean }): Promise<StaffUserView | undefined> {
    return queryOne<StaffUserView>(
      m,
      `UPDATE staff_users SET role = $2, disabled = $3, token_version = token_version + 1, updated_at = now()
        WHERE id = $1 RETURNING ${VIEW}`,
      [id, change.role, change.disabled],
    );
  }

  setPassword(m: Runner, id: string, passwordHash: string): Promise<{ id: string } | undefined> {
    return queryOne<{ id: string }>(
      m,
      `UPDATE staff_users SET password_hash = $2, token_version = token_version + 1, updated_at = now() WHERE id = $1 RETURNING id`,
      [id, passwordHash],
    );
  }

  /** Ends every token of this user (logout). */
  bumpTokenVersion(m: Runner, id: string): Promise<{ id: string } | undefined> {
    return queryOne<{ id: string }>(
      m,
      `UPDATE staff_users SET token_version = token_version + 1, updated_at = now() WHERE id = $1 RETURNING id`,
      [id],
    );
  }
}
