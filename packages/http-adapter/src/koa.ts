import { Readable } from 'node:stream';
import type { Context, Middleware, Next } from 'koa';
import { bodyFromHost, checkDeclaredBody, hasNoBody, isConsumed, readNodeStream } from './shared/body.js';
import { type AdapterOptions, type AlbumkitSource, normalizePrefix, resolveSettings, stripPrefix } from './shared/options.js';
import { closeAfterResponse } from './shared/node.js';
import { createPipeline } from './shared/pipeline.js';
import { createOps, type OpsOptions, type OpsSource } from './shared/ops.js';

export type { AdapterOptions, AdapterLogger, AlbumkitSource } from './shared/options.js';
export type { CorsOptions } from './shared/cors.js';
export { OPS_PATHS, type OpsOptions, type OpsSource } from './shared/ops.js';
export type { MetricsOptions } from './shared/metrics.js';

export interface KoaAdapterOptions extends AdapterOptions {
  /** Paths albumkit answers; others go to `next()`. Default: albumkit's `basePath` (`/api/v1`). */
  prefix?: string;
}

/**
 * albumkit as Koa middleware: `app.use(albumkitKoa(albumkit, { prefix: '/api/v1' }))`; its
 * public routes: `app.use(albumkitKoa(albumkit, { publicRoutes: true }))`. Handles
 * requests under `prefix` and calls `next()` for the others. Works behind `koa-bodyparser`
 * (uses its `ctx.request.rawBody`).
 */
export function albumkitKoa(source: AlbumkitSource, options: KoaAdapterOptions = {}): Middleware {
  const settings = resolveSettings(source, options);
  const prefix = normalizePrefix(options.prefix ?? settings.basePath ?? '/api/v1');
  const run = createPipeline(settings);

  return async function albumkitMiddleware(ctx: Context, next: Next): Promise<void> {
    const path = stripPrefix(ctx.url, prefix);
    if (path === undefined) return next();
    // The public routes (`publicRoutes: true`): any other request is the host's.
    if (settings.matches && !settings.matches(ctx.method, path)) return next();
    const request = ctx.request as typeof ctx.request & { rawBody?: unknown; body?: unknown };

    const response = await run({
      method: ctx.method,
      path,
      headers: ctx.headers,
      body: () => {
        const req = ctx.req;
        if (request.rawBody !== undefined || isConsumed(req)) return bodyFromHost(request.rawBody, request.body, ctx.get('content-type'));
        if (hasNoBody(req.headers)) return undefined;
        checkDeclaredBody(req.headers, settings.bodyLimit);
        return readNodeStream(req, settings.bodyLimit);
      },
    });
    if (!response) {
      // The client is gone: nothing to send.
      ctx.respond = false;
      if (!ctx.res.destroyed) ctx.res.destroy();
      return;
    }
    ctx.status = response.status;
    ctx.set(response.headers);
    if (response.close) closeAfterResponse(ctx.req, ctx.res);
    ctx.body = response.stream ? Readable.from(response.stream, { objectMode: false }) : response.body;
  };
}

export interface KoaOpsOptions extends OpsOptions {
  /** Where the operations routes live (`/ops` gives `/ops/healthz`…). Default: the root. */
  prefix?: string;
}

/**
 * The operations routes as Koa middleware, outside the API prefix: `app.use(albumkitOpsKoa(albumkit))`
 * serves `GET /healthz`, `/readyz` and `/metrics` and calls `next()` for every other request.
 */
export function albumkitOpsKoa(albumkit: OpsSource, options: KoaOpsOptions = {}): Middleware {
  const ops = createOps(albumkit, options);
  const prefix = normalizePrefix(options.prefix);
  return async function albumkitOps(ctx: Context, next: Next): Promise<void> {
    const path = stripPrefix(ctx.path, prefix);
    const answer = path === undefined ? undefined : ops(ctx.method, path);
    if (!answer) return next();
    const response = await answer;
    ctx.status = response.status;
    ctx.set(response.headers);
    ctx.body = response.body;
  };
}
