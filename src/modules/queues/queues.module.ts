import { BullModule, RegisterQueueOptions } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/configuration.js';
import { QUEUE } from './queue-names.js';
import { redisOptions } from './redis-options.js';
import { QueueProducer } from './queue-producer.js';

const ALL_QUEUES = Object.values(QUEUE);

/**
 * BullMQ wiring. Producers use a connection with the offline queue off, so an enqueue
 * while Redis is down fails at once instead of hanging a request; workers (whose
 * options come from the root config) keep reconnecting forever.
 */
@Global()
@Module({})
export class QueuesModule {
  static forRoot(): DynamicModule {
    const root = BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        connection: { ...redisOptions(config.redisUrl), maxRetriesPerRequest: null },
        prefix: config.queuePrefix,
      }),
    });
    const queues = BullModule.registerQueueAsync(
      ...ALL_QUEUES.map(
        (name): RegisterQueueOptions & { name: string } => ({
          name,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            connection: { ...redisOptions(config.redisUrl), enableOfflineQueue: false },
            prefix: config.queuePrefix,
            defaultJobOptions: { removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } },
          }),
        }) as never,
      ),
    );
    return {
      module: QueuesModule,
      imports: [root, queues],
      providers: [QueueProducer],
      exports: [BullModule, QueueProducer],
    };
  }
}
