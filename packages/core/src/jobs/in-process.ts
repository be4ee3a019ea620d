import { setTimeout as sleep } from 'node:timers/promises';
import { notificationJobId, type JobPort, type NotificationJob } from './port.js';

export interface InProcessJobsOptions {
  /** Attempts before a job is given up (and reported). */
  attempts?: number;
  /** Delay before the n-th retry: base * 2^(n-1). */
  backoffMs?: number;
  onFailed?: (job: NotificationJob, error: unknown) => void;
}

/** Errors a retry cannot fix carry `unrecoverable = true`. */
export function isUnrecoverable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { unrecoverable?: boolean }).unrecoverable === true;
}

/**
 * Runs notification jobs in this process, one at a time per job id, with retries. Used when no
 * Redis is configured; the BullMQ worker takes over when it is.
 */
export class InProcessJobs implements JobPort {
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly process: (job: NotificationJob) => Promise<unknown>,
    private readonly options: InProcessJobsOptions = {},
  ) {}

  async enqueueNotification(job: NotificationJob): Promise<void> {
    if (this.closed) throw new Error('job queue closed');
    const id = notificationJobId(job);
    if (this.running.has(id)) return; // the same upload is already being handled
    const run = this.run(job).finally(() => this.running.delete(id));
    this.running.set(id, run);
  }

  /** Resolves when every job enqueued so far has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private async run(job: NotificationJob): Promise<void> {
    const attempts = this.options.attempts ?? 5;
    const backoff = this.options.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.process(job);
        return;
      } catch (error) {
        if (attempt >= attempts || isUnrecoverable(error) || this.closed) {
          this.options.onFailed?.(job, error);
          return;
        }
        await sleep(backoff * 2 ** (attempt - 1));
      }
    }
  }
}
