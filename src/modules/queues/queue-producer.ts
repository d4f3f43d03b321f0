import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, Logger, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { JobsOptions, Queue } from 'bullmq';
import { JobData, JobName, QUEUE, QueueName } from './queue-names.js';

/**
 * Typed enqueueing. Every call is awaited by its caller (a dropped promise loses work
 * silently); a Redis outage becomes a 503 a person can act on.
 */
@Injectable()
export class QueueProducer implements OnModuleInit {
  private readonly logger = new Logger(QueueProducer.name);
  private readonly cache = new Map<QueueName, Queue>();
  private lastErrorLog = 0;
  constructor(private readonly moduleRef: ModuleRef) {}

  /** Without a listener, a connection error on a queue is an unhandled 'error' event. */
  onModuleInit(): void {
    for (const name of Object.values(QUEUE)) {
      this.queue(name).on('error', (err: Error) => {
        if (Date.now() - this.lastErrorLog < 10_000) return;
        this.lastErrorLog = Date.now();
        this.logger.warn({ queue: name, err: { message: err.message } }, 'queue connection error');
      });
    }
  }

  queue(name: QueueName): Queue {
    let q = this.cache.get(name);
    if (!q) {
      q = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      this.cache.set(name, q);
    }
    return q;
  }

  async add<Q extends QueueName, N extends JobName<Q>>(queue: Q, name: N, data: JobData<Q, N>, opts?: JobsOptions) {
    try {
      return await failFast(this.queue(queue).add(name, data, opts));
    } catch (err) {
      throw new ServiceUnavailableException(`The job queue is unavailable (${(err as Error).message}); try again shortly`);
    }
  }

  async addBulk<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    jobs: Array<{ name: N; data: JobData<Q, N>; opts?: JobsOptions }>,
  ) {
    try {
      return await failFast(this.queue(queue).addBulk(jobs), 30_000);
    } catch (err) {
      throw new ServiceUnavailableException(`The job queue is unavailable (${(err as Error).message}); try again shortly`);
    }
  }
}

/**
 * BullMQ waits for a connection before its first command, so with Redis down an enqueue
 * would hang the request. Give up after a bound instead; jobs use deterministic ids, so
 * one that lands late is not duplicated, and Postgres remains the record.
 */
export function failFast<T>(work: Promise<T>, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
