import type { Health, Telemetry } from '@albumkit/core';
import { albumkitMetrics, type AlbumkitMetrics, type MetricsOptions } from './metrics.js';
import type { AdapterLogger } from './options.js';
import type { AdapterResponse } from './pipeline.js';

/** What the operations routes read: an albumkit instance. */
export interface OpsSource {
  health: Health;
  telemetry: Telemetry;
}

export interface OpsOptions {
  /** Serve `/metrics` (Prometheus, needs `prom-client`): true (default), false, or where to register them. */
  metrics?: boolean | MetricsOptions;
  /** Logs failures of the operations routes themselves (default: `console`). */
  logger?: AdapterLogger;
}

/**
 * The operations routes, outside albumkit's API (not in its OpenAPI document):
 * liveness, readiness (503 naming the failing check) and Prometheus metrics.
 */
export const OPS_PATHS = { live: '/healthz', ready: '/readyz', metrics: '/metrics' } as const;

export type OpsRoute = (method: string, path: string) => Promise<AdapterResponse> | undefined;

const json = (status: number, value: unknown): AdapterResponse => ({
  status,
  headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
  body: JSON.stringify(value),
});

/**
 * The framework-free operations handler every adapter mounts: answers the ops paths (GET/HEAD;
 * 405 for other methods) and returns undefined for any other path, which the adapter passes on.
 */
export function createOps(source: OpsSource, options: OpsOptions = {}): OpsRoute {
  if (!source?.health || !source.telemetry) throw new TypeError('albumkit operations: expected an albumkit instance (with `health` and `telemetry`)');
  const logger = options.logger ?? console;
  // Created at once, so that requests are counted from the start (and a missing prom-client fails at start-up).
  const metrics: AlbumkitMetrics | undefined =
    options.metrics === false ? undefined : albumkitMetrics(source.telemetry, options.metrics === true || options.metrics === undefined ? {} : options.metrics);
  const paths = new Set<string>([OPS_PATHS.live, OPS_PATHS.ready, ...(metrics ? [OPS_PATHS.metrics] : [])]);

  const answer = async (path: string): Promise<AdapterResponse> => {
    if (path === OPS_PATHS.live) return json(200, source.health.live());
    if (path === OPS_PATHS.ready) {
      const report = await source.health.ready();
      return json(report.status === 'ready' ? 200 : 503, report);
    }
    try {
      const { contentType, body } = await metrics!.scrape();
      return { status: 200, headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' }, body };
    } catch (error) {
      logger.error({ err: error }, 'albumkit metrics: scrape failed');
      return json(500, { error: 'metrics unavailable' });
    }
  };

  return (method, target) => {
    const query = target.indexOf('?');
    const path = query < 0 ? target : target.slice(0, query);
    if (!paths.has(path)) return undefined;
    const upper = method.toUpperCase();
    if (upper !== 'GET' && upper !== 'HEAD') {
      return Promise.resolve({ ...json(405, { error: 'method not allowed' }), headers: { ...json(405, {}).headers, Allow: 'GET, HEAD' } });
    }
    return answer(path).then((response) => (upper === 'HEAD' ? { ...response, body: '' } : response));
  };
}
