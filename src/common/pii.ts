/**
 * Masks personal data in free text before it reaches a log line: email addresses and
 * anything that looks like a phone number (9+ digits with the usual separators, standing
 * alone: not part of an id such as a UUID, nor a date). An "@" may be percent-encoded.
 */
const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}/gi;
const PHONE = /(?<![\w-])(?:\+|%2B)?\(?\d[\d\s().-]{6,}\d(?![\w-])/gi;

export function scrubPii(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, (m) => (m.replace(/\D/g, '').length >= 9 ? '[phone]' : m));
}

/**
 * Masks personal data in a URL (or a header that may hold one, such as Referer): it is
 * decoded first, so that "jane%40example.com" or "%2B44%207723%20456789" (and "+" for a
 * space in a query string) cannot slip past the patterns. The result is for reading, not
 * for requesting.
 */
export function scrubUrl(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q).replace(/\+/g, ' ');
  return scrubPii(decodeLoosely(path) + decodeLoosely(query));
}

function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A malformed escape somewhere: decode the escapes that are well formed.
    return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
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
