import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One-click unsubscribe links for emails (List-Unsubscribe): the message id and an HMAC
 * of it, so a link cannot be forged for someone else's message. The key is derived from
 * JWT_SECRET, which every process of a deployment shares.
 */
export function unsubscribeToken(messageId: string, secret: string): string {
  return `${messageId}.${mac(messageId, secret)}`;
}

export function unsubscribeUrl(publicBaseUrl: string, messageId: string, secret: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/unsubscribe/${unsubscribeToken(messageId, secret)}`;
}

/** The message id a token stands for, or null when the token is not one of ours. */
export function verifyUnsubscribeToken(token: string, secret: string): string | null {
  const m = /^(\d{1,19})\.([A-Za-z0-9_-]{22,64})$/.exec(token);
  if (!m) return null;
  const expected = Buffer.from(mac(m[1], secret));
  const given = Buffer.from(m[2]);
  return expected.length === given.length && timingSafeEqual(expected, given) ? m[1] : null;
}

function mac(messageId: string, secret: string): string {
  return createHmac('sha256', `unsubscribe:${secret}`).update(messageId).digest('base64url').slice(0, 32);
}
