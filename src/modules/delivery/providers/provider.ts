/**
 * What the delivery workers need from an SMS or email provider. Implementations map
 * every provider answer onto one of a few outcomes, so the processor's decisions do not
 * depend on which provider is configured:
 *  - success: the provider's message id;
 *  - ProviderError 'retry': the provider certainly does not have the message (connection
 *    refused, DNS, a 4xx or SMTP refusal before the end of DATA): try again later with
 *    backoff;
 *  - 'maybe_sent': the provider may have accepted it before the failure (a timeout, a
 *    reset or hang-up, a 5xx, an SMTP connection lost after DATA): never retried blindly.
 *    The message stays `sending` and is resolved against the provider first (found →
 *    sent; provably absent → retry; cannot tell → unknown, for a person);
 *  - 'rate_limited': the provider asked us to slow down (HTTP 429 / Twilio 20429): the
 *    whole queue pauses for `retryAfterMs`, and the attempt is not counted;
 *  - 'permanent': this message can never be delivered (invalid number, SMTP 5xx for the
 *    recipient): no retry;
 *  - 'opted_out': the recipient opted out at the provider (Twilio 21610): the message is
 *    suppressed and the address added to the suppression list.
 */
export interface OutgoingSms {
  /** Our message id (messages.id). */
  messageId: string;
  /** E.164. */
  to: string;
  body: string;
}

export interface OutgoingEmail {
  messageId: string;
  to: string;
  subject: string;
  text: string;
  html?: string | null;
  /** One-click unsubscribe address for List-Unsubscribe. */
  unsubscribeUrl: string;
}

export interface SendResult {
  providerMessageId: string;
}

export type ProviderFailureKind = 'retry' | 'maybe_sent' | 'rate_limited' | 'permanent' | 'opted_out';

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderFailureKind,
    /** The provider's own code, e.g. '21211', 'HTTP 503', 'SMTP 550', 'ETIMEDOUT'. */
    readonly code: string,
    message: string,
    /** For 'rate_limited': how long to hold the queue. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Where to look for a message that may or may not have reached the provider (after a crash). */
export interface SentQuery {
  messageId: string;
  to: string;
  body: string;
  /** When the worker claimed it: anything the provider accepted for `to` before this is not it. */
  since: Date;
  /** Provider ids already recorded for our other messages to `to`: none of them is this one. */
  knownProviderIds: readonly string[];
}

export interface SmsProvider {
  readonly name: string;
  send(sms: OutgoingSms): Promise<SendResult>;
  /** Asks the provider whether it already accepted this message; null when it did not, undefined when it cannot tell. */
  findSent?(q: SentQuery): Promise<SendResult | null | undefined>;
  close?(): Promise<void>;
}

export interface EmailProvider {
  readonly name: string;
  send(email: OutgoingEmail): Promise<SendResult>;
  findSent?(q: SentQuery): Promise<SendResult | null | undefined>;
  close?(): Promise<void>;
}

export const SMS_PROVIDER = Symbol('SMS_PROVIDER');
export const EMAIL_PROVIDER = Symbol('EMAIL_PROVIDER');
