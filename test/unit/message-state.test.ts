import { describe, expect, it } from 'vitest';
import {
  canMove,
  FINAL_STATUSES,
  fromSql,
  MESSAGE_MOVES,
  MESSAGE_RANK,
  MESSAGE_STATUSES,
  MessageMoveName,
  MessageStatus,
  rankSql,
} from '../../src/modules/delivery/message-state.js';

/**
 * Every move × every status it could leave × every status it could reach: the table says
 * exactly which are legal. Written out here by hand, so a change to the table has to be
 * made twice on purpose.
 */
const LEGAL: Record<MessageMoveName, Array<[MessageStatus, MessageStatus]>> = {
  launch: [],
  claim: [['queued', 'sending']],
  release: [['sending', 'queued']],
  finish: [
    ['sending', 'permanent_failure'],
    ['sending', 'technical_failure'],
    ['sending', 'suppressed'],
    ['sending', 'cancelled'],
  ],
  markUnknown: [['sending', 'unknown']],
  requeueAbsent: [['sending', 'queued']],
  recordSent: [
    ['queued', 'sent'],
    ['sending', 'sent'],
    ['unknown', 'sent'],
  ],
  receipt: [
    ...(['queued', 'sending', 'unknown'] as const).flatMap((from) =>
      (['sent', 'delivered', 'temporary_failure', 'permanent_failure', 'suppressed'] as const).map((to): [MessageStatus, MessageStatus] => [from, to]),
    ),
    ['sent', 'delivered'],
    ['sent', 'temporary_failure'],
    ['sent', 'permanent_failure'],
    ['sent', 'suppressed'],
  ],
  resolveSent: [['unknown', 'sent']],
  resolveNotSent: [
    ['unknown', 'queued'],
    ['unknown', 'cancelled'],
  ],
  cancel: [
    ['pending', 'cancelled'],
    ['queued', 'cancelled'],
  ],
};

describe('message state table', () => {
  for (const name of Object.keys(MESSAGE_MOVES) as MessageMoveName[]) {
    it(`${name}: exactly the listed moves are legal`, () => {
      const legal = new Set(LEGAL[name].map(([a, b]) => `${a}→${b}`));
      for (const from of MESSAGE_STATUSES) {
        for (const to of MESSAGE_STATUSES) {
          expect(canMove(name, from, to), `${name} ${from}→${to}`).toBe(legal.has(`${from}→${to}`));
        }
      }
    });
  }

  it('no move leaves a final status: a delivered, failed, suppressed or cancelled message stays so', () => {
    for (const name of Object.keys(MESSAGE_MOVES) as MessageMoveName[]) {
      for (const from of FINAL_STATUSES) for (const to of MESSAGE_STATUSES) expect(canMove(name, from, to)).toBe(false);
    }
  });

  it('evidence moves only go forwards; decisions about an attempt are fenced', () => {
    for (const [name, m] of Object.entries(MESSAGE_MOVES)) {
      if (m.forwardOnly) for (const from of m.from) for (const to of m.to) if (canMove(name as MessageMoveName, from, to)) expect(MESSAGE_RANK[to]).toBeGreaterThan(MESSAGE_RANK[from]);
    }
    expect(Object.entries(MESSAGE_MOVES).filter(([, m]) => m.fenced).map(([n]) => n).sort()).toEqual(['finish', 'markUnknown', 'release', 'requeueAbsent']);
    expect(MESSAGE_MOVES.recordSent.fenced).toBe(false);
    expect(MESSAGE_MOVES.receipt.fenced).toBe(false);
  });

  it('a message in sending is never claimed again: only a verdict on its attempt or evidence moves it', () => {
    expect(canMove('claim', 'sending', 'sending')).toBe(false);
    expect(canMove('claim', 'unknown', 'sending')).toBe(false);
    expect(canMove('release', 'unknown', 'queued')).toBe(false);
  });

  it('SQL is generated from the same table', () => {
    expect(fromSql('claim', 'm.status')).toBe("m.status IN ('queued')");
    expect(fromSql('cancel')).toBe("status IN ('pending', 'queued')");
    expect(rankSql('s')).toContain("WHEN 'unknown' THEN 25");
    expect(rankSql('s')).toContain("WHEN 'sent' THEN 30");
  });
});
