import { describe, expect, it } from 'vitest';
import { canApproveRemoval, isOptOutReason, OPT_OUT_REASONS, reachableChannels } from '../../src/common/opt-out.js';

describe('opt-out rules', () => {
  it('knows the opt-out reasons, and only those', () => {
    for (const r of ['opt_out', 'provider_opt_out', 'unsubscribe', 'sms_stop']) expect(isOptOutReason(r)).toBe(true);
    for (const r of ['hard_bounce', 'do_not_contact', 'complaint', '', 'OPT_OUT']) expect(isOptOutReason(r)).toBe(false);
    expect(OPT_OUT_REASONS).toHaveLength(4);
  });

  const pending = { status: 'pending', requestedBy: 'alice' };
  it.each([
    [pending, { userId: 'bob', role: 'admin' }, { ok: true }],
    [pending, { userId: 'bob', role: 'supervisor' }, { ok: true }],
    [pending, { userId: 'alice', role: 'admin' }, { ok: false, status: 409 }],
    [pending, { userId: 'bob', role: 'operator' }, { ok: false, status: 403 }],
    [pending, { userId: 'bob', role: 'analyst' }, { ok: false, status: 403 }],
    [{ status: 'approved', requestedBy: 'alice' }, { userId: 'bob', role: 'admin' }, { ok: false, status: 409 }],
    [{ status: 'rejected', requestedBy: 'alice' }, { userId: 'bob', role: 'admin' }, { ok: false, status: 409 }],
  ])('removal %o approved by %o → %o', (removal, approver, expected) => {
    expect(canApproveRemoval(removal, approver)).toMatchObject(expected);
  });

  it('a victim opted out of one channel is still reachable on the other', () => {
    expect(reachableChannels(['sms', 'email'], ['sms'])).toEqual(['email']);
    expect(reachableChannels(['sms'], ['sms'])).toEqual([]);
    expect(reachableChannels(['sms', 'email'], [])).toEqual(['sms', 'email']);
  });
});
