import { describe, expect, it } from 'vitest';
import { refuseStaffChange, StaffState } from '../../src/common/staff-change.js';

const admin: StaffState = { role: 'admin', disabled: false };
const LAST = /last active admin/;
const OWN = /your own account/;

describe('refuseStaffChange', () => {
  const cases: Array<[string, Parameters<typeof refuseStaffChange>[0], RegExp | null]> = [
    ['disable the last admin (CLI)', { targetId: 'a', before: admin, after: { role: 'admin', disabled: true }, activeAdminIds: ['a'], actorId: null }, LAST],
    ['demote the last admin (CLI)', { targetId: 'a', before: admin, after: { role: 'supervisor', disabled: false }, activeAdminIds: ['a'], actorId: null }, LAST],
    ['the last admin disables themselves', { targetId: 'a', before: admin, after: { role: 'admin', disabled: true }, activeAdminIds: ['a'], actorId: 'a' }, LAST],
    ['demote one of two admins (CLI)', { targetId: 'a', before: admin, after: { role: 'analyst', disabled: false }, activeAdminIds: ['a', 'b'], actorId: null }, null],
    ['another admin disables one of two', { targetId: 'a', before: admin, after: { role: 'admin', disabled: true }, activeAdminIds: ['a', 'b'], actorId: 'b' }, null],
    ['an admin demotes themselves', { targetId: 'a', before: admin, after: { role: 'operator', disabled: false }, activeAdminIds: ['a', 'b'], actorId: 'a' }, OWN],
    ['an admin disables themselves', { targetId: 'a', before: admin, after: { role: 'admin', disabled: true }, activeAdminIds: ['a', 'b'], actorId: 'a' }, OWN],
    ['promote someone while the only admin', { targetId: 'o', before: { role: 'operator', disabled: false }, after: admin, activeAdminIds: ['a'], actorId: 'a' }, null],
    ['disable an operator while the only admin', { targetId: 'o', before: { role: 'operator', disabled: false }, after: { role: 'operator', disabled: true }, activeAdminIds: ['a'], actorId: 'a' }, null],
    ['enable a disabled admin when none is active', { targetId: 'd', before: { role: 'admin', disabled: true }, after: admin, activeAdminIds: [], actorId: null }, null],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const result = refuseStaffChange(input);
      if (expected) expect(result).toMatch(expected);
      else expect(result).toBeNull();
    });
  }
});
