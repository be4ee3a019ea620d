import { backoffDelay, type JobName } from '@albumkit/core';
import type { JobsOptions } from 'bullmq';

/** One BullMQ queue per job name, so that each has its own concurrency and counts. */
export function queueName(prefix: string, name: JobName): string {
  return `${prefix}-${name}`;
}

export interface RetryPolicy {
  attempts: number;
  /** First retry delay in ms; doubles each time, with jitter. */
  backoffMs: number;
}

export const DEFAULT_RETRY: Record<JobName, RetryPolicy> = {
  notification: { attempts: 8, backoffMs: 1000 },
  metadata: { attempts: 6, backoffMs: 2000 },
  // Receivers may be down for a while: about an hour of retries.
  webhook: { attempts: 12, backoffMs: 2000 },
  // A purge that failed half-way loses nothing (the next one resumes): a few retries suffice.
  purge: { attempts: 3, backoffMs: 60_000 },
  // A remote host that is slow or briefly down: a few minutes of retries, then the import fails with the reason.
  import: { attempts: 5, backoffMs: 5000 },
};

/** Id of the job scheduler that enqueues the trash purge (one per queue prefix, shared by every worker). */
export const PURGE_SCHEDULER = 'albumkit-trash-purge';

export function jobOptions(policy: RetryPolicy, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs, jitter: 0.5 },
    // Completed jobs are kept an hour (their ids deduplicate repeats), failed ones a week for inspection.
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

/** Reconnection delays of albumkit's Redis connections: doubling from 100 ms to 5 s, with jitter (never giving up). */
export function redisRetryStrategy(attempt: number): number {
  return backoffDelay(attempt, 100, 5000);
}
