import { describe, expect, it } from 'vitest';

import type { StaffRole } from '../../src/modules/auth/staff-user.entity.js';
import {
  actionsFrom,
  CAMPAIGN_ACTIONS,
  CAMPAIGN_STATUSES,
  decideMove,
  type CampaignAction,
  type CampaignFacts,
  type CampaignStatus,
} from '../../src/modules/campaigns/campaign-state.js';

/*
 * Expectations are written out by hand from the module's doc comment, not read back
 * from CAMPAIGN_RULES, so a change to the rules table has to be matched here.
 *
 *   draft → pending_approval → approved → scheduled | running ↔ paused → completed | cancelled
 */

const ROLES: readonly StaffRole[] = ['admin', 'supervisor', 'operator', 'analyst'];

/** Legal moves out of each status, in CAMPAIGN_ACTIONS order. */
const LEGAL: Record<CampaignStatus, CampaignAction[]> = {
  draft: ['edit', 'submit', 'cancel'],
  pending_approval: ['edit', 'approve', 'cancel'],
  approved: ['edit', 'launch', 'cancel'],
  scheduled: ['pause', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  completed: [],
  cancelled: [],
};

/** Who may attempt each action at all. */
const ALLOWED_ROLES: Record<CampaignAction, StaffRole[]> = {
  edit: ['admin', 'supervisor', 'operator'],
  submit: ['admin', 'supervisor', 'operator'],
  approve: ['admin', 'supervisor'],
  launch: ['admin', 'supervisor'],
  pause: ['admin', 'supervisor'],
  resume: ['admin', 'supervisor'],
  cancel: ['admin', 'supervisor'],
};

const NOW = new Date('2026-03-10T12:00:00.000Z');
const LATER = new Date('2026-03-11T09:00:00.000Z');
const EARLIER = new Date('2026-03-09T09:00:00.000Z');

/** Where a legal move leads, for a campaign whose start is `startAt`. */
function expectedTarget(action: CampaignAction, startAt: Date | null): CampaignStatus {
  switch (action) {
    case 'edit':
      return 'draft';
    case 'submit':
      return 'pending_approval';
    case 'approve':
      return 'approved';
    case 'pause':
      return 'paused';
    case 'cancel':
      return 'cancelled';
    case 'launch':
    case 'resume':
      return startAt !== null && startAt.getTime() > NOW.getTime() ? 'scheduled' : 'running';
  }
}

function facts(overrides: Partial<CampaignFacts> = {}): CampaignFacts {
  return {
    status: 'draft',
    createdBy: 'author-1',
    updatedBy: 'editor-2',
    submittedBy: 'submitter-3',
    startAt: null,
    ...overrides,
  };
}

const human = (s: CampaignStatus) => s.replace('_', ' ');

describe('the hand-written tables', () => {
  it('cover every status and action the module declares', () => {
    expect(Object.keys(LEGAL).sort()).toEqual([...CAMPAIGN_STATUSES].sort());
    expect(Object.keys(ALLOWED_ROLES).sort()).toEqual([...CAMPAIGN_ACTIONS].sort());
  });
});

describe('decideMove: every action × status × role', () => {
  const cases: [CampaignAction, CampaignStatus, StaffRole][] = [];
  for (const action of CAMPAIGN_ACTIONS) {
    for (const status of CAMPAIGN_STATUSES) {
      for (const role of ROLES) cases.push([action, status, role]);
    }
  }

  it('has 7 × 8 × 4 = 224 cases', () => {
    expect(cases).toHaveLength(224);
  });

  for (const startAt of [null, EARLIER, LATER]) {
    describe(`startAt ${startAt === null ? 'null' : startAt.toISOString()}`, () => {
      it.each(cases)('%s from %s by %s', (action, status, role) => {
        // The mover is none of creator / editor / submitter, so approve is not refused for authorship.
        const decision = decideMove(action, facts({ status, startAt }), { userId: 'someone-else', role }, NOW);
        const roleOk = ALLOWED_ROLES[action].includes(role);
        const statusOk = LEGAL[status].includes(action);
        if (!roleOk) {
          expect(decision).toMatchObject({ ok: false, status: 403 });
        } else if (!statusOk) {
          expect(decision).toMatchObject({ ok: false, status: 409 });
        } else {
          expect(decision).toEqual({ ok: true, to: expectedTarget(action, startAt) });
        }
      });
    });
  }
});

describe('decideMove: refusals', () => {
  it('role refusal (403) takes precedence over an illegal status (409)', () => {
    // analyst approving a completed campaign: both wrong, the role is reported
    const d = decideMove('approve', facts({ status: 'completed' }), { userId: 'x', role: 'analyst' }, NOW);
    expect(d).toMatchObject({ ok: false, status: 403 });
    // operator launching a draft: both wrong
    const d2 = decideMove('launch', facts({ status: 'draft' }), { userId: 'x', role: 'operator' }, NOW);
    expect(d2).toMatchObject({ ok: false, status: 403 });
  });

  it('403 message names the role, the action and who may do it', () => {
    const d = decideMove('cancel', facts({ status: 'running' }), { userId: 'x', role: 'operator' }, NOW);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.message).toContain('operator');
    expect(d.message).toContain('cancel');
    expect(d.message).toContain('admin');
    expect(d.message).toContain('supervisor');
  });

  it('analyst may not even edit or submit', () => {
    for (const action of ['edit', 'submit'] as const) {
      const d = decideMove(action, facts({ status: 'draft' }), { userId: 'x', role: 'analyst' }, NOW);
      expect(d).toMatchObject({ ok: false, status: 403 });
      if (!d.ok) expect(d.message).toMatch(/admin or supervisor or operator/);
    }
  });

  describe('409 messages name the current status and list the legal next actions', () => {
    for (const status of CAMPAIGN_STATUSES) {
      const illegal = CAMPAIGN_ACTIONS.filter((a) => !LEGAL[status].includes(a));
      for (const action of illegal) {
        it(`${action} from ${status}`, () => {
          const d = decideMove(action, facts({ status }), { userId: 'someone-else', role: 'admin' }, NOW);
          expect(d).toMatchObject({ ok: false, status: 409 });
          if (d.ok) return;
          expect(d.message).toContain(`The campaign is ${human(status)}`);
          expect(d.message).toContain(action);
          if (LEGAL[status].length === 0) {
            expect(d.message).toMatch(/final/);
            expect(d.message).toContain(`A ${status} campaign is final.`);
            expect(d.message).not.toMatch(/it can:/);
          } else {
            const listed = /it can: ([a-z, ]+)\./.exec(d.message);
            expect(listed).not.toBeNull();
            expect(listed![1].split(', ')).toEqual(LEGAL[status]);
            expect(d.message).not.toMatch(/final/);
          }
        });
      }
    }
  });

  it('409 message for pending_approval reads naturally', () => {
    const d = decideMove('launch', facts({ status: 'pending_approval' }), { userId: 'x', role: 'supervisor' }, NOW);
    expect(d).toEqual({
      ok: false,
      status: 409,
      message: 'The campaign is pending approval: it cannot launch. From pending approval it can: edit, approve, cancel.',
    });
  });

  it('409 message for a final status', () => {
    const d = decideMove('pause', facts({ status: 'cancelled' }), { userId: 'x', role: 'admin' }, NOW);
    expect(d).toEqual({
      ok: false,
      status: 409,
      message: 'The campaign is cancelled: it cannot pause. A cancelled campaign is final.',
    });
  });
});

