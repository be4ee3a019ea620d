import {
  DATABASE_HINT,
  describeFailure,
  isConnectionError,
  isUnrecoverable,
  JOB_NAMES,
  observedProcessors,
  REDIS_HINT,
  type Albumkit,
  type JobName,
  type Logger,
  type Processors,
} from '@albumkit/core';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { deadLetterOf, failedForGood, recordFailedJobs } from './dead-letters.js';
import { createProcessors, type ProcessorOptions } from './processors.js';
import { DEFAULT_RETRY, jobOptions, PURGE_SCHEDULER, queueName } from './queues.js';
import { createRedisConnection } from './redis.js';

export interface WorkerOptions extends ProcessorOptions {
  albumkit: Albumkit;
  /** One Redis server (`redis://` or `rediss://`). Either this or `redis` is enough. */
  redisUrl?: string;
  /**
   * ioredis connection options, e.g. Redis behind Sentinel:
   * `{ sentinels: [{ host, port }, …], name: 'mymaster', sentinelPassword?, password? }`.
   * With `redisUrl` too, they complete and override the URL's. Redis Cluster is not supported.
   */
  redis?: RedisOptions;
  prefix?: string;
  /** Jobs run at once, per queue. */
  concurrency?: Partial<Record<JobName, number>>;
  /** How long a job may hold its lock without renewal before it counts as stalled (ms). */
  lockDurationMs?: number;
  /** How often stalled jobs (of a killed worker) are looked for and run again (ms). */
  stalledIntervalMs?: number;
  /** Re-enqueue notifications and images left unhandled for this long (a lost job); 0 turns the sweep off. */
  sweepAfterMs?: number;
  /**
   * How often the trash purge runs (ms): a BullMQ job scheduler, upserted at start (every worker
   * upserts the same one, so it runs once per interval whatever the number of workers).
   * Default: the configuration's `purgeIntervalSeconds`; 0 removes the scheduler.
   */
  purgeEveryMs?: number;
  logger?: Logger;
  /** Replace or add processors (tests). */
  processors?: Partial<Processors>;
}

export interface RunningWorker {
  /** Stops taking jobs and waits for the running ones, at most `timeoutMs`; then releases them. */
  close(timeoutMs?: number): Promise<void>;
  workers: Record<JobName, Worker>;
  isRunning(): boolean;
  /** Settles once the purge's job scheduler is upserted (or removed); rejects if Redis refused. */
  purgeScheduled: Promise<void>;
}

/**
 * Jobs run at once per queue and worker. Notification jobs are mostly waiting on their share of a
 * batched statement (see the image repository's `insertUploads`): the more run at once, the larger
 * the batches, and the fewer statements per image.
 */
export const DEFAULT_CONCURRENCY: Record<JobName, number> = { notification: 100, metadata: 10, webhook: 10, purge: 1, import: 4 };

/**
 * Starts one BullMQ worker per queue, running albumkit's processors. Each run is measured
 * (`albumkit.telemetry`); a Redis or PostgreSQL outage is reported once through albumkit's
 * health (`albumkit.health.reportDown`) while the connections retry with backoff.
 */
