import twilio from 'twilio';
import type { AppConfig } from '../../../config/configuration.js';
import { scrubPii } from '../../../common/pii.js';
import { OutgoingSms, ProviderError, SendResult, SentQuery, SmsProvider } from './provider.js';

type TwilioClient = ReturnType<typeof twilio>;
type RequestOptions<T> = Parameters<InstanceType<typeof twilio.RequestClient>['request']>[0] & { data?: T };

export const DEFAULT_TWILIO_TIMEOUT_MS = 10_000;
/** Used for 429 / 20429 when the answer carries no usable Retry-After header. */
export const DEFAULT_RATE_LIMIT_PAUSE_MS = 1_000;
/** Key under which the HTTP client tucks a 429's Retry-After into the error body (RestException.details). */
const RETRY_AFTER_DETAIL = 'retry_after_ms';
/** Provider and worker clocks differ; how far before `since` a provider record may still be ours. */
const FIND_SENT_CLOCK_SKEW_MS = 2 * 60_000;

/**
 * Network failures before the request can have reached Twilio: nothing was sent, so the
 * message may simply be tried again.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_SOCKET_CONNECTION_TIMEOUT']);

/**
 * Network failures after the request may have reached Twilio (a timeout, a reset, a
 * hang-up): Twilio may have accepted the message and only the answer was lost.
 */
const MAYBE_SENT_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNABORTED', // axios: request timeout (when transitional.clarifyTimeoutError is off, the default)
  'ERR_CANCELED',
  'ERR_NETWORK',
  'ESOCKETTIMEDOUT',
  'EPIPE',
]);

/**
 * The official client's HTTP client, with two additions:
 *  - when `apiUrl` is set, every `*.twilio.com` URI (api.twilio.com and the regional or
 *    product hosts, including absolutised `next_page_uri`s) is rewritten onto that base URL:
 *    this is how tests (and a staging stub) point the real client at a local fake;
 *  - a 429's Retry-After header is carried into the error: twilio's RestException keeps
 *    only the body (status, code, message, more_info, details), so the header is added to
 *    the body's `details` before the client builds the exception. Done per response, so
 *    concurrent sends on one client cannot see each other's headers (unlike `lastResponse`).
 */
export class TwilioHttpClient extends twilio.RequestClient {
  private readonly base?: string;

  constructor(opts: { timeoutMs: number; apiUrl?: string }) {
    // `timeout` is the axios request timeout (and the https agent's socket timeout).
    // twilio(..., { timeout }) is ignored once a custom httpClient is given, so it is set here.
    super({ timeout: opts.timeoutMs, autoRetry: false });
    this.base = opts.apiUrl?.replace(/\/+$/, '');
  }

  rewrite(uri: string): string {
    if (!this.base) return uri;
    let u: URL;
    try {
      u = new URL(uri);
    } catch {
      return uri;
    }
    const host = u.hostname.toLowerCase();
    if (host !== 'twilio.com' && !host.endsWith('.twilio.com')) return uri;
    return this.base + u.pathname + u.search;
  }

  override async request<TData>(opts: RequestOptions<TData>) {
    const res = await super.request<TData>({ ...opts, uri: this.rewrite(opts.uri) });
    if (res.statusCode === 429) {
      const ms = parseRetryAfter(headerValue(res.headers, 'retry-after'));
      if (ms !== undefined && ms > 0) {
        const body = parseBody(res.body);
        if (body) {
          const details = typeof body.details === 'object' && body.details !== null ? body.details : {};
          body.details = { ...details, [RETRY_AFTER_DETAIL]: ms };
          res.body = body as TData;
        }
      }
    }
    return res;
  }
}

export class TwilioSmsProvider implements SmsProvider {
  readonly name = 'twilio';
  private readonly client: TwilioClient;
  private readonly from?: string;
  private readonly messagingServiceSid?: string;
  private readonly statusCallback: string;

