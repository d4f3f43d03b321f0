import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../metrics/metrics.js';

/** What the delivery side is doing, at /metrics (per process; sum them across workers). */
export const deliveryMetrics = {
  outcomes: new Counter({
    name: 'outreach_messages_processed_total',
    help: 'Send jobs processed, by channel and outcome (sent, held, blocked, permanent_failure, suppressed, technical_failure, retry, rate_limited, deferred, not_claimable)',
    labelNames: ['channel', 'outcome'] as const,
    registers: [metricsRegistry],
  }),
  providerSeconds: new Histogram({
    name: 'outreach_provider_send_seconds',
    help: 'Time the provider took to answer a send, by channel',
    labelNames: ['channel'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [metricsRegistry],
  }),
  receipts: new Counter({
    name: 'outreach_receipts_total',
    help: 'Provider receipts received, by provider and status',
    labelNames: ['provider', 'status'] as const,
    registers: [metricsRegistry],
  }),
};