describe('decideMove: two-person approval', () => {
  const pending = facts({ status: 'pending_approval', createdBy: 'u-create', updatedBy: 'u-edit', submittedBy: 'u-submit' });

  for (const role of ['admin', 'supervisor'] as const) {
    for (const [who, userId] of [['creator', 'u-create'], ['last editor', 'u-edit'], ['submitter', 'u-submit']] as const) {
      it(`refuses (403) a ${role} who is the ${who}`, () => {
        const d = decideMove('approve', pending, { userId, role }, NOW);
        expect(d).toMatchObject({ ok: false, status: 403 });
        if (!d.ok) expect(d.message).toMatch(/another supervisor or admin/);
      });
    }

    it(`allows a different ${role}`, () => {
      expect(decideMove('approve', pending, { userId: 'u-other', role }, NOW)).toEqual({ ok: true, to: 'approved' });
    });
  }

  it('refuses the creator even when updatedBy and submittedBy are null', () => {
    const c = facts({ status: 'pending_approval', createdBy: 'u1', updatedBy: null, submittedBy: null });
    expect(decideMove('approve', c, { userId: 'u1', role: 'admin' }, NOW)).toMatchObject({ ok: false, status: 403 });
    expect(decideMove('approve', c, { userId: 'u2', role: 'admin' }, NOW)).toEqual({ ok: true, to: 'approved' });
  });

  it('null updatedBy / submittedBy do not match anyone', () => {
    const c = facts({ status: 'pending_approval', createdBy: 'u1', updatedBy: null, submittedBy: 'u3' });
    expect(decideMove('approve', c, { userId: 'u2', role: 'supervisor' }, NOW)).toEqual({ ok: true, to: 'approved' });
    expect(decideMove('approve', c, { userId: 'u3', role: 'supervisor' }, NOW)).toMatchObject({ ok: false, status: 403 });
  });

  it('an author who is an operator is refused for role, not authorship', () => {
    const d = decideMove('approve', pending, { userId: 'u-create', role: 'operator' }, NOW);
    expect(d).toMatchObject({ ok: false, status: 403 });
    if (!d.ok) expect(d.message).toMatch(/operator cannot approve/);
  });

  it('authorship does not restrict other actions (the creator may launch, pause, cancel)', () => {
    const who = { userId: 'u-create', role: 'supervisor' as const };
    expect(decideMove('launch', facts({ ...pending, status: 'approved' }), who, NOW)).toEqual({ ok: true, to: 'running' });
    expect(decideMove('pause', facts({ ...pending, status: 'running' }), who, NOW)).toEqual({ ok: true, to: 'paused' });
    expect(decideMove('cancel', pending, who, NOW)).toEqual({ ok: true, to: 'cancelled' });
  });
});

