import type { JobsOptions } from 'bullmq';

/**
 * One BullMQ job per message. Its id is derived from the message id (BullMQ refuses
 * purely numeric custom ids), so enqueueing a message twice adds one job. Retries use
 * exponential backoff with jitter; Postgres, not the job, is the record of the message.
 */
export function messageJobId(messageId: string | number): string {
  return `message-${messageId}`;
}

export function messageJobOptions(messageId: string | number, notBefore: Date | null, now = Date.now()): JobsOptions {
  return {
    jobId: messageJobId(messageId),
    delay: notBefore ? Math.max(0, notBefore.getTime() - now) : 0,
    attempts: 10,
    backoff: { type: 'exponential', delay: 2000, jitter: 0.5 },
    removeOnComplete: { age: 3600, count: 50_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
