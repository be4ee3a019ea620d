import type { CoreHandler, PublicHandler, RequestObservation } from '@albumkit/core';
import type { CorsOptions } from './cors.js';

/** Where adapter-level failures go (pino, console, or anything with `error`). */
export interface AdapterLogger {
  error(object: unknown, message?: string): void;
  warn?(object: unknown, message?: string): void;
}

export interface AdapterOptions {
  /** Largest request body read, in bytes (default: albumkit's `limits.bodyBytes`, 1 MB). */
  bodyLimit?: number;
  /** Cross-origin access for browser clients; absent: no CORS headers at all. */
  cors?: CorsOptions;
  /** Logs the adapter's own unexpected errors (default: `console`). */
  logger?: AdapterLogger;
  /**
   * Serve albumkit's public routes instead of the API: the links it hands out that live at the
   * host's root (`/images/:id/thumbnails/…`, `/images/:id?token=`, `/image_external_urls/:id`,
   * the zip of a download, the placeholder image). Mount this at the root, beside the API's
   * mount: requests that are not public routes go on to the host (`next()`) untouched.
   */
  publicRoutes?: boolean;
}

/** Where answered requests are reported (an albumkit instance's `telemetry`), for the metrics. */
export interface RequestTelemetry {
  request(observation: RequestObservation): void;
}

/** An albumkit instance (anything with `handle`) or the bare core handler. */
export type AlbumkitSource =
  | CoreHandler
  | { handle: CoreHandler & { public?: PublicHandler }; config?: { basePath?: string; limits?: { bodyBytes?: number } }; telemetry?: RequestTelemetry };

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

const consoleLogger: AdapterLogger = {
  error: (object, message) => console.error(`[albumkit] ${message ?? 'error'}`, object),
  warn: (object, message) => console.warn(`[albumkit] ${message ?? 'warning'}`, object),
};

export interface Settings {
  handler: CoreHandler;
  bodyLimit: number;
  cors: CorsOptions | undefined;
  logger: AdapterLogger;
  /** albumkit's own mount prefix (`config.basePath`), when the source is an albumkit instance. */
  basePath: string | undefined;
  /** Where each answered request is reported (the instance's telemetry), if anywhere. */
  telemetry: RequestTelemetry | undefined;
  /** With `publicRoutes`: whether a request is a public route (the others go on to the host). */
  matches: ((method: string, path: string) => boolean) | undefined;
  /** With `publicRoutes`: the public routes' patterns (Fastify registers them one by one). */
  patterns: readonly { method: string; path: string }[] | undefined;
}

export function resolveSettings(source: AlbumkitSource, options: AdapterOptions = {}): Settings {
  if (options.publicRoutes) return publicSettings(source, options);
  const handler = typeof source === 'function' ? source : source?.handle;
  if (typeof handler !== 'function') throw new TypeError('albumkit adapter: expected an albumkit instance or its `handle` function');
  const config = typeof source === 'function' ? undefined : source.config;
  const bodyLimit = options.bodyLimit ?? config?.limits?.bodyBytes ?? DEFAULT_BODY_LIMIT;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 0) throw new TypeError('albumkit adapter: bodyLimit must be a non-negative integer');
  // Bind when given an albumkit object so `this` never matters.
  const bound: CoreHandler = typeof source === 'function' ? source : (request) => handler.call(source, request);
  const telemetry = typeof source === 'function' ? undefined : source.telemetry;
  return { handler: bound, bodyLimit, cors: options.cors, logger: options.logger ?? consoleLogger, basePath: config?.basePath, telemetry, matches: undefined, patterns: undefined };
}

/** The settings of an adapter serving the public routes (`publicRoutes: true`): the instance's `handle.public`. */
function publicSettings(source: AlbumkitSource, options: AdapterOptions): Settings {
  const handle = typeof source === 'function' ? (source as { public?: PublicHandler }).public : source?.handle?.public;
  if (typeof handle !== 'function') throw new TypeError('albumkit adapter: publicRoutes needs an albumkit instance (or its `handle`), whose `handle.public` serves them');
  const config = typeof source === 'function' ? undefined : source.config;
  const bodyLimit = options.bodyLimit ?? config?.limits?.bodyBytes ?? DEFAULT_BODY_LIMIT;
  const telemetry = typeof source === 'function' ? undefined : source.telemetry;
  return {
    handler: (request) => handle(request),
    bodyLimit,
    cors: options.cors,
    logger: options.logger ?? consoleLogger,
    basePath: '',
    telemetry,
    matches: (method, path) => handle.matches(method, path),
    patterns: handle.patterns,
  };
}

/** Normalizes a mount prefix: `''` or `/a/b` (leading slash, no trailing slash). */
export function normalizePrefix(prefix: string | undefined): string {
  if (!prefix || prefix === '/') return '';
  const withSlash = prefix.startsWith('/') ? prefix : `/${prefix}`;
  return withSlash.replace(/\/+$/, '');
}

/**
 * The request target relative to `prefix` (`/api/v1/albums?x=1` → `/albums?x=1`), or undefined
 * when the target is outside the prefix.
 */
export function stripPrefix(url: string, prefix: string): string | undefined {
  if (!prefix) return url || '/';
  if (!url.startsWith(prefix)) return undefined;
  const rest = url.slice(prefix.length);
  if (rest === '') return '/';
  if (rest[0] === '/') return rest;
  if (rest[0] === '?') return `/${rest}`;
  return undefined;
}
