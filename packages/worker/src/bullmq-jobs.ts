import {
  describeFailure,
  Health,
  isConnectionError,
  JOB_NAMES,
  jobId,
  REDIS_HINT,
  type JobName,
  type JobPayloads,
  type JobPort,
  type Logger,
  type OpsAware,
  type OpsContext,
  type QueueDepth,
} from '@albumkit/core';
import { Queue } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import { DEFAULT_RETRY, jobOptions, queueName, type RetryPolicy } from './queues.js';
import { createRedisConnection } from './redis.js';

export interface BullMqJobsOptions {
  /** One Redis server (`redis://` or `rediss://`). Either this or `redis` is enough. */
  redisUrl?: string;
  /**
   * ioredis connection options, e.g. Redis behind Sentinel:
   * `{ sentinels: [{ host, port }, …], name: 'mymaster', sentinelPassword?, password? }`.
   * With `redisUrl` too, they complete and override the URL's. Redis Cluster is not supported.
   */
  redis?: RedisOptions;
  /** Queue name prefix (default `albumkit`). */
  prefix?: string;
  retry?: Partial<Record<JobName, RetryPolicy>>;
  /**
   * Readiness fails when a queue's oldest waiting job (first attempt) has waited longer than this,
   * in milliseconds (default 300,000: five minutes); 0 turns the check off.
   */
  maxQueueLagMs?: number;
  /** Where a Redis outage is reported (once) until albumkit attaches its own logger (default: console). */
  logger?: Logger;
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
 * commands while Redis is away, so a request fails fast (503) instead of hanging; it reconnects
 * with backoff, and the outage is logged once (attached to albumkit: through albumkit's logger,
 * with readiness checks for Redis and queue lag, and queue depths for the metrics).
 */
export class BullMqJobs implements JobPort, OpsAware {
  readonly connection: Redis;
  private readonly queues: Record<JobName, Queue>;
  private readonly retry: Record<JobName, RetryPolicy>;
  private readonly maxQueueLagMs: number;
  private health: Health;
  private lastError: unknown;
  private readonly detach: (() => void)[] = [];

  constructor(options: BullMqJobsOptions) {
    this.health = new Health({ logger: options.logger ?? { error: console.error, warn: console.warn } });
    this.maxQueueLagMs = options.maxQueueLagMs ?? 300_000;
    // Fails fast while Redis is away, and auto-pipelined: see createRedisConnection's producer role.
    this.connection = createRedisConnection(options, 'producer');
    // Every reconnection attempt fails with an error event: one log line per outage, not one per attempt.
    this.connection.on('error', (error) => {
      this.lastError = error;
      this.health.reportDown('redis', error, REDIS_HINT);
    });
    this.connection.on('ready', () => {
      this.lastError = undefined;
      this.health.reportUp('redis');
    });
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

  /**
   * Resolves once the connection is ready; rejects at once while Redis is known to be away (BullMQ
   * would otherwise wait for a connection that never came up), and after `waitMs` while still connecting.
   */
  private connected(waitMs = 2000): Promise<void> {
    if (this.connection.status === 'ready') return Promise.resolve();
    const unreachable = () =>
      new Error(`Redis unreachable (${describeFailure(this.lastError ?? `connection ${this.connection.status}`)}): ${REDIS_HINT}`, { cause: this.lastError });
    if (this.lastError !== undefined) return Promise.reject(unreachable());
    return new Promise((resolve, reject) => {
      const done = (error?: unknown) => {
        clearTimeout(timer);
        this.connection.off('ready', done);
        this.connection.off('error', done);
        if (error === undefined) resolve();
        else reject(unreachable());
      };
      const timer = setTimeout(() => done(new Error('timeout')), waitMs);
      this.connection.once('ready', done);
      this.connection.once('error', done);
    });
  }

  /**
   * Adds the job; fails after the connection's `commandTimeout` (producer default 5 s) when Redis
   * does not answer: on a half-open connection every command waits that long, and auto-pipelined
   * ones also wait for the pipeline ahead of them. A job added late anyway is the same job (its id).
   */
  async enqueue<K extends JobName>(name: K, data: JobPayloads[K]): Promise<void> {
    await this.connected();
    const adding = this.queues[name].add(name, data, jobOptions(this.retry[name], jobId(name, data)));
    const timeoutMs = this.connection.options.commandTimeout;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!timeoutMs) await adding;
      else {
        adding.catch(() => {}); // when the timeout wins
        await Promise.race([
          adding,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(Object.assign(new Error(`Redis did not answer within ${timeoutMs} ms (commandTimeout)`), { code: 'ETIMEDOUT' })), timeoutMs);
          }),
        ]);
      }
      this.health.reportUp('redis');
    } catch (error) {
      // No answer raises no 'error' event on the connection: the outage is reported here, as Redis's.
      if (isConnectionError(error)) this.health.reportDown('redis', error, REDIS_HINT);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  attachOps({ health, telemetry }: OpsContext): void {
    this.health = health;
    this.detach.push(
      health.addCheck('redis', () => this.checkRedis()),
      telemetry.addQueueDepth(() => this.depths()),
    );
    if (this.maxQueueLagMs > 0) this.detach.push(health.addCheck('queue_lag', () => this.checkQueueLag()));
  }

  /** Readiness: Redis answers a PING. */
  async checkRedis(): Promise<void> {
    try {
      await this.connected();
      await this.connection.ping();
    } catch (error) {
      const reason = this.connection.status === 'ready' ? describeFailure(error) : describeFailure(this.lastError ?? error);
      throw new Error(`Redis unreachable (${reason}): ${REDIS_HINT}`);
    }
  }

  /**
   * How long the oldest waiting job of each queue has waited, in milliseconds (first attempts
   * only: a retry waits its backoff on purpose).
   */
  async queueLags(): Promise<Record<JobName, number>> {
    await this.connected();
    const now = Date.now();
    const entries = await Promise.all(
      JOB_NAMES.map(async (name) => {
        const oldest = await this.queues[name].getJobs(['wait'], 0, 19, true);
        const first = oldest.find((job) => job && job.attemptsMade === 0);
        return [name, first ? Math.max(0, now - first.timestamp - (first.opts.delay ?? 0)) : 0];
      }),
    );
    return Object.fromEntries(entries);
  }

  /** Readiness: no queue's oldest waiting job is older than `maxQueueLagMs`. */
  async checkQueueLag(): Promise<void> {
    const lags = await this.queueLags();
    const late = JOB_NAMES.filter((name) => lags[name] > this.maxQueueLagMs);
    if (late.length > 0) {
      const list = late.map((name) => `${this.queues[name].name} ${Math.round(lags[name] / 1000)} s`).join(', ');
      throw new Error(`jobs waiting longer than ${Math.round(this.maxQueueLagMs / 1000)} s (${list}): are workers running (npx albumkit-worker)?`);
    }
  }

  /** Waiting/active/delayed/failed per queue name, for the metrics (read at scrape time). */
  async depths(): Promise<Record<string, QueueDepth>> {
    const counts = await this.counts();
    return Object.fromEntries(
      JOB_NAMES.map((name) => {
        const { waiting, active, delayed, failed } = counts[name];
        return [this.queues[name].name, { waiting, active, delayed, failed }];
      }),
    );
  }

  /** Job counts per queue, for health checks and dashboards. */
  async counts(): Promise<Record<JobName, QueueCounts>> {
    await this.connected();
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
    for (const remove of this.detach.splice(0)) remove();
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    this.connection.disconnect();
  }
}
