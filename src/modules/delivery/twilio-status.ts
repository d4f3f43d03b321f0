import type { ReceiptStatus } from './receipts.service.js';

/**
 * Twilio delivery error codes that mean the message can never be delivered to this
 * number. Others (30003 unreachable handset, 30008 unknown error, …) may succeed later.
 * https://www.twilio.com/docs/api/errors
 */
const PERMANENT_CODES = new Set(['21211', '21612', '21614', '30004', '30005', '30006', '30007', '30010', '30034']);
const OPTED_OUT_CODES = new Set(['21610']);

/**
 * A Twilio status callback's MessageStatus (+ ErrorCode) as a receipt status, or null
 * for a status that says nothing new (e.g. `receiving`).
 */
export function twilioReceiptStatus(messageStatus: string, errorCode?: string | null): ReceiptStatus | null {
  const code = (errorCode ?? '').trim();
  switch (messageStatus) {
    case 'accepted':
    case 'queued':
    case 'scheduled':
    case 'sending':
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
    case 'failed':
      if (OPTED_OUT_CODES.has(code)) return 'opted_out';
      if (PERMANENT_CODES.has(code)) return 'permanent_failure';
      // Without a known code: Twilio could not send it at all ('failed') or the carrier
      // could not deliver it this time ('undelivered').
      return messageStatus === 'failed' ? 'permanent_failure' : 'temporary_failure';
    case 'canceled':
      return 'permanent_failure';
    default:
      return null;
  }
}
