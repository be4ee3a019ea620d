import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type AdapterOptions, type AlbumkitSource, resolveSettings } from './shared/options.js';
import { nodeBody, writeNodeResponse, type HostRequest } from './shared/node.js';
import { createPipeline } from './shared/pipeline.js';
import { createOps, type OpsOptions, type OpsSource } from './shared/ops.js';

export type { AdapterOptions, AdapterLogger, AlbumkitSource } from './shared/options.js';
export type { CorsOptions } from './shared/cors.js';
export { rawBodySaver } from './shared/raw-body-saver.js';
export { OPS_PATHS, type OpsOptions, type OpsSource } from './shared/ops.js';
export type { MetricsOptions } from './shared/metrics.js';

/**
 * albumkit as Express middleware: `app.use('/api/v1', albumkitExpress(albumkit))`. Every request
 * under the mount path is albumkit's (unknown ones get albumkit's JSON 404). Its public routes
 * (the links it hands out): `app.use(albumkitExpress(albumkit, { publicRoutes: true }))` at the
 * root, which passes every other request on. Works behind
 * `express.json()` / `express.urlencoded()`: see `rawBodySaver` for byte-exact bodies.
 */
export function albumkitExpress(source: AlbumkitSource, options: AdapterOptions = {}): RequestHandler {
  const settings = resolveSettings(source, options);
  const run = createPipeline(settings);

  return function albumkitMiddleware(req: Request, res: Response, next: NextFunction): void {
    // Mounted at the root for the public routes: any other request is the host's.
    if (settings.matches && !settings.matches(req.method, req.url || '/')) return next();
    const hostReq = req as unknown as HostRequest;
    // `req.url` is relative to the mount path; the query string is passed raw to the core.
    run({ method: req.method, path: req.url || '/', headers: req.headers, body: () => nodeBody(hostReq, settings.bodyLimit) }).then(
      (response) => {
        if (!response) return;
        // albumkit answers with its own header set, as recorded; Express adds X-Powered-By.
        if (!res.headersSent) res.removeHeader('X-Powered-By');
        writeNodeResponse(res, response);
      },
      (error: unknown) => {
        settings.logger.error({ err: error }, 'albumkit adapter: response failed');
        if (!res.headersSent) res.destroy();
      },
    );
  };
}

/**
 * The operations routes as Express middleware, outside the API mount: `app.use(albumkitOpsExpress(albumkit))`
 * serves `GET /healthz`, `/readyz` and `/metrics` (relative to where it is mounted) and passes every other request on.
 */
export function albumkitOpsExpress(albumkit: OpsSource, options: OpsOptions = {}): RequestHandler {
  const ops = createOps(albumkit, options);
  return function albumkitOps(req: Request, res: Response, next: NextFunction): void {
    const answer = ops(req.method, req.url || '/');
    if (!answer) return next();
    answer.then((response) => {
      if (!res.headersSent) res.removeHeader('X-Powered-By');
      writeNodeResponse(res, response);
    }, next);
  };
}
