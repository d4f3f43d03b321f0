import type { StaffRole } from '../auth/staff-user.entity.js';

/**
 * The campaign state machine, pure: which move is legal from which status, who may make
 * it, and where it leads.
 *
 *   draft → pending_approval → approved → scheduled | running ↔ paused → completed | cancelled
 *
 * - Operators and above create, edit and submit; only a supervisor or admin approves,
 *   and never one who wrote or submitted the campaign (two people, always).
 * - Supervisors and admins launch, pause, resume and cancel.
 * - Editing a campaign that was submitted or approved sends it back to draft: an
 *   approval covers the exact content that was approved.
 * - Launch leads to `scheduled` when the campaign starts later, else `running`; resume
 *   likewise. `completed` is reached by the delivery side when every message is final.
 */
export const CAMPAIGN_STATUSES = [
  'draft', 'pending_approval', 'approved', 'scheduled', 'running', 'paused', 'completed', 'cancelled',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CAMPAIGN_ACTIONS = ['edit', 'submit', 'approve', 'launch', 'pause', 'resume', 'cancel'] as const;
export type CampaignAction = (typeof CAMPAIGN_ACTIONS)[number];

const AUTHORS: readonly StaffRole[] = ['admin', 'supervisor', 'operator'];
const SUPERVISORS: readonly StaffRole[] = ['admin', 'supervisor'];

interface Rule {
  from: readonly CampaignStatus[];
  roles: readonly StaffRole[];
  to: (c: CampaignFacts, now: Date) => CampaignStatus;
}

/** Where a launch or a resume leads: `scheduled` while the campaign's start is ahead, else `running`. */
export function statusOnStart(startAt: Date | null, now: Date): 'scheduled' | 'running' {
  return startAt !== null && startAt.getTime() > now.getTime() ? 'scheduled' : 'running';
}

const startsLater = (c: CampaignFacts, now: Date) => statusOnStart(c.startAt, now);

export const CAMPAIGN_RULES: Readonly<Record<CampaignAction, Rule>> = {
  edit: { from: ['draft', 'pending_approval', 'approved'], roles: AUTHORS, to: () => 'draft' },
  submit: { from: ['draft'], roles: AUTHORS, to: () => 'pending_approval' },
  approve: { from: ['pending_approval'], roles: SUPERVISORS, to: () => 'approved' },
  launch: { from: ['approved'], roles: SUPERVISORS, to: startsLater },
  pause: { from: ['scheduled', 'running'], roles: SUPERVISORS, to: () => 'paused' },
  resume: { from: ['paused'], roles: SUPERVISORS, to: startsLater },
  cancel: { from: ['draft', 'pending_approval', 'approved', 'scheduled', 'running', 'paused'], roles: SUPERVISORS, to: () => 'cancelled' },
};

/** What the rules need to know about a campaign. */
export interface CampaignFacts {
  status: CampaignStatus;
  createdBy: string;
  updatedBy: string | null;
  submittedBy: string | null;
  startAt: Date | null;
}

export interface Mover {
  userId: string;
  role: StaffRole;
}

export type MoveDecision =
  | { ok: true; to: CampaignStatus }
  | { ok: false; status: 403 | 409; message: string };

export function decideMove(action: CampaignAction, c: CampaignFacts, who: Mover, now: Date): MoveDecision {
  const rule = CAMPAIGN_RULES[action];
  if (!rule.roles.includes(who.role)) {
    return { ok: false, status: 403, message: `A ${who.role} cannot ${action} a campaign; this needs ${rule.roles.join(' or ')}.` };
  }
  if (!rule.from.includes(c.status)) {
    return { ok: false, status: 409, message: `The campaign is ${c.status.replace('_', ' ')}: it cannot ${action}. ${nextSteps(c.status)}` };
  }
  if (action === 'approve') {
    const authors = new Set([c.createdBy, c.updatedBy, c.submittedBy].filter((x): x is string => x !== null));
    if (authors.has(who.userId)) {
      return { ok: false, status: 403, message: 'You wrote or submitted this campaign: another supervisor or admin must approve it.' };
    }
  }
  return { ok: true, to: rule.to(c, now) };
}

/** The moves legal from a status, for messages and for the API's `allowedActions`. */
export function actionsFrom(status: CampaignStatus): CampaignAction[] {
  return CAMPAIGN_ACTIONS.filter((a) => CAMPAIGN_RULES[a].from.includes(status));
}

function nextSteps(status: CampaignStatus): string {
  const legal = actionsFrom(status);
  return legal.length === 0 ? `A ${status} campaign is final.` : `From ${status.replace('_', ' ')} it can: ${legal.join(', ')}.`;
}
