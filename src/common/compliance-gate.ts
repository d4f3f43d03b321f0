/**
 * The compliance gate: for one recipient, one message and one instant, decide
 * whether to send now, hold, defer to the next send window, or never send.
 *
 * It runs at launch and again in the worker just before the provider call
 * (an opt-out can arrive in between), so it must be pure and cheap.
 *
 * Decisions the caller must know:
 * - Rules apply in this order; the first that matches wins:
 *   1. campaign cancelled -> block `campaign_cancelled`; campaign in any
 *      status other than approved/scheduled/running/paused (draft,
 *      pending_approval, completed, unknown) -> block `campaign_not_sendable`,
 *      so nothing unapproved can ever leave;
 *   2. victim status opted_out / do_not_contact -> block with that reason;
 *      the victim opted out of this message's channel (`optedOutChannels`) ->
 *      block `opted_out`, detail = the channel: an opt-out belongs to the person,
 *      so it holds for a new address on that channel too, while the other
 *      channel stays open (a victim who sent STOP may still be emailed);
 *   3. on the suppression list -> block `suppressed`, detail = its reason;
 *   4. unusable address -> block `address_unusable` (SMS: E.164 and
 *      phoneType 'mobile' required, an unknown type is not sent to; email: a
 *      plausible address);
 *   5. frequency cap reached -> block `frequency_cap`;
 *   6. campaign paused -> `hold`: not sent, not final; re-decide on resume;
 *   7. outside the send window -> `defer` until the next window opening;
 *   8. otherwise `send`.
 * - The frequency cap is a launch-time decision: it blocks rather than
 *   defers (a warning that has to wait days for the rolling window to clear
 *   should be re-targeted by a later campaign), and it is not re-applied at
 *   `stage: 'send'`, where this campaign's own messages on another channel,
 *   sent seconds earlier, would otherwise block it. `recentMessageTimes` must
 *   not include the message being decided. The window is rolling:
 *   `days * 24h` before `now`; every time after its start counts, including
 *   any in the future.
 * - `days` lists the days a window opens on. An overnight window (start
 *   after end, e.g. 20:00-08:00) that opens on Friday runs to Saturday 08:00
 *   even when Saturday is not listed. Start == end is invalid.
 * - Times are wall-clock times in the window's IANA time zone, at minute
 *   precision: 09:00-20:00 includes 19:59:59.999 and excludes 20:00:00. A
 *   window opening at a time skipped by a DST change opens at the change
 *   (the first instant the clock reads later than the start); one opening at
 *   a time that occurs twice opens at the first occurrence still ahead.
 * - An invalid policy throws ComplianceConfigError: check configuration with
 *   validateCompliancePolicy when it is saved, not per message.
 */
import type { Channel } from './channel.js';
import type { PhoneType } from './phone.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** Indexed like Date.getUTCDay(): Sunday first. */
export const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface SendWindow {
  /** 'HH:MM', 24-hour. */
  start: string;
  /** 'HH:MM', 24-hour; earlier than start for a window crossing midnight. */
  end: string;
  /** IANA time zone, e.g. 'Europe/London'. */
  timezone: string;
  /** Days the window opens on. */
  days: readonly Weekday[];
}

export interface FrequencyCap {
  /** Most messages one recipient may get within the rolling window. */
  max: number;
  /** Length of the rolling window in days of 24 hours. */
  days: number;
}

export interface CompliancePolicy {
  sendWindow: SendWindow;
  frequencyCap: FrequencyCap;
}

export type { PhoneType };

export interface GateRecipient {
  channel: Channel;
  /** E.164 for SMS, an email address for email. */
  address: string;
  phoneType?: PhoneType | null;
  suppressed?: { reason: string } | null;
  victimStatus: string;
  /** Channels the victim opted out of (victims.opted_out_channels); absent = none. */
  optedOutChannels?: readonly string[] | null;
  /** When this recipient was last sent messages, by any campaign, excluding this one. */
  recentMessageTimes: readonly Date[];
}

