import type { JobsOptions } from 'bullmq';
import type { AppConfig } from '../../config/configuration.js';

/**
 * One BullMQ job per message. Its id is derived from the message id (BullMQ refuses
 * purely numeric custom ids), so enqueueing a message twice adds one job. Retries use
 * exponential backoff with jitter; Postgres, not the job, is the record of the message.
 */
export function messageJobId(messageId: string | number): string {
  return `message-${messageId}`;
}

export interface RetryPolicy {
  /** SEND_MAX_ATTEMPTS */
  attempts: number;
  /** SEND_RETRY_BASE_MS: the first retry's delay, doubled each time. */
  backoffMs: number;
}

/** The retry policy configured for sends (SEND_MAX_ATTEMPTS, SEND_RETRY_BASE_MS). */
export function retryPolicy(config: Pick<AppConfig, 'sendMaxAttempts' | 'sendRetryBaseMs'>): RetryPolicy {
  return { attempts: config.sendMaxAttempts, backoffMs: config.sendRetryBaseMs };
}

/**
 * A finished job is removed at once: the message row is the record, and a message put
 * back in `queued` (held while its campaign was paused) must be able to get a job with
 * the same id again when the campaign resumes.
 */
export function messageJobOptions(messageId: string | number, notBefore: Date | null, retry: RetryPolicy, now = Date.now()): JobsOptions {
  return {
    jobId: messageJobId(messageId),
    delay: notBefore ? Math.max(0, notBefore.getTime() - now) : 0,
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
