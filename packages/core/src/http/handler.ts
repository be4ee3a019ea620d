import { z } from 'zod';
import type { Principal } from '../auth/abilities.js';
import { tokenFromAuthorization, type Authenticated } from '../auth/tokens.js';
import { AccessDenied, AlbumkitError, BadRequest, ServiceUnavailable, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Health } from '../ops/health.js';
import { DATABASE_HINT } from '../ops/dependencies.js';
import { parseBody, parseQuery, type Parsed } from './body.js';
import { openApiDocument } from './openapi.js';
import { buildResponse, errorResponse, isUnavailable, requestIdFrom } from './responses.js';
import { defineRoute, validate, type AnyRoute } from './route.js';
import { apiRoutes, type RouteDeps } from './routes/index.js';
import { Router } from './router.js';
import type { CoreHandler, CoreRequest, CoreResponse, HeaderValue, PublicHandler } from './types.js';

export interface HandlerDeps extends RouteDeps {
  logger: Logger;
  /** Where a dependency's outage is reported once (with the setting to check) instead of once per request. */
  health?: Pick<Health, 'reportDown' | 'reportUp' | 'isDown'>;
  /** The version the API description reports. */
  version?: string;
}

/** The handler, with the route definitions it serves (the OpenAPI document is made of them). */
export interface DescribedHandler extends CoreHandler {
  /** The API's routes (under `basePath`). */
  routes: readonly AnyRoute[];
  openApi(): Record<string, unknown>;
  /** The routes of the host's root (`surface: 'public'`), outside the API mount, with their own description. */
  public: PublicHandler & { routes: readonly AnyRoute[]; openApi(): Record<string, unknown> };
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

function decodeSegment(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new BadRequest('malformed path');
  }
}

const EMPTY = Object.freeze({}) as Parsed;