export type GateStage = 'launch' | 'send';

export interface GateMessage {
  campaignStatus: string;
  /** Defaults to 'launch'. The frequency cap is only applied at launch. */
  stage?: GateStage;
}

export type BlockReason =
  | 'campaign_cancelled'
  | 'campaign_not_sendable'
  | 'opted_out'
  | 'do_not_contact'
  | 'suppressed'
  | 'address_unusable'
  | 'frequency_cap';

export type GateDecision =
  | { action: 'send' }
  | { action: 'hold'; reason: 'campaign_paused' }
  | { action: 'defer'; until: Date; reason: 'outside_send_window' }
  | { action: 'block'; reason: BlockReason; detail?: string };

export class ComplianceConfigError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(`Invalid compliance policy: ${errors.join(' ')}`);
    this.name = 'ComplianceConfigError';
  }
}

const MINUTE = 60_000;
const DAY = 86_400_000;

// ---------------------------------------------------------------- decide

export function decide(recipient: GateRecipient, message: GateMessage, now: Date, policy: CompliancePolicy): GateDecision {
  const capErrors = validateFrequencyCap(policy.frequencyCap);
  if (capErrors.length > 0) throw new ComplianceConfigError(capErrors);
  const window = parseWindow(policy.sendWindow);
  return (
    campaignBlock(message.campaignStatus) ??
    contactBlock(recipient) ??
    addressBlock(recipient) ??
    frequencyBlock(recipient, message, now, policy.frequencyCap) ??
    pausedHold(message.campaignStatus) ??
    windowDefer(now, window) ?? { action: 'send' }
  );
}

const SENDABLE_CAMPAIGN_STATUSES = new Set(['approved', 'scheduled', 'running', 'paused']);

function campaignBlock(status: string): GateDecision | undefined {
  if (status === 'cancelled') return { action: 'block', reason: 'campaign_cancelled' };
  if (!SENDABLE_CAMPAIGN_STATUSES.has(status)) return { action: 'block', reason: 'campaign_not_sendable', detail: status };
  return undefined;
}

function contactBlock(recipient: GateRecipient): GateDecision | undefined {
  const status = recipient.victimStatus;
  if (status === 'opted_out' || status === 'do_not_contact') return { action: 'block', reason: status };
  if (recipient.optedOutChannels?.includes(recipient.channel)) return { action: 'block', reason: 'opted_out', detail: recipient.channel };
  if (recipient.suppressed) return { action: 'block', reason: 'suppressed', detail: recipient.suppressed.reason };
  return undefined;
}

function addressBlock(recipient: GateRecipient): GateDecision | undefined {
  const problem = addressProblem(recipient);
  return problem === undefined ? undefined : { action: 'block', reason: 'address_unusable', detail: problem };
}

/** Why a message cannot go to this address, or undefined when it can. */
export function addressProblem(recipient: Pick<GateRecipient, 'channel' | 'address' | 'phoneType'>): string | undefined {
  if (recipient.channel === 'email') return isPlausibleEmail(recipient.address) ? undefined : 'invalid_email_address';
  if (!isE164(recipient.address)) return 'invalid_phone_number';
  return recipient.phoneType === 'mobile' ? undefined : 'not_a_mobile';
}

export function isE164(address: string): boolean {
  return /^\+[1-9]\d{6,14}$/.test(address);
}

const EMAIL_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

export function isPlausibleEmail(address: string): boolean {
  if (address.length > 254 || /\s/.test(address)) return false;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const labels = address.slice(at + 1).split('.');
  if (at < 1 || local.length > 64 || local.includes('@')) return false;
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) return false;
  const tld = labels.at(-1) ?? '';
  return labels.length >= 2 && labels.every((l) => EMAIL_LABEL.test(l)) && /^\p{L}{2,}$/u.test(tld);
}

