import { isBigintId } from '../../common/input-rules.js';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Batcher } from '../../common/batcher.js';
import { queryRows } from '../../database/sql.js';
import { deliveryMetrics } from './delivery-metrics.js';
import { fromSql, rankSql } from './message-state.js';
import { receiptMoveSql } from './messages.repository.js';

/** What a provider reports about a message it accepted. */
export type ReceiptStatus = 'sent' | 'delivered' | 'temporary_failure' | 'permanent_failure' | 'opted_out';

export interface Receipt {
  provider: string;
  providerMessageId: string;
  status: ReceiptStatus;
  errorCode?: string | null;
  /** Our message id, when the provider names it (Twilio's StatusCallback URL carries it). */
  messageId?: string | null;
}

/** A receipt's status as a message status (an opt-out suppresses the message). */
const MESSAGE_STATUS_SQL = (s: string) => `CASE ${s} WHEN 'opted_out' THEN 'suppressed' ELSE ${s} END`;
const RANK_OF = (s: string) => rankSql(MESSAGE_STATUS_SQL(s));

/**
 * Provider receipts (delivery reports): stored once each, then applied to the message
 * they are about. Receipts are written in groups (one statement for many concurrent
 * callbacks) and a caller is answered only after its receipt is committed, so a receipt
 * that was acknowledged is never lost. A receipt for a message whose provider id the
 * worker has not recorded yet stays pending and is applied when it is.
 */
@Injectable()
export class ReceiptsService {
  private readonly batcher = new Batcher<Receipt, void>((batch) => this.store(batch), 500, 2);

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  record(receipt: Receipt): Promise<void> {
    deliveryMetrics.receipts.inc({ provider: receipt.provider, status: receipt.status });
    return this.batcher.add(receipt);
  }

  /**
   * One statement per batch: the strongest new receipt of each message moves it forwards
   * (if it can), and every receipt is stored, as applied when its message is known and as
   * pending when the worker has not recorded the provider's id yet.
   */
  private async store(batch: Receipt[]): Promise<void[]> {
    await this.ds.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) AS t (provider, provider_message_id, status, error_code, message_id)),
       strongest AS (
         SELECT DISTINCT ON (provider_message_id) provider_message_id, message_id, ${MESSAGE_STATUS_SQL('status')} AS status, error_code,
                ${RANK_OF('status')} AS rank
           FROM input ORDER BY provider_message_id, ${RANK_OF('status')} DESC),
       ${receiptMoveSql('strongest')},
       known AS (
         SELECT provider_message_id FROM messages WHERE provider_message_id IN (SELECT provider_message_id FROM input)
         UNION SELECT provider_message_id FROM moved)
       INSERT INTO provider_receipts (provider, provider_message_id, status, error_code, message_id, applied_at)
       SELECT provider, provider_message_id, status, error_code, message_id,
              CASE WHEN provider_message_id IN (SELECT provider_message_id FROM known) THEN now() END
         FROM input
       ON CONFLICT (provider_message_id, status, error_code) DO NOTHING`,
      [
        batch.map((r) => r.provider),
        batch.map((r) => r.providerMessageId),
        batch.map((r) => r.status),
        batch.map((r) => r.errorCode ?? ''),
        batch.map((r) => (isBigintId(r.messageId) ? r.messageId : null)),
      ],
    );
    return batch.map(() => undefined);
  }

  /**
   * Applies the pending receipts of these provider ids to their messages: the strongest
   * receipt wins, and only if it moves the message forwards. Every change lands in
   * message_events; an opt-out reported by the provider also suppresses the address.
   */
  async apply(providerMessageIds: string[]): Promise<number> {
    if (providerMessageIds.length === 0) return 0;
    const rows = await queryRows<{ n: number }>(
      this.ds,
      `WITH pending AS (
         SELECT DISTINCT ON (provider_message_id) provider_message_id, message_id, ${MESSAGE_STATUS_SQL('status')} AS status, error_code,
                ${RANK_OF('status')} AS rank
           FROM provider_receipts
          WHERE provider_message_id = ANY ($1::text[]) AND applied_at IS NULL
          ORDER BY provider_message_id, ${RANK_OF('status')} DESC, id),
       ${receiptMoveSql('pending')},
       done AS (
         UPDATE provider_receipts r SET applied_at = now()
          WHERE r.provider_message_id = ANY ($1::text[]) AND r.applied_at IS NULL
            AND (EXISTS (SELECT 1 FROM messages m WHERE m.provider_message_id = r.provider_message_id)
                 OR r.provider_message_id IN (SELECT provider_message_id FROM moved)))
       SELECT count(*)::int AS n FROM moved`,
      [providerMessageIds],
    );
    return rows[0]?.n ?? 0;
  }

  /** Receipts still pending whose message now has its provider id (a race the reconciler closes). */
  async applyStragglers(limit = 5000): Promise<number> {
    const ids = await queryRows<{ provider_message_id: string }>(
      this.ds,
      `SELECT DISTINCT r.provider_message_id FROM provider_receipts r
        WHERE r.applied_at IS NULL
          AND (EXISTS (SELECT 1 FROM messages m WHERE m.provider_message_id = r.provider_message_id)
               OR (r.message_id IS NOT NULL
                   AND EXISTS (SELECT 1 FROM messages m WHERE m.id = r.message_id AND m.provider_message_id IS NULL AND ${fromSql('receipt', 'm.status')})))
        LIMIT ${Math.trunc(limit)}`,
    );
    return this.apply(ids.map((r) => r.provider_message_id));
  }
}
