import type { Channel } from '../../../common/channel.js';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { Batcher } from '../../../common/batcher.js';
import { reservedTestOutcome } from '../../../common/phone.js';
import type { ReceiptsService, ReceiptStatus } from '../receipts.service.js';
import { EmailProvider, OutgoingEmail, OutgoingSms, ProviderError, SendResult, SentQuery, SmsProvider } from './provider.js';

/** Reserved email addresses of the sandbox, like GOV.UK Notify's simulated ones. */
export const SANDBOX_EMAILS = {
  delivered: 'delivered@simulator.test',
  permanentFailure: 'perm-fail@simulator.test',
  temporaryFailure: 'temp-fail@simulator.test',
  optedOut: 'opted-out@simulator.test',
} as const;

type Outcome = { receipt: ReceiptStatus; errorCode?: string } | { error: ProviderError };

/** What the sandbox does with a message to this address. Anything not reserved is delivered. */
export function sandboxOutcome(channel: Channel, to: string): Outcome {
  if (channel === 'sms') {
    switch (reservedTestOutcome(to)) {
      case 'permanentFailure':
        return { receipt: 'permanent_failure', errorCode: '30005' };
      case 'temporaryFailure':
        return { receipt: 'temporary_failure', errorCode: '30003' };
      case 'optedOut':
        return { error: new ProviderError('opted_out', '21610', 'the recipient has opted out at the provider') };
      case 'technicalFailure':
        return { error: new ProviderError('retry', 'HTTP 500', 'the sandbox provider failed the request') };
      default:
        return { receipt: 'delivered' };
    }
  }
  switch (to.toLowerCase()) {
    case SANDBOX_EMAILS.permanentFailure:
      return { error: new ProviderError('permanent', 'SMTP 550', 'mailbox does not exist') };
    case SANDBOX_EMAILS.temporaryFailure:
      return { receipt: 'temporary_failure', errorCode: 'SMTP 452' };
    case SANDBOX_EMAILS.optedOut:
      return { error: new ProviderError('opted_out', 'complaint', 'the recipient reported earlier mail as spam') };
    default:
      return { receipt: 'delivered' };
  }
}

interface Row {
  channel: Channel;
  messageId: string;
  providerMessageId: string;
  to: string;
  subject: string | null;
  body: string;
  outcome: string;
}

/**
 * A provider with no network: what it "sends" goes to `sandbox_messages` (its own
 * record of the outside world, where a double send would show as two rows), and a
 * delivery receipt follows after SANDBOX_RECEIPT_DELAY_MS through the same receipts
 * path as Twilio's callbacks. Reserved numbers and addresses simulate failures.
 */
export class SandboxProvider implements SmsProvider, EmailProvider {
  readonly name = 'sandbox';
  private readonly writes: Batcher<Row, void>;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly channel: Channel,
    private readonly ds: DataSource,
    private readonly receipts: ReceiptsService,
    private readonly opts: { latencyMs: number; receiptDelayMs: number },
  ) {
    this.writes = new Batcher((rows) => this.insert(rows), 200, 2);
  }

  async send(m: OutgoingSms | OutgoingEmail): Promise<SendResult> {
    if (this.opts.latencyMs > 0) await sleep(this.opts.latencyMs);
    const outcome = sandboxOutcome(this.channel, m.to);
    if ('error' in outcome) throw outcome.error;
    const providerMessageId = `SB${randomBytes(16).toString('hex')}`;
    await this.writes.add({
      channel: this.channel,
      messageId: m.messageId,
      providerMessageId,
      to: m.to,
      subject: 'subject' in m ? m.subject : null,
      body: 'text' in m ? m.text : m.body,
      outcome: outcome.receipt,
    });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.receipts
        .record({ provider: 'sandbox', providerMessageId, status: outcome.receipt, errorCode: outcome.errorCode ?? null })
        .catch(() => undefined /* the reconciler applies what it can; a lost sandbox receipt leaves the message `sent` */);
    }, this.opts.receiptDelayMs);
    timer.unref();
    this.timers.add(timer);
    return { providerMessageId };
  }

  async findSent(q: SentQuery): Promise<SendResult | null> {
    const rows: Array<{ provider_message_id: string }> = await this.ds.query(
      `SELECT provider_message_id FROM sandbox_messages WHERE message_id = $1 AND channel = $2 ORDER BY id LIMIT 1`,
      [q.messageId, this.channel],
    );
    return rows[0] ? { providerMessageId: rows[0].provider_message_id } : null;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async insert(rows: Row[]): Promise<void[]> {
    await this.ds.query(
      `INSERT INTO sandbox_messages (channel, message_id, provider_message_id, to_address, subject, body, outcome)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
      [
        rows.map((r) => r.channel), rows.map((r) => r.messageId), rows.map((r) => r.providerMessageId), rows.map((r) => r.to),
        rows.map((r) => r.subject), rows.map((r) => r.body), rows.map((r) => r.outcome),
      ],
    );
    return rows.map(() => undefined);
  }
}