export function startWorker(options: WorkerOptions): RunningWorker {
  const { albumkit } = options;
  const { health } = albumkit;
  const logger = options.logger ?? { error: console.error, warn: console.warn };
  const prefix = options.prefix ?? 'albumkit';
  const processors = observedProcessors({ ...createProcessors(albumkit, options), ...options.processors } as Processors, albumkit.telemetry, (name) =>
    queueName(prefix, name),
  );
  const connection = createRedisConnection(options, 'worker');
  let lastError: unknown;
  // Each reconnection attempt (of this connection and of the workers' blocking ones) fails with
  // an error event: one log line per outage.
  const redisDown = (error: unknown) => {
    lastError = error;
    health.reportDown('redis', error, REDIS_HINT);
  };
  connection.on('error', redisDown);
  connection.on('ready', () => health.reportUp('redis'));

  const workers = Object.fromEntries(
    JOB_NAMES.map((name) => {
      const processor = processors[name] as (data: unknown, ctx: { attempt: number }) => Promise<unknown>;
      const worker = new Worker(
        queueName(prefix, name),
        async (job: Job) => {
          try {
            return await processor(job.data, { attempt: job.attemptsMade + 1 });
          } catch (error) {
            if (isUnrecoverable(error)) throw new UnrecoverableError((error as Error).message);
            throw error;
          }
        },
        {
          connection,
          concurrency: options.concurrency?.[name] ?? DEFAULT_CONCURRENCY[name],
          lockDuration: options.lockDurationMs ?? 30_000,
          stalledInterval: options.stalledIntervalMs ?? 30_000,
          maxStalledCount: 5,
        },
      );
      worker.on('failed', (job, error) => {
        if (!job || !failedForGood(job, error)) return;
        logger.error({ err: error, job: name, id: job.id }, 'job failed for good (kept as a dead letter: albumkit-worker replay)');
        // Kept in PostgreSQL; if it is away now, the sweep records it from BullMQ's failed set later.
        albumkit.repositories.deadLetters
          .record([deadLetterOf(name, job, error?.message ?? job.failedReason, error instanceof UnrecoverableError)])
          .catch((recordError: unknown) => logger.warn({ err: recordError, job: name, id: job.id }, 'dead letter not recorded yet (the sweep will)'));
      });
      worker.on('error', (error) => {
        if (isConnectionError(error)) redisDown(error);
        else logger.warn({ err: error, queue: name }, 'worker error');
      });
      return [name, worker];
    }),
  ) as Record<JobName, Worker>;

  const sweepAfter = options.sweepAfterMs ?? 5 * 60_000;
  // BullMQ keeps failed jobs a week: the first sweep looks that far back, the next ones since the previous.
  let failuresSince = Date.now() - 7 * 24 * 3600_000;
  const sweep = sweepAfter
    ? setInterval(async () => {
        try {
          const before = new Date(Date.now() - sweepAfter);
          // Accepted notifications whose job was lost (a Redis crash), then images whose processing was.
          await albumkit.notifications.resume(before);
          for (const image of await albumkit.images.unprocessed(before, 500)) {
            await albumkit.images.enqueueProcessing(image);
          }
          // Webhook deliveries whose enqueue was lost (the outbox), and failures not recorded as dead letters yet.
          await albumkit.events.enqueuePendingWebhooks(before);
          failuresSince = (await recordFailedJobs(albumkit, connection, prefix, failuresSince)).next - 60_000;
          health.reportUp('database');
        } catch (error) {
          // The next sweep tries again; an unreachable dependency is reported once, not every sweep.
          // (While Redis is reported down, that is the cause; otherwise it is PostgreSQL.)
          if (!isConnectionError(error)) logger.warn({ err: error }, 'sweep of unprocessed images failed');
          else if (!health.isDown('redis')) health.reportDown('database', error, DATABASE_HINT);
        }
      }, Math.max(50, Math.min(sweepAfter, 60_000)))
    : undefined;
  sweep?.unref();

  const purgeEvery = options.purgeEveryMs ?? albumkit.config.purgeIntervalSeconds * 1000;
  const purgeQueue = new Queue(queueName(prefix, 'purge'), { connection });
  purgeQueue.on('error', () => {}); // reported through the connection's error event
  const { jobId: _id, ...purgeOptions } = jobOptions(DEFAULT_RETRY.purge, 'purge');
  const purgeScheduled = (
    purgeEvery > 0
      ? purgeQueue.upsertJobScheduler(PURGE_SCHEDULER, { every: purgeEvery }, { name: 'purge', data: {}, opts: purgeOptions }).then(() => undefined)
      : purgeQueue.removeJobScheduler(PURGE_SCHEDULER).then(() => undefined)
  ).finally(() => purgeQueue.close());
  purgeScheduled.catch((error: unknown) => logger.error({ err: error }, 'trash purge: job scheduler not set; is Redis up?'));

  let running = true;
  const removeCheck = health.addCheck('worker', () => {
    if (!running) throw new Error('worker closed');
    if (connection.status !== 'ready') throw new Error(`worker's Redis connection ${connection.status} (${describeFailure(lastError ?? 'not connected yet')}): ${REDIS_HINT}`);
  });
  return {
    workers,
    purgeScheduled,
    isRunning: () => running && Object.values(workers).every((w) => w.isRunning()),
    async close(timeoutMs = 30_000) {
      running = false;
      removeCheck();
      if (sweep) clearInterval(sweep);
      const within = (ms: number, work: Promise<unknown>) =>
        Promise.race([work.then(() => 'done' as const), new Promise<'timeout'>((resolve) => setTimeout(resolve, ms, 'timeout').unref())]);
      if ((await within(timeoutMs, Promise.all(Object.values(workers).map((w) => w.close())))) === 'timeout') {
        // Jobs still running are released: their locks expire and another worker runs them again.
        // With Redis away, even that cannot finish: give it a second, then drop the connections.
        await within(1000, Promise.all(Object.values(workers).map((w) => w.close(true))));
      }
      connection.disconnect();
      for (const worker of Object.values(workers)) void worker.disconnect().catch(() => {});
    },
  };
}
