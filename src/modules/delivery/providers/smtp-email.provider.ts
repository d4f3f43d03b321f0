import nodemailer from 'nodemailer';
import type { NodemailerError, SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from 'nodemailer';
import type { AppConfig } from '../../../config/configuration.js';
import { EmailProvider, OutgoingEmail, ProviderError, SendResult } from './provider.js';

export interface SmtpEmailProviderOptions {
  /** How long to wait for the TCP connection (default 10 s). */
  connectionTimeoutMs?: number;
  /** Idle time on an open connection before it is dropped as dead (default 60 s). */
  socketTimeoutMs?: number;
}

/**
 * Errors that say the connection failed before the server can have taken the message:
 * it can simply be tried again.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'EDNS',
  'ETLS',
  'EPROXY',
  'EMAXLIMIT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Timeouts before the session was open (nodemailer's timeoutType): nothing was sent. */
const NOT_SENT_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'DNS_TIMEOUT']);

/**
 * Errors on an open session (a reset, a close, an idle timeout, a protocol break): the
 * server may have received the whole message and lost only its reply to DATA, and
 * nodemailer does not say at which step it was. SMTP cannot be asked afterwards, so such
 * a message is never sent again by itself: it ends `unknown`, for a person.
 */
const MAYBE_SENT_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EPROTOCOL', 'ECONNRESET', 'ECONNABORTED', 'EPIPE']);

/** Errors about our own set-up: retry (and alert), never blame the recipient. */
const CONFIG_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ECONFIG', 'EREQUIRETLS']);

/** Errors about the message or its envelope that a retry cannot fix. */
const MESSAGE_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS', 'ESTREAM']);

/**
 * Email over SMTP with nodemailer's pooled transport.
 *
 * SMTP_URL is handed to nodemailer's own URL parsing, so its query string may set any
 * transport option, and it overrides the defaults here. Notably:
 *   - `smtp://user:pass@host:587`: plain connection, upgraded with STARTTLS when offered;
 *   - `smtps://host:465`: TLS from the start;
 *   - `?ignoreTLS=true`: never STARTTLS (a local relay or test server whose certificate
 *     cannot be verified, e.g. smtp-server's bundled, expired one);
 *   - `?requireTLS=true`: refuse to send unless STARTTLS succeeds;
 *   - `?maxConnections=10&maxMessages=500`: pool size and messages per connection.
 *
 * SMTP cannot be asked whether it accepted a message, so there is no findSent: a
 * failure after the session opened is `maybe_sent` and ends `unknown` rather than being
 * sent twice. The Message-ID carries our message id, which lets a receiving system drop a
 * duplicate should a person decide to send it again.
 */
export class SmtpEmailProvider implements EmailProvider {
  readonly name = 'smtp';
  private readonly transport: Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
  private readonly from: string;
  private readonly domain: string;

