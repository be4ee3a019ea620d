import { createRequire } from 'node:module';
import type { Telemetry } from '@albumkit/core';
import type * as PromClient from 'prom-client';

/**
 * The part of a prom-client `Registry` albumkit uses, described here so that a host compiles
 * without prom-client's types (it is an optional peer); any prom-client `Registry` is one.
 */
export interface MetricsRegistry {
  readonly contentType: string;
  metrics(): Promise<string>;
  registerMetric(metric: never): void;
}

export interface MetricsOptions {
  /** Register albumkit's metrics in this prom-client registry (the host's own); default: a registry of albumkit's. */
  registry?: MetricsRegistry;
  /** Also collect prom-client's process metrics (CPU, memory, event loop) in albumkit's own registry (default true). */
  defaultMetrics?: boolean;
}

export interface AlbumkitMetrics {
  registry: MetricsRegistry;
  /** The exposition text and its content type, queue depths read now. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** prom-client is an optional peer: loaded only by whoever serves metrics. */
function loadPromClient(): typeof PromClient {
  try {
    return createRequire(import.meta.url)('prom-client') as typeof PromClient;
  } catch (error) {
    throw new Error('albumkit metrics need prom-client: `npm install prom-client` (or pass `metrics: false`)', { cause: error });
  }
}

/** One set of metrics per telemetry and registry, so that mounting twice never registers twice. */
const created = new WeakMap<Telemetry, Map<MetricsRegistry | undefined, AlbumkitMetrics>>();

/**
 * albumkit's Prometheus metrics, fed by its telemetry: requests by method, route pattern and
 * status; job runs and failures by queue; queue depths read at scrape time.
 */
export function albumkitMetrics(telemetry: Telemetry, options: MetricsOptions = {}): AlbumkitMetrics {
  let byRegistry = created.get(telemetry);
  if (!byRegistry) created.set(telemetry, (byRegistry = new Map()));
  const existing = byRegistry.get(options.registry);
  if (existing) return existing;

  const prom = loadPromClient();
  const registry = (options.registry as PromClient.Registry | undefined) ?? new prom.Registry();
  if (!options.registry && options.defaultMetrics !== false) prom.collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new prom.Counter({
    name: 'albumkit_http_requests_total',
    help: 'HTTP requests answered by albumkit, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const requestSeconds = new prom.Histogram({
    name: 'albumkit_http_request_duration_seconds',
    help: 'Time to answer an albumkit HTTP request, in seconds.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const jobSeconds = new prom.Histogram({
    name: 'albumkit_job_duration_seconds',
    help: 'Time a job run (one attempt) took, in seconds, by queue and outcome.',
    labelNames: ['queue', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers,
  });
  const jobFailures = new prom.Counter({
    name: 'albumkit_job_failures_total',
    help: 'Failed job runs (attempts), by queue.',
    labelNames: ['queue'] as const,
    registers,
  });
  new prom.Gauge({
    name: 'albumkit_queue_jobs',
    help: 'Jobs in each queue by state (waiting, active, delayed, failed), read at scrape time.',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      this.reset();
      for (const [queue, depth] of Object.entries(await telemetry.queueDepths())) {
        for (const state of QUEUE_STATES) this.set({ queue, state }, depth[state]);
      }
    },
  });

  telemetry.observe({
    request({ method, route, status, seconds }) {
      const labels = { method: METHODS.has(method) ? method : 'OTHER', route, status: String(status) };
      requests.inc(labels);
      requestSeconds.observe(labels, seconds);
    },
    job({ queue, seconds, outcome }) {
      jobSeconds.observe({ queue, outcome }, seconds);
      if (outcome === 'failed') jobFailures.inc({ queue });
    },
  });

  const metrics: AlbumkitMetrics = {
    registry,
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
  byRegistry.set(options.registry, metrics);
  return metrics;
}
