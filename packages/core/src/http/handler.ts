import { albumAccessHeaders, imageAccessHeaders, type Principal } from '../auth/abilities.js';
import { tokenFromAuthorization, type Authenticated, type Tokens } from '../auth/tokens.js';
import type { AlbumkitConfig } from '../config.js';
import type { Album } from '../db/schema.js';
import { AccessDenied, AlbumkitError, BadRequest, PayloadTooLarge, ServiceUnavailable } from '../errors.js';
import { serializeAlbum } from '../serializers/album.js';
import type { ImageSerializer } from '../serializers/image.js';
import type { AlbumService } from '../services/albums.js';
import type { ImageService } from '../services/images.js';
import type { ImageJsonReader } from '../services/image-json.js';
import type { NotificationService } from '../services/notifications.js';
import { parseBody, parseQuery, type Parsed } from './body.js';
import { buildResponse, errorResponse, isUnavailable, requestIdFrom } from './responses.js';
import { Router } from './router.js';
import type { CoreHandler, CoreRequest, CoreResponse, HeaderValue } from './types.js';

export interface Logger {
  error(object: unknown, message?: string): void;
  warn(object: unknown, message?: string): void;
}

export interface HandlerDeps {
  config: AlbumkitConfig;
  tokens: Tokens;
  albums: AlbumService;
  images: ImageService;
  imageJson: ImageJsonReader;
  notifications: NotificationService;
  imageSerializer: ImageSerializer;
  logger: Logger;
}

interface Context {
  request: CoreRequest;
  headers: Map<string, string>;
  params: Record<string, string>;
  query: () => Parsed;
  body: () => Parsed;
  principal: Principal;
}

interface Result {
  status: number;
  json?: unknown;
  /** JSON text already serialized (a cached image). */
  body?: string;
  headers?: Record<string, string>;
}

interface Route {
  /** `token`: needs an API token; `none`: the route checks its own credentials. */
  auth: 'token' | 'none';
  run(ctx: Context): Promise<Result>;
}

function headerMap(headers: Record<string, HeaderValue>): Map<string, string> {
  const map = new Map<string, string>();
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    map.set(name.toLowerCase(), typeof value === 'string' ? value : value.join(', '));
  }
  return map;
}

function stringParam(value: unknown, name: string, max = 255): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > max) throw new BadRequest(`${name}: a string of at most ${max} characters is expected`);
  return value;
}

function decodeSegment(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new BadRequest('malformed path');
  }
}

