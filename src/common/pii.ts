/**
 * Masks personal data in free text before it reaches a log line: email addresses and
 * anything that looks like a phone number (9+ digits with the usual separators, standing
 * alone: not part of an id such as a UUID, nor a date).
 */
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const PHONE = /(?<![\w-])(?:\+|%2B)?\(?\d[\d\s().-]{6,}\d(?![\w-])/gi;

export function scrubPii(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, (m) => (m.replace(/\D/g, '').length >= 9 ? '[phone]' : m));
}

/** Masks for analysts: keeps enough to recognise a record, not enough to contact it. */
export function maskPhone(e164: string): string {
  if (e164.length <= 6) return '*'.repeat(e164.length);
  return e164.slice(0, 4) + '*'.repeat(e164.length - 7) + e164.slice(-3);
}

export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  if (at < 1) return '***';
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  return `${email[0]}***@${domain[0] ?? ''}***${dot >= 0 ? domain.slice(dot) : ''}`;
}
