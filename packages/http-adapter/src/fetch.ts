import { checkDeclaredBody, readWebStream } from './shared/body.js';
import { type AdapterOptions, type AlbumkitSource, normalizePrefix, resolveSettings, stripPrefix } from './shared/options.js';
import { createPipeline } from './shared/pipeline.js';

export type { AdapterOptions, AdapterLogger, AlbumkitSource } from './shared/options.js';
export type { CorsOptions } from './shared/cors.js';

export interface FetchAdapterOptions extends AdapterOptions {
  /** Mount prefix stripped from the URL's path (`/api/v1`). Default: none (the core strips its `basePath`). */
  prefix?: string;
}

export type FetchHandler = (request: Request) => Promise<Response>;

/** Statuses whose responses carry no body (a `Response` refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * albumkit as a fetch handler, `(Request) => Promise<Response>`, for Hono
 * (`app.all('/api/v1/*', (c) => handler(c.req.raw))`), Next.js route handlers, Bun, Deno…
 */
export function albumkitFetch(source: AlbumkitSource, options: FetchAdapterOptions = {}): FetchHandler {
  const settings = resolveSettings(source, options);
  const prefix = normalizePrefix(options.prefix);
  const run = createPipeline(settings);

  return async function albumkitFetchHandler(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const target = url.pathname + url.search;
    const path = stripPrefix(target, prefix) ?? target;
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const response = await run({
      method: request.method,
      path,
      headers,
      body: () => {
        if (request.body === null) return undefined;
        checkDeclaredBody(headers, settings.bodyLimit);
        return readWebStream(request.body, settings.bodyLimit, request.signal);
      },
    });
    if (!response) return new Response(null, { status: 499 });
    const out = new Headers(response.headers);
    return new Response(NULL_BODY.has(response.status) || response.body === '' ? null : response.body, { status: response.status, headers: out });
  };
}
