import { JOB_NAMES, jobId, type JobName, type JobPayloads, type JobPort } from '@albumkit/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_RETRY, jobOptions, queueName, type RetryPolicy } from './queues.js';

export interface BullMqJobsOptions {
  redisUrl: string;
  /** Queue name prefix (default `albumkit`). */
  prefix?: string;
  retry?: Partial<Record<JobName, RetryPolicy>>;
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

/**
 * The producer side: the API enqueues here and answers at once. The connection does not queue
 * commands while Redis is away, so a request fails fast (503) instead of hanging.
 */
export class BullMqJobs implements JobPort {
  readonly connection: Redis;
  private readonly queues: Record<JobName, Queue>;
  private readonly retry: Record<JobName, RetryPolicy>;

  constructor(options: BullMqJobsOptions) {
    // Auto-pipelining: the jobs enqueued in one turn of the event loop go to Redis in one write.
    this.connection = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: true });
    this.connection.on('error', () => {}); // reported by the failing commands; reconnects by itself
    const prefix = options.prefix ?? 'albumkit';
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.queues = Object.fromEntries(
      JOB_NAMES.map((name) => [name, new Queue(queueName(prefix, name), { connection: this.connection })]),
    ) as Record<JobName, Queue>;
    for (const queue of Object.values(this.queues)) queue.on('error', () => {});
  }

  supports(): boolean {
    return true;
  }

  async enqueue<K extends JobName>(name: K, data: JobPayloads[K]): Promise<void> {
    await this.queues[name].add(name, data, jobOptions(this.retry[name], jobId(name, data)));
  }

  /** Job counts per queue, for health checks and dashboards. */
  async counts(): Promise<Record<JobName, QueueCounts>> {
    const entries = await Promise.all(
      JOB_NAMES.map(async (name) => {
        const c = await this.queues[name].getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        return [name, { waiting: c.waiting ?? 0, active: c.active ?? 0, delayed: c.delayed ?? 0, completed: c.completed ?? 0, failed: c.failed ?? 0 }];
      }),
    );
    return Object.fromEntries(entries);
  }

  queue(name: JobName): Queue {
    return this.queues[name];
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    this.connection.disconnect();
  }
}
