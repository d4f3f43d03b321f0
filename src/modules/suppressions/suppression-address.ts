/**
 * The one way an address goes onto (or is looked up on) the suppression list. Pure: no
 * Nest, no database; campaign launch uses it too, so a number or email written any way
 * finds the same row.
 *
 * - sms: any written form `normalisePhone` accepts (default region GB), stored as E.164.
 *   Landlines and foreign numbers are accepted: suppressing them is harmless.
 * - email: trimmed and lower-cased, then it must pass `isPlausibleEmail`.
 */
import { CHANNELS, type Channel } from '../../common/channel.js';
import { isPlausibleEmail } from '../../common/compliance-gate.js';
import { normalisePhone } from '../../common/phone.js';

export type SuppressionChannel = Channel;
export const SUPPRESSION_CHANNELS: readonly SuppressionChannel[] = CHANNELS;

export type NormalisedSuppressionAddress = { ok: true; address: string } | { ok: false; reason: string };

/** Longest raw address considered at all (RFC 5321 path limit plus slack); longer is refused unread. */
const MAX_RAW_LENGTH = 320;
const MAX_EMAIL_LENGTH = 254;

export function normaliseSuppressionAddress(channel: SuppressionChannel, raw: string): NormalisedSuppressionAddress {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, reason: 'address is empty' };
  if (raw.length > MAX_RAW_LENGTH) return { ok: false, reason: `address is too long (over ${MAX_RAW_LENGTH} characters)` };
  if (channel === 'sms') {
    const phone = normalisePhone(raw);
    if (phone.ok) return { ok: true, address: phone.e164 };
    if (phone.reason === 'empty') return { ok: false, reason: 'address is empty' };
    if (phone.reason === 'not a phone number') return { ok: false, reason: 'address is not a phone number' };
    return { ok: false, reason: `address is not a phone number (${phone.reason})` };
  }
  if (channel === 'email') {
    const email = raw.trim().toLowerCase();
    if (email.length > MAX_EMAIL_LENGTH) {
      return { ok: false, reason: `address is too long for an email address (over ${MAX_EMAIL_LENGTH} characters)` };
    }
    // Control characters (NUL above all, which Postgres text cannot hold) are never in an address.
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
    if (/[\u0000-\u001f\u007f]/.test(email) || !isPlausibleEmail(email)) return { ok: false, reason: 'address is not a valid email address' };
    return { ok: true, address: email };
  }
  return { ok: false, reason: 'channel must be sms or email' };
}
