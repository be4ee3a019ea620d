import type { Context, Middleware, Next } from 'koa';
import { bodyFromHost, checkDeclaredBody, hasNoBody, isConsumed, readNodeStream } from './shared/body.js';
import { type AdapterOptions, type AlbumkitSource, normalizePrefix, resolveSettings, stripPrefix } from './shared/options.js';
import { closeAfterResponse } from './shared/node.js';
import { createPipeline } from './shared/pipeline.js';

export type { AdapterOptions, AdapterLogger, AlbumkitSource } from './shared/options.js';
export type { CorsOptions } from './shared/cors.js';

export interface KoaAdapterOptions extends AdapterOptions {
  /** Paths albumkit answers; others go to `next()`. Default: albumkit's `basePath` (`/api/v1`). */
  prefix?: string;
}

/**
 * albumkit as Koa middleware: `app.use(albumkitKoa(albumkit, { prefix: '/api/v1' }))`. Handles
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
    ctx.body = response.body;
  };
}
