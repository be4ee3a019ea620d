import { Readable } from 'node:stream';
import { checkDeclaredBody, readWebStream } from './shared/body.js';
import { type AdapterOptions, type AlbumkitSource, normalizePrefix, resolveSettings, stripPrefix } from './shared/options.js';
import { createPipeline } from './shared/pipeline.js';
import { createOps, type OpsOptions, type OpsSource } from './shared/ops.js';

export type { AdapterOptions, AdapterLogger, AlbumkitSource } from './shared/options.js';
export type { CorsOptions } from './shared/cors.js';
export { OPS_PATHS, type OpsOptions, type OpsSource } from './shared/ops.js';
export type { MetricsOptions } from './shared/metrics.js';

export interface FetchAdapterOptions extends AdapterOptions {
  /** Mount prefix stripped from the URL's path (`/api/v1`). Default: none (the core strips its `basePath`). */
  prefix?: string;
}

export type FetchHandler = (request: Request) => Promise<Response>;

/** Statuses whose responses carry no body (a `Response` refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

/**
 * `/path?query` of a request URL. `Request.url` is already parsed and serialized (normalized),
 * so slicing it up to the fragment gives what `new URL(url).pathname + search` would, without
 * parsing it a second time.
 */
function pathAndQuery(url: string): string {
  const scheme = url.indexOf('://');
  const start = url.indexOf('/', scheme < 0 ? 0 : scheme + 3);
  const hash = url.indexOf('#');
  if (start < 0 || (hash >= 0 && hash < start)) return '/';
  return hash < 0 ? url.slice(start) : url.slice(start, hash);
}

/**
 * albumkit as a fetch handler, `(Request) => Promise<Response>`, for Hono
 * (`app.all('/api/v1/*', (c) => handler(c.req.raw))`), Next.js route handlers, Bun, Deno…
 * With `publicRoutes: true` it answers the public routes (route `handle.public.patterns` to it).
 */
export function albumkitFetch(source: AlbumkitSource, options: FetchAdapterOptions = {}): FetchHandler {
  const settings = resolveSettings(source, options);
  const prefix = normalizePrefix(options.prefix);
  const run = createPipeline(settings);

  return async function albumkitFetchHandler(request: Request): Promise<Response> {
    const target = pathAndQuery(request.url);
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
    // The plain headers object is filled into the Response once (a Headers copy first would validate every header twice).
    if (response.stream && !NULL_BODY.has(response.status)) {
      const stream = Readable.toWeb(Readable.from(response.stream, { objectMode: false })) as ReadableStream<Uint8Array>;
      return new Response(stream, { status: response.status, headers: response.headers });
    }
    return new Response(NULL_BODY.has(response.status) || response.body === '' ? null : response.body, { status: response.status, headers: response.headers });
  };
}

export interface FetchOpsOptions extends OpsOptions {
  /** Mount prefix stripped from the URL's path (`/ops` gives `/ops/healthz`…). Default: none. */
  prefix?: string;
}

/**
 * The operations routes as a fetch handler, outside the API: `GET /healthz`, `/readyz` and
 * `/metrics`; any other path gets a JSON 404 (route only `OPS_PATHS` to it).
 */
export function albumkitOpsFetch(albumkit: OpsSource, options: FetchOpsOptions = {}): FetchHandler {
  const ops = createOps(albumkit, options);
  const prefix = normalizePrefix(options.prefix);
  return async function albumkitOpsHandler(request: Request): Promise<Response> {
    const path = stripPrefix(pathAndQuery(request.url), prefix);
    const answer = path === undefined ? undefined : ops(request.method, path);
    if (!answer) return Response.json({ error: 'not found' }, { status: 404 });
    const response = await answer;
    return new Response(response.body === '' ? null : response.body, { status: response.status, headers: response.headers });
  };
}
