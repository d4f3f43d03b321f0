import { isUuid } from '../../common/input-rules.js';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { refuseStaffChange } from '../../common/staff-change.js';
import { decodeCursor, encodeCursor, invalidCursor } from '../../common/paging.js';
import { Actor, AuditService } from '../audit/audit.service.js';
import { normaliseEmail } from './auth.service.js';
import { StaffAccessCache } from './staff-access.cache.js';
import type { StaffRole } from './staff-user.entity.js';
import { StaffUserView, StaffUsersRepository } from './staff-users.repository.js';

export interface UserChange {
  role?: StaffRole;
  disabled?: boolean;
}


/** Admins list, disable, enable and re-role staff; the API and the CLI both call this. */
@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly users: StaffUsersRepository,
    private readonly audit: AuditService,
    private readonly access: StaffAccessCache,
  ) {}

  async list(cursor: string | undefined, limit = 50): Promise<{ items: StaffUserView[]; nextCursor: string | null }> {
    let after: { email: string; id: string } | null = null;
    if (cursor) {
      const [email, id] = decodeCursor(cursor);
      if (typeof email !== 'string' || email.length > 320 || typeof id !== 'string' || !isUuid(id)) throw invalidCursor();
      after = { email, id };
    }
    const items = await this.users.list(after, limit + 1);
    const page = items.slice(0, limit);
    const last = page[page.length - 1];
    return { items: page, nextCursor: items.length > limit && last ? encodeCursor([last.email, last.id]) : null };
  }

  /**
   * Changes a user's role and/or `disabled`, ending their tokens. Refused with 409: a
   * change that would leave no active admin, and an admin's change to their own account
   * (so that nobody locks themselves out by a slip; another admin can do it).
   */
  async update(id: string, change: UserChange, by: Actor): Promise<StaffUserView> {
    const updated = await this.ds.transaction(async (m) => {
      const { target, activeAdmins } = await this.users.lockForChange(m, id);
      if (!target) throw new NotFoundException(`No staff user has the id ${id}`);
      const after = { role: change.role ?? target.role, disabled: change.disabled ?? target.disabled };
      if (after.role === target.role && after.disabled === target.disabled) return target;
      const refusal = refuseStaffChange({
        targetId: target.id,
        before: target,
        after,
        activeAdminIds: activeAdmins,
        actorId: by.type === 'staff' ? (by.id ?? null) : null,
      });
      if (refusal) throw new ConflictException(refusal);
      const row = await this.users.update(m, target.id, after);
      await this.audit.record(
        {
          actor: by,
          action: 'user.updated',
          subjectType: 'staff_user',
          subjectId: target.id,
          details: { before: { role: target.role, disabled: target.disabled }, after },
        },
        m,
      );
      return row!;
    });
    this.access.invalidate(id);
    return updated;
  }

  async updateByEmail(emailInput: string, change: UserChange, by: Actor): Promise<StaffUserView> {
    const email = normaliseEmail(emailInput);
    const user = await this.users.findByEmail(this.ds, email);
    if (!user) throw new NotFoundException(`No staff user has the email ${email}`);
    return this.update(user.id, change, by);
  }
}
