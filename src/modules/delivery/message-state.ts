/**
 * The message state machine, pure: every status a message can have, how far along each
 * is, and every move with the statuses it may leave. `MessagesRepository` is the only
 * writer of `messages`, and each of its statements takes its `WHERE status IN (…)` from
 * this table, so a move that is not listed here cannot happen.
 *
 *   pending → queued → sending → sent → delivered | temporary_failure | permanent_failure
 *                 ↑        │  ╲
 *                 └────────┘   unknown → sent | queued (a person resolves it)
 *   (released: held, deferred, retried; or provably never reached the provider)
 *
 * Two kinds of move:
 *  - **fenced** moves are decisions a worker or the reconciler takes about *its* attempt
 *    (release, finish, mark unknown, requeue): they also require `attempts` to equal the
 *    attempt that was claimed, so a late writer never overwrites a newer state;
 *  - **evidence** moves record what a provider says happened (it accepted the message, a
 *    receipt): facts, whoever reports them and whenever, so they are not fenced but only
 *    ever move a message forwards (by rank), never back.
 */
export const MESSAGE_STATUSES = [
  'pending',
  'queued',
  'sending',
  'unknown',
  'sent',
  'delivered',
  'temporary_failure',
  'permanent_failure',
  'technical_failure',
  'suppressed',
  'cancelled',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** How far along a message is. Final statuses share the top rank: none overrides another. */
export const MESSAGE_RANK: Readonly<Record<MessageStatus, number>> = {
  pending: 0,
  queued: 10,
  sending: 20,
  unknown: 25,
  sent: 30,
  delivered: 40,
  temporary_failure: 40,
  permanent_failure: 40,
  technical_failure: 40,
  suppressed: 40,
  cancelled: 40,
};

export const FINAL_STATUSES: readonly MessageStatus[] = MESSAGE_STATUSES.filter((s) => MESSAGE_RANK[s] === 40);
/**
 * Statuses in which a campaign still has work to do, so it cannot complete: an
 * `unknown` message waits for a person, who may find it never left and send it again.
 */
export const OPEN_STATUSES: readonly MessageStatus[] = ['pending', 'queued', 'sending', 'unknown'];

export interface MessageMove {
  from: readonly MessageStatus[];
  to: readonly MessageStatus[];
  /** Requires the claimed attempt (the fencing token) to still be the message's. */
  fenced: boolean;
  /** Applies only when it moves the message forwards by rank. */
  forwardOnly: boolean;
}

const move = (from: readonly MessageStatus[], to: readonly MessageStatus[], o: { fenced?: boolean; forwardOnly?: boolean } = {}): MessageMove => ({
  from,
  to,
  fenced: o.fenced ?? false,
  forwardOnly: o.forwardOnly ?? false,
});

export const MESSAGE_MOVES = {
  /** Launch writes each audience member's message: queued, or suppressed with its reason. */
  launch: move([], ['queued', 'suppressed']),
  /** A worker takes a message to send it; `attempts` is incremented and becomes its fencing token. */
  claim: move(['queued'], ['sending']),
  /** Not sent this time (held while paused, deferred to the window, rate limited, a provider refusal that may pass). */
  release: move(['sending'], ['queued'], { fenced: true }),
  /** The worker ends the message: it can never go (refused, blocked by the gate, out of attempts). */
  finish: move(['sending'], ['permanent_failure', 'technical_failure', 'suppressed', 'cancelled'], { fenced: true }),
  /** The reconciler could not tell whether the provider has it: a person decides. */
  markUnknown: move(['sending'], ['unknown'], { fenced: true }),
  /** The reconciler asked the provider, which provably does not have it: it may be sent again. */
  requeueAbsent: move(['sending'], ['queued'], { fenced: true }),
  /** The provider accepted it (its answer, its callback, or a lookup): a fact, whoever reports it. */
  recordSent: move(['queued', 'sending', 'unknown'], ['sent'], { forwardOnly: true }),
  /** A delivery receipt. */
  receipt: move(['queued', 'sending', 'unknown', 'sent'], ['sent', 'delivered', 'temporary_failure', 'permanent_failure', 'suppressed'], { forwardOnly: true }),
  /** A supervisor settles an unknown message: the provider has it after all. */
  resolveSent: move(['unknown'], ['sent']),
  /** A supervisor settles an unknown message: it never left, so it goes again (or is cancelled with its campaign). */
  resolveNotSent: move(['unknown'], ['queued', 'cancelled']),
  /** The campaign was cancelled: nothing waiting may leave. */
  cancel: move(['pending', 'queued'], ['cancelled']),
} as const satisfies Record<string, MessageMove>;
export type MessageMoveName = keyof typeof MESSAGE_MOVES;

/** Whether `name` may take a message from `from` to `to` (ignoring the fence, which is the attempt's). */
export function canMove(name: MessageMoveName, from: MessageStatus, to: MessageStatus): boolean {
  const m: MessageMove = MESSAGE_MOVES[name];
  if (!m.from.includes(from) || !m.to.includes(to)) return false;
  return !m.forwardOnly || MESSAGE_RANK[to] > MESSAGE_RANK[from];
}

/** `column IN ('a', 'b')` for the statuses a move may leave: the one place SQL learns them. */
export function fromSql(name: MessageMoveName, column = 'status'): string {
  return `${column} IN (${MESSAGE_MOVES[name].from.map((s) => `'${s}'`).join(', ')})`;
}

/** `CASE column WHEN 'pending' THEN 0 … END`: the rank in SQL, from the same table. */
export function rankSql(column: string): string {
  return `CASE ${column} ${MESSAGE_STATUSES.map((s) => `WHEN '${s}' THEN ${MESSAGE_RANK[s]}`).join(' ')} END`;
}

export function statusListSql(statuses: readonly MessageStatus[]): string {
  return statuses.map((s) => `'${s}'`).join(', ');
}
