import type { Channel } from '../../common/channel.js';
import { isWithinWindow, nextWindowStart, type SendWindow } from '../../common/compliance-gate.js';

/**
 * When will a campaign finish sending? Pure. Each channel drains at its provider rate,
 * behind the messages already waiting on that channel (rates are shared by every
 * running campaign), and only while the send window is open. The campaign finishes
 * when its slowest channel does.
 */
export interface EtaInput {
  /** Messages this campaign will send, per channel. */
  messages: Partial<Record<Channel, number>>;
  /** Messages of other campaigns already waiting, per channel. */
  backlog?: Partial<Record<Channel, number>>;
  ratePerSecond: Record<Channel, number>;
  window: SendWindow;
  start: Date;
}

export interface Eta {
  finishesAt: Date | null;
  /** "finishes around Tue 1 Dec, 14:20" in the window's time zone; or why there is no estimate. */
  text: string;
  perChannel: Partial<Record<Channel, { messages: number; sendingSeconds: number; finishesAt: Date | null }>>;
}

/** Beyond this the estimate says "more than 90 days" rather than walk windows forever. */
const HORIZON_MS = 90 * 86_400_000;

export function estimateFinish(input: EtaInput): Eta {
  const perChannel: Eta['perChannel'] = {};
  let latest: Date | null = input.start;
  let beyond = false;
  for (const channel of ['sms', 'email'] as const) {
    const n = input.messages[channel] ?? 0;
    if (n <= 0) continue;
    const seconds = (n + (input.backlog?.[channel] ?? 0)) / input.ratePerSecond[channel];
    const finishesAt = drain(input.start, seconds * 1000, input.window);
    perChannel[channel] = { messages: n, sendingSeconds: Math.round(seconds), finishesAt };
    if (finishesAt === null) beyond = true;
    else if (latest !== null && finishesAt > latest) latest = finishesAt;
  }
  if (Object.keys(perChannel).length === 0) return { finishesAt: null, text: 'nothing to send', perChannel };
  if (beyond) return { finishesAt: null, text: 'finishes in more than 90 days at the current rates', perChannel };
  return { finishesAt: latest, text: `finishes around ${formatLocal(latest, input.window.timezone)}`, perChannel };
}

/** The instant `workMs` of sending is done, sending only inside the window; null past the horizon. */
export function drain(start: Date, workMs: number, window: SendWindow): Date | null {
  let t = start.getTime();
  let left = workMs;
  while (t - start.getTime() < HORIZON_MS) {
    if (!isWithinWindow(new Date(t), window)) t = nextWindowStart(new Date(t), window).getTime();
    const closes = windowClose(t, window);
    if (closes - t >= left) return new Date(t + left);
    left -= closes - t;
    t = closes;
  }
  return null;
}

/**
 * The first instant after `t` (inside the window) at which the window is closed. Windows
 * open and close on whole minutes, and a closed gap can be as short as one (or made
 * short by a DST change), so each minute is checked; at most eight days of them.
 */
function windowClose(t: number, window: SendWindow): number {
  const MIN = 60_000;
  let probe = Math.floor(t / MIN) * MIN + MIN;
  const limit = t + 8 * 86_400_000;
  while (probe < limit && isWithinWindow(new Date(probe), window)) probe += MIN;
  return probe;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function formatLocal(d: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone, weekday: 'short', day: 'numeric', month: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(d);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('weekday')} ${Number(get('day'))} ${MONTHS[Number(get('month')) - 1]}, ${get('hour')}:${get('minute')}`;
}
