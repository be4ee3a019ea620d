import type { JobName, Processors } from '../jobs/port.js';

/** One answered HTTP request. */
export interface RequestObservation {
  method: string;
  /** The matched route pattern (`/albums/:id`), `unmatched` when none matched. */
  route: string;
  status: number;
  seconds: number;
}

/** One run of a job (an attempt). */
export interface JobObservation {
  /** The queue (BullMQ queue name), or the job name for in-process jobs. */
  queue: string;
  job: JobName;
  seconds: number;
  outcome: 'completed' | 'failed';
}

/** Jobs of one queue by state, read when metrics are scraped. */
export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface TelemetryObserver {
  request?(observation: RequestObservation): void;
  job?(observation: JobObservation): void;
}

export type QueueDepthSource = () => Promise<Record<string, QueueDepth>>;

/**
 * What albumkit measures, without a metrics library: adapters report requests, job runners
 * report jobs, queues offer their depth; an observer (the Prometheus metrics of
 * `@albumkit/http-adapter`, or the host's own) turns them into metrics.
 */
export class Telemetry {
  private observers: TelemetryObserver[] = [];
  private readonly depthSources = new Set<QueueDepthSource>();

  /** Adds an observer; returns its removal. */
  observe(observer: TelemetryObserver): () => void {
    this.observers = [...this.observers, observer];
    return () => {
      this.observers = this.observers.filter((o) => o !== observer);
    };
  }

  request(observation: RequestObservation): void {
    for (const observer of this.observers) observer.request?.(observation);
  }

  job(observation: JobObservation): void {
    for (const observer of this.observers) observer.job?.(observation);
  }

  /** Offers queue counts (read at scrape time); returns its removal. */
  addQueueDepth(source: QueueDepthSource): () => void {
    this.depthSources.add(source);
    return () => this.depthSources.delete(source);
  }

  /** Counts of every queue offered; a source that fails (Redis down) is left out. */
  async queueDepths(): Promise<Record<string, QueueDepth>> {
    const results = await Promise.allSettled([...this.depthSources].map((source) => source()));
    return Object.assign({}, ...results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  }
}

/** The processors, each run timed and reported to `telemetry` (queue label: `queueOf(name)`). */
export function observedProcessors<P extends Partial<Processors>>(processors: P, telemetry: Telemetry, queueOf: (name: JobName) => string = (name) => name): P {
  const observed: Partial<Record<JobName, unknown>> = {};
  for (const [name, processor] of Object.entries(processors) as [JobName, (data: unknown, context: { attempt: number }) => Promise<unknown>][]) {
    if (typeof processor !== 'function') continue;
    const queue = queueOf(name);
    observed[name] = async (data: unknown, context: { attempt: number }) => {
      const started = performance.now();
      try {
        const result = await processor(data, context);
        telemetry.job({ queue, job: name, seconds: (performance.now() - started) / 1000, outcome: 'completed' });
        return result;
      } catch (error) {
        telemetry.job({ queue, job: name, seconds: (performance.now() - started) / 1000, outcome: 'failed' });
        throw error;
      }
    };
  }
  return observed as P;
}