/** The one framework-agnostic handler: routing, authentication, error mapping and headers. */
export function createHandler(deps: HandlerDeps): CoreHandler {
  const { config, tokens, albums, images, imageJson, notifications, imageSerializer } = deps;
  const limits = config.limits;

  const albumJson = async (principal: Principal, album: Album) =>
    serializeAlbum(album, await albums.uploadForm(principal, album));

  const router = new Router<Route>()
    .add('POST', '/albums', {
      auth: 'token',
      async run({ principal }) {
        return { status: 200, json: await albumJson(principal, await albums.create(principal)) };
      },
    })
    .add('GET', '/albums/:id', {
      auth: 'token',
      async run({ principal, params }) {
        const album = await albums.open(principal, decodeSegment(params.id!));
        return { status: 200, json: await albumJson(principal, album), headers: albumAccessHeaders(principal, album.id) };
      },
    })
    .add('POST', '/albums/:id/upload_done', {
      auth: 'token',
      async run({ principal, params, body }) {
        const platform = stringParam(body().platform, 'platform', 64) ?? 'web';
        const album = await albums.uploadDone(principal, decodeSegment(params.id!), platform);
        return { status: 200, json: await albumJson(principal, album) };
      },
    })
    .add('POST', '/albums/:id/images', {
      auth: 'token',
      async run({ principal, params, body }) {
        const { cloudinary, metadatas } = body();
        const image = await images.upload(principal, decodeSegment(params.id!), cloudinary, metadatas);
        return { status: 200, json: imageSerializer.serialize(image) };
      },
    })
    .add('GET', '/albums/:id/images', {
      auth: 'token',
      async run({ principal, params, query }) {
        const q = query();
        const limitText = stringParam(q.limit, 'limit', 6);
        const limit = limitText === undefined ? 50 : Number(limitText);
        if (!Number.isInteger(limit) || limit < 1 || limit > limits.pageSize) {
          throw new BadRequest(`limit: an integer from 1 to ${limits.pageSize} is expected`);
        }
        const page = await images.list(principal, decodeSegment(params.id!), limit, stringParam(q.cursor, 'cursor', 512));
        return {
          status: 200,
          json: page.images.map((image) => imageSerializer.serialize(image)),
          headers: page.next ? { 'X-Next-Cursor': page.next } : undefined,
        };
      },
    })
    .add('GET', '/images/:id', {
      auth: 'token',
      async run({ principal, params }) {
        const { body, albumId } = await imageJson.get(principal, decodeSegment(params.id!));
        return { status: 200, body, headers: imageAccessHeaders(principal, albumId) };
      },
    })
    .add('POST', '/images/:id/duplicate', {
      auth: 'token',
      async run({ principal, params }) {
        return { status: 200, json: imageSerializer.serialize(await images.duplicate(principal, decodeSegment(params.id!))) };
      },
    })
    .add('GET', '/image_syncs', {
      auth: 'token',
      async run({ principal, query }) {
        const raw = query().ids ?? [];
        const ids = typeof raw === 'string' ? [raw] : raw;
        if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new BadRequest('ids: a list of image ids is expected');
        if (ids.length > limits.syncIds) throw new BadRequest(`ids: at most ${limits.syncIds} ids per request`);
        return { status: 200, body: await imageJson.syncs(principal, ids as string[]) };
      },
    })
    .add('POST', '/cloudinary', {
      auth: 'none',
      async run({ request, headers, query }) {
        if (request.rawBody === undefined) throw new BadRequest('notification: the raw request body is required to check its signature');
        const raw = typeof request.rawBody === 'string' ? Buffer.from(request.rawBody) : request.rawBody;
        if (raw.byteLength > limits.bodyBytes) throw new PayloadTooLarge('notification body too large');
        const renewed = await notifications.accept({
          token: stringParam(query().token, 'token', limits.tokenLength),
          rawBody: raw,
          timestamp: headers.get('x-cld-timestamp'),
          signature: headers.get('x-cld-signature'),
        });
        return { status: 201, headers: { 'Content-Type': 'text/html', ...(renewed ? { 'X-token': renewed } : {}) } };
      },
    });

  const basePath = config.basePath;

  return async function handle(request: CoreRequest): Promise<CoreResponse> {
    const started = performance.now();
    const headers = headerMap(request.headers);
    const requestId = requestIdFrom(headers.get('x-request-id'));
    const finish = (status: number, body: string, extra: Record<string, string> = {}): CoreResponse =>
      buildResponse(status, body, requestId, started, extra);
    const fail = (status: number, code: string, message: string, extra: Record<string, string> = {}): CoreResponse =>
      errorResponse(status, code, message, requestId, started, extra);

    try {
      let path = request.path;
      let rawQuery = request.query;
      const q = path.indexOf('?');
      if (q >= 0) {
        if (rawQuery === undefined) rawQuery = path.slice(q + 1);
        path = path.slice(0, q);
      }
      if (basePath && (path === basePath || path.startsWith(basePath + '/'))) path = path.slice(basePath.length);
      if (path.length > 2048) throw new BadRequest('path too long');

      const method = request.method.toUpperCase();
      const match = router.match(method, path);
      if (match === undefined) return fail(404, 'not_found', 'No such endpoint');
      if (match === 'methodMismatch') return fail(405, 'method_not_allowed', `${method} is not allowed here`);

      let auth: Authenticated | undefined;
      if (match.route.auth === 'token') {
        const token = tokenFromAuthorization(headers.get('authorization'));
        auth = tokens.seenBefore(token) ?? (await tokens.authenticate(token));
      }
      let queryCache: Parsed | undefined;
      let bodyCache: Parsed | undefined;
      const result = await match.route.run({
        request,
        headers,
        params: match.params,
        query: () => (queryCache ??= parseQuery(rawQuery, limits)),
        body: () => (bodyCache ??= parseBody(request.rawBody, request.body, headers.get('content-type'), limits)),
        principal: auth?.principal as Principal,
      });
      const extra: Record<string, string> = result.headers ? { ...result.headers } : {};
      if (auth && result.status >= 200 && result.status < 300) extra['X-token'] = tokens.renewedThisSecond(auth) ?? (await tokens.renew(auth));
      return finish(result.status, result.body ?? (result.json === undefined ? '' : JSON.stringify(result.json)), extra);
    } catch (error) {
      // As the API always answered: no body, and nothing that calls it JSON.
      if (error instanceof AccessDenied) return finish(401, '', { 'Content-Type': 'text/html', 'X-message': 'Access denied' });
      if (error instanceof AlbumkitError) return fail(error.status, error.code, error.message);
      if (isUnavailable(error)) {
        const unavailable = new ServiceUnavailable();
        deps.logger.warn({ err: error, requestId }, 'dependency unavailable');
        return fail(503, unavailable.code, unavailable.message, { 'Retry-After': '5' });
      }
      deps.logger.error({ err: error, requestId, method: request.method, path: request.path }, 'unexpected error');
      return fail(500, 'internal_error', 'Internal error');
    }
  };
}