  constructor(config: AppConfig, opts: SmtpEmailProviderOptions = {}) {
    if (!config.smtpUrl) throw new Error('SMTP_URL is required for the SMTP email provider');
    this.from = config.emailFrom;
    this.domain = domainOf(config.emailFrom);
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 5,
      maxMessages: 100,
      connectionTimeout: opts.connectionTimeoutMs ?? 10_000,
      greetingTimeout: opts.connectionTimeoutMs ?? 10_000,
      socketTimeout: opts.socketTimeoutMs ?? 60_000,
      dnsTimeout: opts.connectionTimeoutMs ?? 10_000,
      // Our content never names files or URLs to embed; refuse them if it ever did.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
      // Query options in the URL win over everything above.
      url: config.smtpUrl,
    });
  }

  async send(email: OutgoingEmail): Promise<SendResult> {
    const messageId = `<msg-${email.messageId.replace(/[^A-Za-z0-9._-]/g, '')}@${this.domain}>`;
    try {
      await this.transport.sendMail({
        from: this.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        ...(email.html ? { html: email.html } : {}),
        messageId,
        headers: {
          'List-Unsubscribe': `<${email.unsubscribeUrl}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        },
      });
    } catch (err) {
      throw toProviderError(err);
    }
    return { providerMessageId: messageId };
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/**
 * Maps a nodemailer failure onto our outcomes. The message never includes nodemailer's own
 * text, which names the recipient; the server's reply is kept with addresses blanked out.
 */
export function toProviderError(err: unknown): ProviderError {
  const e = (err ?? {}) as NodemailerError;
  // A rejected recipient's own reply is the precise one; the top-level error only sums up.
  const detail = e.rejectedErrors?.find((r) => typeof r.responseCode === 'number') ?? e;
  const responseCode = typeof detail.responseCode === 'number' ? detail.responseCode : undefined;
  // nodemailer wraps socket failures as ESOCKET and keeps Node's code (ECONNREFUSED,
  // CERT_HAS_EXPIRED, …) as originalCode: report the precise one, classify by either.
  const ownCode = (e.code ?? '');
  const code = (e.originalCode ?? ownCode);
  const is = (set: Set<string>) => set.has(code) || set.has(ownCode);
  const reply = detail.response ? `: ${redact(detail.response)}` : '';

  if (responseCode !== undefined && responseCode >= 400 && responseCode < 600) {
    const smtpCode = `SMTP ${responseCode}`;
    const recipient = e.command === 'RCPT TO' || detail.command === 'RCPT TO' || (e.rejected?.length ?? 0) > 0;
    const what = recipient ? 'the recipient' : e.command ? `${e.command}` : 'the message';
    if (is(CONFIG_CODES)) {
      return new ProviderError('retry', smtpCode, `SMTP server refused our credentials or settings (${code})${reply}`);
    }
    // 4xx is transient by definition; 503 (bad sequence of commands) is a session state
    // problem that a fresh connection clears, not a verdict on the message.
    if (responseCode < 500 || responseCode === 503) {
      return new ProviderError('retry', smtpCode, `SMTP server deferred ${what}${reply}`);
    }
    return new ProviderError('permanent', smtpCode, `SMTP server rejected ${what}${reply}`);
  }
  const timeoutType = (e as { timeoutType?: string }).timeoutType;
  // A certificate the TLS handshake refused (CERT_HAS_EXPIRED, SELF_SIGNED_CERT_IN_CHAIN, …): no session, nothing sent.
  const tlsRefusal = /^(CERT_|ERR_TLS|ERR_SSL|SELF_SIGNED|DEPTH_ZERO|UNABLE_TO_)/.test(code);
  if (is(NOT_SENT_CODES) || tlsRefusal || (timeoutType !== undefined && NOT_SENT_TIMEOUTS.has(timeoutType))) {
    return new ProviderError('retry', code, `SMTP connection failed (${code})`);
  }
  if (is(MAYBE_SENT_CODES)) {
    return new ProviderError('maybe_sent', code, `SMTP connection lost (${code}${timeoutType ? ` ${timeoutType}` : ''}); the server may have taken the message`);
  }
  if (is(CONFIG_CODES)) {
    return new ProviderError('retry', code, `SMTP configuration problem (${code})`);
  }
  if (is(MESSAGE_CODES)) {
    return new ProviderError('permanent', code, `SMTP could not send this message (${code})`);
  }
  // Unknown: we cannot tell whether the message left, so it is not sent again blindly.
  return new ProviderError('maybe_sent', code || 'SMTP_ERROR', `SMTP send failed (${code || 'unknown error'})`);
}

/** Blanks email addresses out of a server reply and keeps it short. */
function redact(text: string): string {
  return text
    .replace(/<?[^\s<>@]*@[^\s<>]*>?/g, '[address]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

/** The domain of the From address: `Name <x@domain>` or `x@domain`. */
function domainOf(from: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return m ? m[1].toLowerCase() : 'localhost';
}