function frequencyBlock(recipient: GateRecipient, message: GateMessage, now: Date, cap: FrequencyCap): GateDecision | undefined {
  if ((message.stage ?? 'launch') !== 'launch') return undefined;
  const since = now.getTime() - cap.days * DAY;
  const recent = recipient.recentMessageTimes.filter((t) => t.getTime() > since).length;
  return recent >= cap.max ? { action: 'block', reason: 'frequency_cap', detail: `${recent} in ${cap.days} days` } : undefined;
}

function pausedHold(status: string): GateDecision | undefined {
  return status === 'paused' ? { action: 'hold', reason: 'campaign_paused' } : undefined;
}

function windowDefer(now: Date, window: ParsedWindow): GateDecision | undefined {
  if (withinParsedWindow(now.getTime(), window)) return undefined;
  return { action: 'defer', until: new Date(nextOpening(now.getTime(), window)), reason: 'outside_send_window' };
}

// ---------------------------------------------------------------- validation

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export function validateSendWindow(window: SendWindow): string[] {
  const errors: string[] = [];
  for (const [field, value] of [['start', window.start], ['end', window.end]] as const) {
    if (!HH_MM.test(value)) errors.push(`The window ${field} "${value}" must be a 24-hour time such as 09:00.`);
  }
  if (window.start === window.end) {
    errors.push(`The window starts and ends at the same time (${window.start}); give an end time different from the start.`);
  }
  if (!isTimeZone(window.timezone)) {
    errors.push(`"${window.timezone}" is not a known time zone; use an IANA name such as Europe/London.`);
  }
  if (window.days.length === 0) errors.push('The window has no days; list at least one day it opens on.');
  const badDays = window.days.filter((d) => !WEEKDAYS.includes(d));
  if (badDays.length > 0) {
    errors.push(`Unknown day(s) ${badDays.join(', ')}; use ${WEEKDAYS.join(', ')}.`);
  }
  return errors;
}

export function validateFrequencyCap(cap: FrequencyCap): string[] {
  const errors: string[] = [];
  if (!Number.isInteger(cap.max) || cap.max < 1) {
    errors.push(`The frequency cap maximum (${cap.max}) must be a whole number of at least 1.`);
  }
  if (!Number.isFinite(cap.days) || cap.days <= 0) {
    errors.push(`The frequency cap period (${cap.days} days) must be more than 0 days.`);
  }
  return errors;
}

export function validateCompliancePolicy(policy: CompliancePolicy): string[] {
  return [...validateSendWindow(policy.sendWindow), ...validateFrequencyCap(policy.frequencyCap)];
}

