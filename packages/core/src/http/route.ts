import type { z } from 'zod';
import type { Principal } from '../auth/abilities.js';
import type { Authenticated } from '../auth/tokens.js';
import { BadRequest } from '../errors.js';
import type { CoreRequest } from './types.js';

/**
 * One definition per route: the handler validates requests with its schemas and the OpenAPI
 * document (`openapi.ts`) is generated from the same definitions, so a route cannot be served
 * without being described, nor described differently from how it is validated.
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A zod object schema of named fields (path parameters, query or body). */
export type FieldsSchema = z.ZodObject;

export interface ResponseSpec {
  description: string;
  /** JSON body (`application/json`); absent: no body. */
  schema?: z.ZodType;
  /** Another content type, for bodies that are not JSON (described, not validated). */
  contentType?: string;
  /** Headers the response carries beyond the ones every response has. */
  headers?: Record<string, string>;
}

export interface RouteContext<P extends FieldsSchema, Q extends FieldsSchema, B extends FieldsSchema> {
  request: CoreRequest;
  /** Request headers, lower-case names. */
  headers: Map<string, string>;
  params: z.output<P>;
  query: z.output<Q>;
  body: z.output<B>;
  /** The authenticated caller (routes with `auth: 'token'`). */
  principal: Principal;
  /** The verified token (routes with `auth: 'token'`): for routes that sign on the caller's behalf. */
  auth: Authenticated;
  /** Query and body as parsed, before the schemas' transforms. */
  input: { query: Record<string, unknown>; body: Record<string, unknown> };
}

export interface RouteResult {
  status: number;
  json?: unknown;
  /** JSON text already serialized (a cached image), or a short text body (its `Content-Type` in `headers`). */
  body?: string;
  /**
   * A body too large to hold in memory (a zip of originals), written as it is produced: adapters
   * pipe it with backpressure and stop it (`return()`) when the client goes away. No Content-Length.
   */
  stream?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  /** Headers of its own; a value may be '' (recorded headers such as `X-access-fullscreen` are). */
  headers?: Record<string, string>;
  /** Headers of the base set this answer goes without (a link meant to be embedded has no `X-Frame-Options`). */
  omitHeaders?: readonly string[];
}

export interface RouteDefinition<
  P extends FieldsSchema = FieldsSchema,
  Q extends FieldsSchema = FieldsSchema,
  B extends FieldsSchema = FieldsSchema,
> {
  method: Method;
  /**
   * `api` (default): under the API's mount point (`basePath`), relative to it. `public`: a route
   * of the host's root, outside the API (`/images/:id/thumbnails/:file`, links put in `<img>`
   * tags and shared): served by `handle.public`, which adapters mount with `publicRoutes: true`.
   */
  surface?: 'api' | 'public';
  /** Relative to the API's mount point (or to the host's root for a public route), with `:name` parameters: `/albums/:id/images`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  /** Group in the reference page. */
  tag: string;
  /** `token`: an API token is required (401 without); `none`: the route checks its own credentials. */
  auth: 'token' | 'none';
  params?: P;
  query?: Q;
  body?: B;
  /**
   * `describe`: the body is described but checked by the route itself (a Cloudinary
   * notification, whose signature must be checked on the raw bytes before anything is read).
   */
  bodyValidation?: 'validate' | 'describe';
  /** Media types the body may come in; default form-encoded and JSON. */
  bodyTypes?: string[];
  responses: Record<number, ResponseSpec>;
  run(ctx: RouteContext<P, Q, B>): Promise<RouteResult>;
}

export type AnyRoute = RouteDefinition<FieldsSchema, FieldsSchema, FieldsSchema>;

/** Keeps the schema types of one route together (and checks `run` against them). */
export function defineRoute<P extends FieldsSchema, Q extends FieldsSchema, B extends FieldsSchema>(route: RouteDefinition<P, Q, B>): AnyRoute {
  return route as unknown as AnyRoute;
}

/** `field.sub: message` for the first issue: a 400 that names the field. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where: 'path' | 'query' | 'body'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ field: issue.path.map(String).join('.') || where, message: issue.message }));
  const first = issues[0]!;
  throw new BadRequest(`${first.field}: ${first.message}`, { in: where, issues });
}
