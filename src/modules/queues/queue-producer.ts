import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { JobsOptions, Queue } from 'bullmq';
import { JobData, JobName, QueueName } from './queue-names.js';

/**
 * Typed enqueueing. Every call is awaited by its caller (a dropped promise loses work
 * silently); a Redis outage becomes a 503 a person can act on.
 */
@Injectable()
export class QueueProducer {
  private readonly cache = new Map<QueueName, Queue>();
  constructor(private readonly moduleRef: ModuleRef) {}

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
      return await this.queue(queue).add(name, data, opts);
    } catch (err) {
      throw new ServiceUnavailableException(`The job queue is unavailable (${(err as Error).message}); try again shortly`);
    }
  }

  async addBulk<Q extends QueueName, N extends JobName<Q>>(
    queue: Q,
    jobs: Array<{ name: N; data: JobData<Q, N>; opts?: JobsOptions }>,
  ) {
    try {
      return await this.queue(queue).addBulk(jobs);
    } catch (err) {
      throw new ServiceUnavailableException(`The job queue is unavailable (${(err as Error).message}); try again shortly`);
    }
  }
}