  constructor(config: AppConfig, opts: { timeoutMs?: number } = {}) {
    const { accountSid, authToken, from, messagingServiceSid, apiUrl } = config.twilio;
    if (!accountSid || !authToken) throw new Error('TwilioSmsProvider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
    if (!from && !messagingServiceSid) throw new Error('TwilioSmsProvider needs TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID');
    // The custom client is used with or without apiUrl: it also keeps the timeout short
    // (twilio's own default is 30 s) and reads Retry-After.
    const httpClient = new TwilioHttpClient({ timeoutMs: opts.timeoutMs ?? DEFAULT_TWILIO_TIMEOUT_MS, apiUrl });
    this.client = twilio(accountSid, authToken, { httpClient });
    this.from = from;
    this.messagingServiceSid = messagingServiceSid;
    this.statusCallback = `${config.publicBaseUrl.replace(/\/+$/, '')}/webhooks/twilio/status`;
  }

  /**
   * Our message id travels in the callback URL (Twilio signs the whole URL), so Twilio's
   * own status callback names the message even when the API's answer to the create was
   * lost: that is how a message whose answer timed out becomes `sent` without guessing.
   */
  statusCallbackFor(messageId: string): string {
    return `${this.statusCallback}?messageId=${encodeURIComponent(messageId)}`;
  }

  async send(sms: OutgoingSms): Promise<SendResult> {
    // A Messaging Service wins when both are configured: it owns the sender pool,
    // sticky senders and the service-level opt-out handling.
    const sender = this.messagingServiceSid ? { messagingServiceSid: this.messagingServiceSid } : { from: this.from! };
    try {
      const msg = await this.client.messages.create({
        to: sms.to,
        body: sms.body,
        ...sender,
        statusCallback: this.statusCallbackFor(sms.messageId),
      });
      return { providerMessageId: msg.sid };
    } catch (err) {
      throw toProviderError(err, sms);
    }
  }

  /**
   * Whether Twilio holds a message of ours that we have no id for. Not matched on the body
   * byte for byte (Twilio may re-encode it, a Messaging Service may add text): a message to
   * the same number, created since the claim (less clock skew), whose sid is not already one
   * of our other messages', is ours; when several are, the one whose body reads the same
   * once normalised wins. Not filtered by DateSent: a message still queued at Twilio has no
   * date_sent yet. A victim's number gets few messages, so the newest 50 are enough.
   * null: Twilio answered and has none; undefined: it could not be asked.
   */
  async findSent(q: SentQuery): Promise<SendResult | null | undefined> {
    try {
      const list = await this.client.messages.list({ to: q.to, limit: 50 });
      const earliest = q.since.getTime() - FIND_SENT_CLOCK_SKEW_MS;
      const known = new Set(q.knownProviderIds);
      const candidates = list.filter(
        (m) =>
          !known.has(m.sid) &&
          (m.direction === undefined || String(m.direction).startsWith('outbound')) &&
          (!(m.dateCreated instanceof Date) || Number.isNaN(m.dateCreated.getTime()) || m.dateCreated.getTime() >= earliest),
      );
      if (candidates.length === 0) return null;
      const body = normaliseBody(q.body);
      const hit = candidates.find((m) => normaliseBody(m.body ?? '').startsWith(body) || body.startsWith(normaliseBody(m.body ?? ''))) ?? candidates[candidates.length - 1];
      return { providerMessageId: hit.sid };
    } catch {
      return undefined;
    }
  }
}

/** A body as compared across Twilio's re-encodings: NFKC, quotes and dashes folded, whitespace collapsed. */
export function normaliseBody(body: string): string {
  return body
    .normalize('NFKC')
    .replace(/[\u2018\u2019\u201B\u2032]/g, "'")
    .replace(/[\u201C\u201D\u2033]/g, '"')
    .replace(/[\u2010-\u2015]/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/**
 * Maps whatever the twilio client threw onto the four outcomes. Errors with a numeric
 * `status` are API answers (RestException, or TwilioServiceException for RFC 9457
 * bodies; both have `status` and `code`); anything else is a network failure or timeout.
 * Messages never include the number or the body: Twilio's own text sometimes quotes the
 * number ("The 'To' number +44... is not a valid phone number"), so it is scrubbed.
 */
export function toProviderError(err: unknown, sms?: Pick<OutgoingSms, 'to' | 'body'>): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = (err ?? {}) as Record<string, unknown>;
  const status = typeof e.status === 'number' ? e.status : undefined;
  if (status !== undefined) {
    const twilioCode = typeof e.code === 'number' || typeof e.code === 'string' ? String(e.code) : undefined;
    const text = safeText(typeof e.message === 'string' ? e.message : '', sms);
    const moreInfo = typeof e.moreInfo === 'string' ? ` (${e.moreInfo})` : '';
    const describe = (label: string) => `Twilio ${label}: HTTP ${status}${twilioCode ? ` code ${twilioCode}` : ''}${text ? `: ${text}` : ''}${moreInfo}`;

    if (status === 429 || twilioCode === '20429') {
      const details = e.details as Record<string, unknown> | undefined;
      const ra = details && typeof details[RETRY_AFTER_DETAIL] === 'number' ? (details[RETRY_AFTER_DETAIL]) : undefined;
      return new ProviderError('rate_limited', twilioCode ?? `HTTP ${status}`, describe('rate limited'), ra ?? DEFAULT_RATE_LIMIT_PAUSE_MS);
    }
    if (twilioCode === '21610') {
      return new ProviderError('opted_out', twilioCode, describe('recipient opted out'));
    }
    if (status >= 500) {
      // A 5xx can come after Twilio accepted the message (a failure on the way back):
      // resolved against Twilio before any retry.
      return new ProviderError('maybe_sent', `HTTP ${status}`, describe('server error'));
    }
    if (status === 401 || status === 403) {
      // Our credentials (or account) are wrong, not the recipient: every message would
      // fail the same way. 'retry' keeps the message alive (backoff, bounded attempts)
      // so that it goes out once the credentials are fixed; 'permanent' would mark a whole
      // campaign undeliverable because of a configuration mistake.
      return new ProviderError('retry', `HTTP ${status}`, describe('authentication failed'));
    }
    if (status >= 400) {
      // 21211 invalid To, 21614 not a mobile, 21408 region not enabled, 21612 unroutable,
      // 21606 From not capable, 21617 body too long, 30xxx at send time, and any other 4xx.
      return new ProviderError('permanent', twilioCode ?? `HTTP ${status}`, describe('rejected the message'));
    }
    // 1xx/3xx (redirects are not followed): unexpected, not the recipient's fault.
    return new ProviderError('retry', `HTTP ${status}`, describe('unexpected answer'));
  }

  const code = typeof e.code === 'string' && e.code ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  if (code && NOT_SENT_CODES.has(code)) {
    return new ProviderError('retry', code, `Twilio could not be reached (${code})`);
  }
  if (code && MAYBE_SENT_CODES.has(code)) {
    const what = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || /timeout/i.test(message) ? 'request timed out' : 'connection lost';
    return new ProviderError('maybe_sent', code, `Twilio ${what} (${code}); it may have accepted the message`);
  }
  if (/socket hang up/i.test(message)) return new ProviderError('maybe_sent', code ?? 'ECONNRESET', 'Twilio connection lost (socket hang up); it may have accepted the message');
  if (/timeout/i.test(message)) return new ProviderError('maybe_sent', code ?? 'ETIMEDOUT', 'Twilio request timed out; it may have accepted the message');
  // Anything else (an unknown network code, a client-side error): we cannot tell whether
  // the request left, so it is resolved against Twilio rather than sent again.
  return new ProviderError('maybe_sent', code ?? 'UNKNOWN', `Twilio request failed (${code ?? (err instanceof Error ? err.name : 'unknown error')})`);
}

function safeText(text: string, sms?: Pick<OutgoingSms, 'to' | 'body'>): string {
  let t = text;
  if (sms?.to) t = t.split(sms.to).join('[phone]');
  if (sms?.body && sms.body.length >= 4) t = t.split(sms.body).join('[body]');
  t = scrubPii(t);
  return t.length > 300 ? `${t.slice(0, 300)}…` : t;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const v = typeof h.get === 'function' ? h.get(name) : (h[name] ?? h[name.toLowerCase()]);
  const first: unknown = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof first === 'string' ? first : typeof first === 'number' ? String(first) : undefined;
}

/** Retry-After: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function parseBody(body: unknown): Record<string, unknown> | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : undefined;
}
