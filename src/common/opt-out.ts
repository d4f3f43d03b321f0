/**
 * What counts as an opt-out, and who may take one back. Pure: no Nest, no database.
 * The migration's `suppression_is_opt_out()` holds the same list for the triggers.
 */

/** The person's own wish not to be contacted on a channel (any route it reached us by). */
export const OPT_OUT_REASONS = ['opt_out', 'provider_opt_out', 'unsubscribe', 'sms_stop'] as const;
export type OptOutReason = (typeof OPT_OUT_REASONS)[number];

export function isOptOutReason(reason: string): reason is OptOutReason {
  return (OPT_OUT_REASONS as readonly string[]).includes(reason);
}

/** Roles that may approve the removal of someone else's opt-out request. */
export const REMOVAL_APPROVER_ROLES = ['admin', 'supervisor'] as const;

export type RemovalDecision = { ok: true } | { ok: false; status: 403 | 409; message: string };

/**
 * Whether `approver` may approve a pending removal requested by `requestedBy`. Two
 * people: an opt-out undone by one person alone is exactly what the rule exists to stop.
 */
export function canApproveRemoval(removal: { status: string; requestedBy: string }, approver: { userId: string; role: string }): RemovalDecision {
  if (removal.status !== 'pending') return { ok: false, status: 409, message: `This removal is already ${removal.status}` };
  if (!(REMOVAL_APPROVER_ROLES as readonly string[]).includes(approver.role)) {
    return { ok: false, status: 403, message: 'Only an admin or a supervisor approves the removal of an opt-out' };
  }
  if (removal.requestedBy === approver.userId) {
    return { ok: false, status: 409, message: 'You asked for this removal: a second person (an admin or a supervisor) must approve it' };
  }
  return { ok: true };
}

/**
 * The channels a victim can still be reached on: the ones it has an address for, less
 * those it opted out of. A victim opted out of SMS may still be emailed.
 */
export function reachableChannels(channels: readonly string[], optedOut: readonly string[]): string[] {
  return channels.filter((c) => !optedOut.includes(c));
}
