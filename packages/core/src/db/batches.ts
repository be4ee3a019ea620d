import { ServiceUnavailable } from '../errors.js';
import { isUnavailable } from '../http/responses.js';

/** What one batch run answers for each of its items, in order. */
export type BatchRun<I, O> = (items: I[]) => Promise<O[]>;

export interface BatchOptions {
  /** Most items in one batch. */
  maxBatch: number;
  /** Batches running at once; items submitted meanwhile wait and go together in the next one. */
  maxInFlight: number;
  /** Most items waiting; more are refused at once with `overloaded()` (a 503), not queued in memory. */
  maxWaiting: number;
  /** Whether a failed batch is worth retrying item by item (not when the database is unreachable). */
  retryOneByOne(error: unknown): boolean;
  overloaded(): Error;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

/**
 * Turns many concurrent writes into few statements, without waiting for a batch to fill: an
 * item submitted while fewer than `maxInFlight` batches run goes at once (alone when the system
 * is quiet); under load, items queue behind the running batches and leave together. When a
 * batch fails, its items are run one by one, so that one bad item fails alone (unless the
 * failure is the database's, which every item would meet again).
 */
export class Batches<I, O> {
  private readonly waiting: Waiting<I, O>[] = [];
  private inFlight = 0;

  constructor(
    private readonly runBatch: BatchRun<I, O>,
    private readonly runOne: (item: I) => Promise<O>,
    private readonly options: BatchOptions,
  ) {}

  submit(item: I): Promise<O> {
    if (this.waiting.length >= this.options.maxWaiting) return Promise.reject(this.options.overloaded());
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      await this.runOne(only!.item).then(only!.resolve, (error: unknown) => {
        only!.reject(error);
        if (!this.options.retryOneByOne(error)) this.failWaiting(error);
      });
      return;
    }
    let results: O[];
    try {
      results = await this.runBatch(batch.map((w) => w.item));
    } catch (error) {
      if (!this.options.retryOneByOne(error)) {
        for (const w of batch) w.reject(error);
        this.failWaiting(error);
        return;
      }
      await Promise.all(batch.map((w) => this.runOne(w.item).then(w.resolve, w.reject)));
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]!));
  }

  /**
   * The database is away: the items waiting now would meet it too. They fail with this batch
   * rather than one batch after another, each as slow as the connection or statement timeout
   * (a half-open connection would otherwise add those waits up).
   */
  private failWaiting(error: unknown): void {
    for (const w of this.waiting.splice(0)) w.reject(error);
  }
}

/** The failure policy of the repositories' batches: a database that is away fails every item. */
export const BATCH_FAILURES = {
  maxWaiting: 10_000,
  retryOneByOne: (error: unknown) => !isUnavailable(error),
  overloaded: () => new ServiceUnavailable(),
} satisfies Pick<BatchOptions, 'maxWaiting' | 'retryOneByOne' | 'overloaded'>;
