/**
 * Every queue, and the payload of every job on it. A producer and its processor share
 * these types, so they cannot disagree. Payloads carry ids only: never secrets, never
 * phone numbers or emails (BullMQ keeps payloads in Redis).
 */
export const QUEUE = {
  maintenance: 'maintenance',
  evidence: 'evidence',
  victims: 'victims',
  sms: 'sms',
  email: 'email',
  webhooks: 'webhooks',
  suppressions: 'suppressions',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

export interface JobPayloads {
  maintenance: {
    /** Round-trips a job through the workers: proves a worker is alive and consuming. */
    probe: { probeId: string; requestedAt: string };
  };
  evidence: {
    'import-calls': { importId: string };
  };
  victims: {
    'import-contacts': { importId: string };
    match: { requestedBy: string | null };
  };
  sms: { send: { messageId: string } };
  email: { send: { messageId: string } };
  webhooks: { deliver: { deliveryId: string } };
  suppressions: { import: { importId: string } };
}

export type JobName<Q extends QueueName> = keyof JobPayloads[Q] & string;
export type JobData<Q extends QueueName, N extends JobName<Q>> = JobPayloads[Q][N];
