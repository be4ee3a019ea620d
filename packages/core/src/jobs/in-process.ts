import { setTimeout as sleep } from 'node:timers/promises';
import { checkProcessors, isUnrecoverable, jobId, type JobName, type JobPayloads, type JobPort, type Processors } from './port.js';

export interface InProcessJobsOptions {
  /** Attempts before a job is given up (and reported). */
  attempts?: number;
  /** Delay before the n-th retry: base * 2^(n-1), with jitter. */
  backoffMs?: number;
  onFailed?: (name: JobName, data: unknown, error: unknown) => void;
}

/**
 * Runs jobs in this process with retries, one at a time per job id. The embedded default when
 * no Redis is configured; the BullMQ worker takes over when one is.
 */
export class InProcessJobs implements JobPort {
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** Cuts short the backoff waits of retrying jobs when the queue closes. */
  private readonly closing = new AbortController();

  constructor(
    private readonly processors: Partial<Processors>,
    private readonly options: InProcessJobsOptions = {},
  ) {
    checkProcessors(processors, []);
  }

  supports(name: JobName): boolean {
    return typeof this.processors[name] === 'function';
  }

  async enqueue<K extends JobName>(name: K, data: JobPayloads[K]): Promise<void> {
    if (this.closed) throw new Error('job queue closed');
    const processor = this.processors[name];
    if (!processor) throw new Error(`no processor for job "${name}"`);
    const id = jobId(name, data);
    if (this.running.has(id)) return; // the same work is already under way
    const run = this.run(name, (attempt) => processor(data, { attempt }), data).finally(() => this.running.delete(id));
    this.running.set(id, run);
  }

  /**
   * Enqueues the job every `everyMs` (a timer that does not keep the process alive) until the
   * queue closes: the in-process stand-in for a BullMQ job scheduler (the trash purge).
   */
  every<K extends JobName>(name: K, data: JobPayloads[K], everyMs: number): void {
    if (this.closed || !this.supports(name)) return;
    const timer = setInterval(() => {
      this.enqueue(name, data).catch((error: unknown) => this.options.onFailed?.(name, data, error));
    }, everyMs);
    timer.unref();
    this.timers.push(timer);
  }

  /** Resolves when every job enqueued so far (and the jobs they enqueued) has finished. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** Waits for running jobs; jobs waiting to retry give up (with a queue, they would be retried later). */
  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.closing.abort();
    await this.drain();
  }

  private async run(name: JobName, work: (attempt: number) => Promise<unknown>, data: unknown): Promise<void> {
    const attempts = this.options.attempts ?? 5;
    const backoff = this.options.backoffMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      try {
        await work(attempt);
        return;
      } catch (error) {
        if (attempt >= attempts || isUnrecoverable(error) || this.closed) {
          this.options.onFailed?.(name, data, error);
          return;
        }
        try {
          await sleep(backoff * 2 ** (attempt - 1) * (0.5 + Math.random() / 2), undefined, { signal: this.closing.signal });
        } catch {
          this.options.onFailed?.(name, data, error);
          return;
        }
      }
    }
  }
}