describe('decideMove: launch and resume timing', () => {
  const sup = { userId: 's', role: 'supervisor' as const };
  for (const [action, status] of [['launch', 'approved'], ['resume', 'paused']] as const) {
    it(`${action}: start in the future → scheduled`, () => {
      expect(decideMove(action, facts({ status, startAt: LATER }), sup, NOW)).toEqual({ ok: true, to: 'scheduled' });
      expect(decideMove(action, facts({ status, startAt: new Date(NOW.getTime() + 1) }), sup, NOW)).toEqual({ ok: true, to: 'scheduled' });
    });
    it(`${action}: start in the past → running`, () => {
      expect(decideMove(action, facts({ status, startAt: EARLIER }), sup, NOW)).toEqual({ ok: true, to: 'running' });
      expect(decideMove(action, facts({ status, startAt: new Date(NOW.getTime() - 1) }), sup, NOW)).toEqual({ ok: true, to: 'running' });
    });
    it(`${action}: start exactly now → running`, () => {
      expect(decideMove(action, facts({ status, startAt: new Date(NOW.getTime()) }), sup, NOW)).toEqual({ ok: true, to: 'running' });
    });
    it(`${action}: no start time → running`, () => {
      expect(decideMove(action, facts({ status, startAt: null }), sup, NOW)).toEqual({ ok: true, to: 'running' });
    });
    it(`${action}: judged against the given now, not the real clock`, () => {
      const farFuture = new Date('2100-01-01T00:00:00Z');
      const farPast = new Date('2000-01-01T00:00:00Z');
      expect(decideMove(action, facts({ status, startAt: farFuture }), sup, new Date('2100-01-02T00:00:00Z'))).toEqual({ ok: true, to: 'running' });
      expect(decideMove(action, facts({ status, startAt: farPast }), sup, new Date('1999-12-31T00:00:00Z'))).toEqual({ ok: true, to: 'scheduled' });
    });
  }
});

describe('decideMove: editing sends back to draft', () => {
  for (const status of ['draft', 'pending_approval', 'approved'] as const) {
    for (const role of ['admin', 'supervisor', 'operator'] as const) {
      it(`edit from ${status} by ${role} → draft`, () => {
        expect(decideMove('edit', facts({ status, startAt: LATER }), { userId: 'author-1', role }, NOW)).toEqual({ ok: true, to: 'draft' });
      });
    }
  }
  for (const status of ['scheduled', 'running', 'paused', 'completed', 'cancelled'] as const) {
    it(`edit from ${status} → 409`, () => {
      expect(decideMove('edit', facts({ status }), { userId: 'x', role: 'admin' }, NOW)).toMatchObject({ ok: false, status: 409 });
    });
  }
});

describe('actionsFrom', () => {
  it.each(CAMPAIGN_STATUSES.map((s) => [s, LEGAL[s]] as const))('%s → %j', (status, expected) => {
    expect(actionsFrom(status)).toEqual(expected);
  });

  it('returns a fresh array each time (callers may mutate it)', () => {
    const a = actionsFrom('draft');
    a.push('launch');
    expect(actionsFrom('draft')).toEqual(LEGAL.draft);
  });

  it('agrees with decideMove for an unrestricted admin', () => {
    for (const status of CAMPAIGN_STATUSES) {
      const ok = CAMPAIGN_ACTIONS.filter((a) => decideMove(a, facts({ status }), { userId: 'z', role: 'admin' }, NOW).ok);
      expect(ok).toEqual(actionsFrom(status));
    }
  });
});
