import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AdapterOptions, type AlbumkitSource, normalizePrefix, resolveSettings, stripPrefix } from './shared/options.js';
import { nodeBody, writeNodeResponse, type HostRequest } from './shared/node.js';
import { createPipeline } from './shared/pipeline.js';
import { createOps, type OpsOptions, type OpsSource } from './shared/ops.js';

export type { AdapterOptions, AdapterLogger, AlbumkitSource } from './shared/options.js';
export type { CorsOptions } from './shared/cors.js';
export { rawBodySaver } from './shared/raw-body-saver.js';
export { OPS_PATHS, type OpsOptions, type OpsSource } from './shared/ops.js';
export type { MetricsOptions } from './shared/metrics.js';

export interface NodeAdapterOptions extends AdapterOptions {
  /**
   * Only requests under this prefix are albumkit's (`/api/v1`); others go to `next()` when
   * used as Connect-style middleware, or get albumkit's 404 when used as the server listener.
   * Default: none (the listener owns every path; the core strips its `basePath`).
   */
  prefix?: string;
}

export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * albumkit as a `node:http` request listener (`http.createServer(albumkitNode(albumkit))`), also
 * usable as Connect-style middleware (`app.use('/api/v1', albumkitNode(albumkit))`): `req.url`
 * is then relative to the mount point.
 */
export function albumkitNode(source: AlbumkitSource, options: NodeAdapterOptions = {}): NodeListener {
  const settings = resolveSettings(source, options);
  const prefix = normalizePrefix(options.prefix);
  const run = createPipeline(settings);

  return function albumkitListener(req, res, next) {
    const url = req.url ?? '/';
    let path = stripPrefix(url, prefix);
    if (path === undefined) {
      if (next) return next();
      path = url;
    }
    // The public routes (`publicRoutes: true`) as middleware: any other request is the host's.
    if (next && settings.matches && !settings.matches(req.method ?? 'GET', path)) return next();
    const hostReq = req as HostRequest;
    run({ method: req.method ?? 'GET', path, headers: req.headers, body: () => nodeBody(hostReq, settings.bodyLimit) }).then(
      (response) => {
        if (response) writeNodeResponse(res, response);
      },
      // The pipeline never rejects; this only guards against a bug turning into an unhandled rejection.
      (error: unknown) => {
        settings.logger.error({ err: error }, 'albumkit adapter: response failed');
        if (!res.headersSent) res.destroy();
      },
    );
  };
}

export interface NodeOpsOptions extends OpsOptions {
  /** Where the operations routes live (`/ops` gives `/ops/healthz`…). Default: the root. */
  prefix?: string;
}

/**
 * The operations routes as a `node:http` listener or Connect-style middleware, outside the API:
 * `GET /healthz`, `/readyz` and `/metrics`; other requests go to `next()`, or get a JSON 404
 * when used as the server listener.
 */
export function albumkitOpsNode(albumkit: OpsSource, options: NodeOpsOptions = {}): NodeListener {
  const ops = createOps(albumkit, options);
  const prefix = normalizePrefix(options.prefix);
  return function albumkitOps(req, res, next) {
    const path = stripPrefix(req.url ?? '/', prefix);
    const answer = path === undefined ? undefined : ops(req.method ?? 'GET', path);
    if (!answer) {
      if (next) return next();
      res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    answer.then(
      (response) => writeNodeResponse(res, response),
      (error: unknown) => {
        (options.logger ?? console).error({ err: error }, 'albumkit operations: response failed');
        if (!res.headersSent) res.destroy();
      },
    );
  };
}
