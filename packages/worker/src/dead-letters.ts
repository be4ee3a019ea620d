import { JOB_NAMES, type Albumkit, type JobName, type NewDeadLetter } from '@albumkit/core';
import { Queue, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_RETRY, jobOptions, queueName, type RetryPolicy } from './queues.js';
import { createRedisConnection, type RedisTarget } from './redis.js';

/**
 * Dead letters: a job that ran out of attempts, or failed as unrecoverable, is recorded in
 * PostgreSQL (`dead_letters`) with its data and the reason. BullMQ keeps failed jobs too, but
 * only in Redis, which need not be persistent; the record is what `albumkit-worker replay` reads.
 */

/** Whether a failed job is done trying (BullMQ emits `failed` after every attempt, retried or not). */
export function failedForGood(job: Job, error: Error | undefined): boolean {
  return job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError;
}

/**
 * The record of a job that failed for good. `unrecoverable`: it failed on input that another
 * attempt cannot fix (replayed only on request); a job that ran out of attempts, or that BullMQ
 * failed because its workers kept dying under it (stalled too often), is worth replaying.
 */
export function deadLetterOf(name: JobName, job: Job, reason: string, unrecoverable: boolean): NewDeadLetter {
  return {
    queue: name,
    jobId: String(job.id),
    data: job.data,
    reason: reason || 'failed',
    attempts: job.attemptsMade,
    retryable: !unrecoverable,
    failedAt: new Date(job.finishedOn ?? Date.now()),
  };
}

/** Read back from Redis, a failure that stopped before the last attempt was unrecoverable, unless BullMQ failed it for stalling. */
function stoppedEarly(job: Job): boolean {
  return job.attemptsMade < (job.opts.attempts ?? 1) && !/allowable limit/.test(job.failedReason ?? '');
}

/**
 * Records the failed jobs of every queue that finished after `since` (ms since the epoch) and are
 * not recorded yet: the failures whose record could not be written when they happened (PostgreSQL
 * away at that moment). Resolves to the number of new records and the time to pass next.
 */
export async function recordFailedJobs(albumkit: Albumkit, connection: Redis, prefix: string, since: number): Promise<{ recorded: number; next: number }> {
  const next = Date.now();
  let recorded = 0;
  for (const name of JOB_NAMES) {
    const queue = new Queue(queueName(prefix, name), { connection });
    queue.on('error', () => {});
    try {
      // Failed jobs, newest first: stop at the first one older than `since`.
      for (let start = 0; start < 5000; start += 500) {
        const jobs = (await queue.getFailed(start, start + 499)).filter((job): job is Job => Boolean(job));
        const recent = jobs.filter((job) => (job.finishedOn ?? 0) >= since);
        recorded += await albumkit.repositories.deadLetters.record(recent.map((job) => deadLetterOf(name, job, job.failedReason, stoppedEarly(job))));
        if (jobs.length < 500 || recent.length < jobs.length) break;
      }
    } finally {
      await queue.close();
    }
  }
  return { recorded, next };
}

export interface ReplayOptions extends RedisTarget {
  albumkit: Albumkit;
  prefix?: string;
  /** Only this queue's letters (a job name: `notification`, `webhook`, …). */
  queue?: JobName;
  /** Also the letters of unrecoverable failures (by default only those that ran out of attempts). */
  all?: boolean;
  /** Count what would be replayed, change nothing. */
  dryRun?: boolean;
  /** Retry policies of the replayed jobs (default: the worker's). */
  retry?: Partial<Record<JobName, RetryPolicy>>;
  /** An open connection to use instead of `redisUrl`/`redis`. */
  connection?: Redis;
}

export interface ReplayReport {
  /** Letters enqueued again, per queue. */
  replayed: Partial<Record<JobName, number>>;
  /** Letters whose job was already waiting or running again (stamped replayed, not enqueued twice). */
  alreadyQueued: number;
  /** Letters left because they failed as unrecoverable (replayed with `all`). */
  unrecoverableLeft: number;
}

/**
 * `albumkit-worker replay`: every dead letter not replayed yet is enqueued again under its own job
 * id (its failed copy in Redis, if any, is removed first) and stamped `replayed_at`. The jobs are
 * idempotent (an upload makes one image, a delivery is sent once per event and webhook), so a
 * letter replayed twice, or whose work was meanwhile done another way, does nothing more.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayReport> {
  const { albumkit } = options;
  const prefix = options.prefix ?? 'albumkit';
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const connection = options.connection ?? createRedisConnection(options, 'worker');
  const queues = new Map<JobName, Queue>();
  const queueOf = (name: JobName) => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new Queue(queueName(prefix, name), { connection });
      queue.on('error', () => {});
      queues.set(name, queue);
    }
    return queue;
  };
  const report: ReplayReport = { replayed: {}, alreadyQueued: 0, unrecoverableLeft: 0 };
  try {
    report.unrecoverableLeft = options.all ? 0 : await albumkit.repositories.deadLetters.unrecoverableWaiting(options.queue);
    const seen = new Set<string>();
    for (;;) {
      const letters = (await albumkit.repositories.deadLetters.waiting({ ...(options.queue ? { queue: options.queue } : {}), all: options.all ?? false, limit: 500 })).filter(
        (l) => !seen.has(l.id),
      );
      if (letters.length === 0) break;
      for (const l of letters) seen.add(l.id);
      const done: string[] = [];
      for (const letter of letters) {
        const name = letter.queue as JobName;
        if (!JOB_NAMES.includes(name)) continue; // a queue this version does not know: left as it is
        if (options.dryRun) {
          report.replayed[name] = (report.replayed[name] ?? 0) + 1;
          continue;
        }
        const queue = queueOf(name);
        const existing = await queue.getJob(letter.job_id);
        const state = existing ? await existing.getState() : 'missing';
        if (existing && state !== 'failed' && state !== 'completed' && state !== 'unknown') {
          report.alreadyQueued++;
        } else {
          if (existing) await existing.remove();
          await queue.add(name, letter.data, jobOptions(retry[name], letter.job_id));
          report.replayed[name] = (report.replayed[name] ?? 0) + 1;
        }
        done.push(letter.id);
      }
      if (options.dryRun) break;
      await albumkit.repositories.deadLetters.markReplayed(done);
    }
  } finally {
    await Promise.all([...queues.values()].map((q) => q.close()));
    if (!options.connection) connection.disconnect();
  }
  return report;
}