function isTimeZone(timezone: string): boolean {
  try {
    formatterFor(timezone);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- windows

interface ParsedWindow {
  start: number;
  end: number;
  timezone: string;
  days: ReadonlySet<number>;
}

function parseWindow(window: SendWindow): ParsedWindow {
  const errors = validateSendWindow(window);
  if (errors.length > 0) throw new ComplianceConfigError(errors);
  return {
    start: minutesOf(window.start),
    end: minutesOf(window.end),
    timezone: window.timezone,
    days: new Set(window.days.map((d) => WEEKDAYS.indexOf(d))),
  };
}

function minutesOf(hhmm: string): number {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/** Whether `now` falls inside a send window (throws ComplianceConfigError if the window is invalid). */
export function isWithinWindow(now: Date, window: SendWindow): boolean {
  return withinParsedWindow(now.getTime(), parseWindow(window));
}

/**
 * The earliest window opening at or after `now`. When `now` is inside a
 * window that opened earlier, this is the following opening.
 */
export function nextWindowStart(now: Date, window: SendWindow): Date {
  return new Date(nextOpening(now.getTime(), parseWindow(window)));
}

function withinParsedWindow(instant: number, w: ParsedWindow): boolean {
  const local = wallClock(instant, w.timezone);
  const minute = local.hour * 60 + local.minute;
  const weekday = weekdayOf(local);
  if (w.start < w.end) return w.days.has(weekday) && minute >= w.start && minute < w.end;
  const openedToday = w.days.has(weekday) && minute >= w.start;
  const openedYesterday = w.days.has((weekday + 6) % 7) && minute < w.end;
  return openedToday || openedYesterday;
}

// A launch decides for every recipient at the same `now`; remembering the
// last answer saves recomputing the same opening 200,000 times.
let lastOpening: { key: string; opening: number } | undefined;

function nextOpening(now: number, w: ParsedWindow): number {
  const key = `${now}|${w.start}|${w.end}|${w.timezone}|${[...w.days].join()}`;
  if (lastOpening?.key !== key) lastOpening = { key, opening: computeNextOpening(now, w) };
  return lastOpening.opening;
}

function computeNextOpening(now: number, w: ParsedWindow): number {
  const today = wallClock(now, w.timezone);
  // Eight days: today's opening may have passed and today may be the only day.
  for (let offset = 0; offset <= 7; offset += 1) {
    const date = addDays(today, offset);
    if (!w.days.has(weekdayOf(date))) continue;
    const opening = instantsOfWallTime(date, w.start, w.timezone).find(
      (t) => t >= now && withinParsedWindow(t, w),
    );
    if (opening !== undefined) return opening;
  }
  throw new ComplianceConfigError(['The send window never opens.']);
}

// ---------------------------------------------------------------- time zones

interface CalendarDate {
  year: number;
  month: number;
  day: number;
}

interface WallClock extends CalendarDate {
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, formatter);
  }
  return formatter;
}

// A launch asks about the same instant for every recipient: remember the last answer.
let lastWallClock: { instant: number; timezone: string; value: WallClock } | undefined;

function wallClock(instant: number, timezone: string): WallClock {
  if (lastWallClock && lastWallClock.instant === instant && lastWallClock.timezone === timezone) return lastWallClock.value;
  const value = computeWallClock(instant, timezone);
  lastWallClock = { instant, timezone, value };
  return value;
}

function computeWallClock(instant: number, timezone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timezone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 0,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** Wall-clock time minus UTC at `instant`, in milliseconds. */
function offsetAt(instant: number, timezone: string): number {
  const w = wallClock(instant, timezone);
  const wallAsUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return wallAsUtc - Math.floor(instant / 1000) * 1000;
}

function addDays(date: CalendarDate, days: number): CalendarDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

function weekdayOf(date: CalendarDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
}

/**
 * The instants at which the clock in `timezone` reads `minuteOfDay` on
 * `date`, earliest first: one normally, two when the clocks go back, and
 * none when they go forward over it, in which case the instant of the change
 * (the first moment the clock reads later) is returned instead.
 */
function instantsOfWallTime(date: CalendarDate, minuteOfDay: number, timezone: string): number[] {
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minuteOfDay);
  // One transition at most within a day either side, true of every real zone today.
  const offsets = [...new Set([offsetAt(wall - DAY, timezone), offsetAt(wall + DAY, timezone)])];
  const candidates = offsets.map((o) => wall - o).sort((a, b) => a - b);
  const exact = candidates.filter((t) => offsetAt(t, timezone) === wall - t);
  if (exact.length > 0) return exact;
  return [firstInstantAfterChange(candidates[0] ?? wall, candidates.at(-1) ?? wall, timezone)];
}

/** The first minute in (from, to] whose UTC offset differs from that at `from`. */
function firstInstantAfterChange(from: number, to: number, timezone: string): number {
  const before = offsetAt(from, timezone);
  let lo = from;
  let hi = to;
  while (hi - lo > MINUTE) {
    const mid = lo + Math.max(MINUTE, Math.floor((hi - lo) / 2 / MINUTE) * MINUTE);
    if (offsetAt(mid, timezone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}