/** The one framework-agnostic handler: routing, authentication, validation, error mapping and headers. */
export function createHandler(deps: HandlerDeps): DescribedHandler {
  const { config, tokens } = deps;
  const limits = config.limits;
  const every = apiRoutes(deps);
  const routes: AnyRoute[] = every.filter((route) => route.surface !== 'public');
  const publicRoutes = every.filter((route) => route.surface === 'public');
  let publicDocument: Record<string, unknown> | undefined;
  const publicOpenApi = () =>
    (publicDocument ??= openApiDocument(publicRoutes, { version: deps.version ?? '0.1.0', serverUrl: new URL(config.publicUrl).origin, title: 'albumkit public routes' }));
  let document: Record<string, unknown> | undefined;
  let documentText: string | undefined;
  const openApi = () =>
    (document ??= openApiDocument(routes, { version: deps.version ?? '0.1.0', serverUrl: new URL(config.basePath || '/', config.publicUrl).toString().replace(/\/$/, '') }));
  routes.push(
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openApi',
      summary: 'This document: the OpenAPI 3.1 description of the API',
      tag: 'Meta',
      auth: 'none',
      responses: { 200: { description: 'The OpenAPI document', schema: z.looseObject({ openapi: z.string(), paths: z.looseObject({}) }) } },
      async run() {
        return { status: 200, body: (documentText ??= JSON.stringify(openApi())) };
      },
    }),
  );
  const apiRouter = new Router<AnyRoute>();
  const publicRouter = new Router<AnyRoute>();
  for (const route of routes) apiRouter.add(route.method, route.path, route);
  for (const route of publicRoutes) publicRouter.add(route.method, route.path, route);

  /** A 503 reported the database down: the next answer that needed it says it is back. */
  let databaseReported = false;
  /** The handler of one router; `basePath` is stripped from the API's paths, never from the public ones. */
  const handlerOf = (router: Router<AnyRoute>, basePath: string) => async function handle(request: CoreRequest): Promise<CoreResponse> {
    const started = performance.now();
    const headers = headerMap(request.headers);
    const requestId = requestIdFrom(headers.get('x-request-id'));
    let routePattern: string | undefined;
    const finish = (status: number, body: string, extra: Record<string, string> = {}, omit: readonly string[] = []): CoreResponse => {
      const response = buildResponse(status, body, requestId, started, extra);
      for (const name of omit) delete response.headers[name];
      if (routePattern !== undefined) response.route = routePattern;
      return response;
    };
    const fail = (status: number, code: ErrorCode, message: string, extra: Record<string, string> = {}): CoreResponse => {
      const response = errorResponse(status, code, message, requestId, started, extra);
      if (routePattern !== undefined) response.route = routePattern;
      return response;
    };

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

      let method = request.method.toUpperCase();
      // Links of the public routes are fetched with HEAD too (link checkers, previews): answered as GET.
      if (method === 'HEAD' && router === publicRouter) method = 'GET';
      const match = router.match(method, path);
      if (match === undefined) return fail(404, 'not_found', 'No such endpoint');
      if (match === 'methodMismatch') return fail(405, 'method_not_allowed', `${method} is not allowed here`);

      const route = match.route;
      routePattern = route.path;
      let auth: Authenticated | undefined;
      if (route.auth === 'token') {
        const token = tokenFromAuthorization(headers.get('authorization'));
        auth = tokens.seenBefore(token) ?? (await tokens.authenticate(token));
      }
      const params: Record<string, string> = {};
      for (const name in match.params) params[name] = decodeSegment(match.params[name]!);
      const query = route.query ? parseQuery(rawQuery, limits) : EMPTY;
      const body =
        route.body && route.bodyValidation !== 'describe' ? parseBody(request.rawBody, request.body, headers.get('content-type'), limits) : EMPTY;
      const result = await route.run({
        request,
        headers,
        params: route.params ? validate(route.params, params, 'path') : params,
        query: route.query ? validate(route.query, query, 'query') : query,
        body: route.body && route.bodyValidation !== 'describe' ? validate(route.body, body, 'body') : body,
        input: { query, body },
        principal: auth?.principal as Principal,
        auth: auth as Authenticated,
      });
      if (databaseReported) {
        databaseReported = false;
        deps.health?.reportUp('database');
      }
      const extra: Record<string, string> = result.headers ? { ...result.headers } : {};
      if (auth && result.status >= 200 && result.status < 300) extra['X-token'] = tokens.renewedThisSecond(auth) ?? (await tokens.renew(auth));
      if (result.stream) {
        const response = finish(result.status, '', extra, result.omitHeaders);
        // A stream's length is unknown unless the route says it (a body of known bytes).
        const length = result.headers?.['Content-Length'];
        if (length === undefined) delete response.headers['Content-Length'];
        else response.headers['Content-Length'] = length;
        response.stream = result.stream;
        return response;
      }
      return finish(result.status, result.body ?? (result.json === undefined ? '' : JSON.stringify(result.json)), extra, result.omitHeaders);
    } catch (error) {
      // As the API always answered: no body, and nothing that calls it JSON.
      if (error instanceof AccessDenied) return finish(401, '', { 'Content-Type': 'text/html', 'X-message': 'Access denied' });
      if (error instanceof AlbumkitError) return fail(error.status, error.code, error.message);
      if (isUnavailable(error)) {
        const unavailable = new ServiceUnavailable();
        if (!deps.health) deps.logger.warn({ err: error, requestId }, 'dependency unavailable');
        else if (!deps.health.isDown('redis')) {
          // Logged once per outage, naming the setting; the next success reports it back.
          deps.health.reportDown('database', error, DATABASE_HINT);
          databaseReported = true;
        }
        return fail(503, unavailable.code, unavailable.message, { 'Retry-After': '5' });
      }
      deps.logger.error({ err: error, requestId, method: request.method, path: request.path }, 'unexpected error');
      return fail(500, 'internal_error', 'Internal error');
    }
  };
  const handle = handlerOf(apiRouter, config.basePath);
  const publicHandle = Object.assign(handlerOf(publicRouter, ''), {
    routes: publicRoutes,
    openApi: publicOpenApi,
    patterns: publicRoutes.map((route) => ({ method: route.method, path: route.path })),
    matches(method: string, path: string): boolean {
      const q = path.indexOf('?');
      const match = publicRouter.match(method.toUpperCase() === 'HEAD' ? 'GET' : method.toUpperCase(), q >= 0 ? path.slice(0, q) : path);
      return match !== undefined && match !== 'methodMismatch';
    },
  });
  return Object.assign(handle, { routes, openApi, public: publicHandle });
}
