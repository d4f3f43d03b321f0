import type { StaffRole } from '../modules/auth/staff-user.entity.js';

export interface StaffState {
  role: StaffRole;
  disabled: boolean;
}

/**
 * Whether an admin change to a staff user may go ahead: null if so, else why not (a 409).
 * The service runs it under row locks on every active admin, so the count is exact.
 */
export function refuseStaffChange(input: {
  targetId: string;
  before: StaffState;
  after: StaffState;
  activeAdminIds: readonly string[];
  /** The staff user making the change; null for the CLI. */
  actorId: string | null;
}): string | null {
  const { targetId, after, activeAdminIds, actorId } = input;
  const staysActiveAdmin = after.role === 'admin' && !after.disabled;
  if (activeAdminIds.includes(targetId) && !staysActiveAdmin && activeAdminIds.length === 1) {
    return 'This is the last active admin: make another user an admin first';
  }
  // A slip must not lock an admin out of the screens they need to undo it.
  if (actorId === targetId) return 'You cannot disable or change the role of your own account; ask another admin';
  return null;
}
