import type { HeaderValue } from '@albumkit/core';

export interface CorsOptions {
  /** Allowed origins (`https://app.example.com`), or `'*'` for any origin. */
  origins: string[] | '*';
  /** Send `Access-Control-Allow-Credentials: true` (the origin is then echoed even with `'*'`). */
  credentials?: boolean;
  /** `Access-Control-Max-Age` of preflight answers, in seconds (default 600). */
  maxAge?: number;
  /** Allowed methods (default `GET, POST, OPTIONS`: all albumkit uses). */
  methods?: string[];
  /** Allowed request headers (default `Authorization, Content-Type, X-Request-Id`). */
  allowHeaders?: string[];
  /** Response headers readable by the browser (default `X-token, X-Request-Id, X-Runtime, X-Next-Cursor, X-message`). */
  exposeHeaders?: string[];
}

export const DEFAULT_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'X-Request-Id'];
export const DEFAULT_EXPOSE_HEADERS = ['X-token', 'X-Request-Id', 'X-Runtime', 'X-Next-Cursor', 'X-message'];
export const DEFAULT_METHODS = ['GET', 'POST', 'OPTIONS'];

function header(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Adds `Origin` to a `Vary` value without duplicating it. */
function varyWithOrigin(vary: string | undefined): string {
  if (!vary) return 'Origin';
  return vary.split(',').some((v) => v.trim().toLowerCase() === 'origin') ? vary : `${vary}, Origin`;
}

function allowedOrigin(cors: CorsOptions, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  if (cors.origins === '*') return cors.credentials ? origin : '*';
  return cors.origins.includes(origin) ? origin : undefined;
}

/** True for a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`). */
export function isPreflight(method: string, headers: Record<string, HeaderValue>): boolean {
  return method === 'OPTIONS' && header(headers, 'origin') !== undefined && header(headers, 'access-control-request-method') !== undefined;
}

/** The answer to a preflight: 204, with CORS headers only when the origin is allowed. */
export function preflightHeaders(cors: CorsOptions, headers: Record<string, HeaderValue>): Record<string, string> {
  // No Content-Length: a 204 must not carry one (RFC 9110 §8.6).
  const out: Record<string, string> = {};
  if (cors.origins !== '*' || cors.credentials) out.Vary = 'Origin';
  const origin = allowedOrigin(cors, header(headers, 'origin'));
  if (origin === undefined) return out;
  out['Access-Control-Allow-Origin'] = origin;
  out['Access-Control-Allow-Methods'] = (cors.methods ?? DEFAULT_METHODS).join(', ');
  out['Access-Control-Allow-Headers'] = (cors.allowHeaders ?? DEFAULT_ALLOW_HEADERS).join(', ');
  out['Access-Control-Max-Age'] = String(cors.maxAge ?? 600);
  if (cors.credentials) out['Access-Control-Allow-Credentials'] = 'true';
  return out;
}

/** Adds the CORS headers of an actual (non-preflight) response, in place. */
export function addCorsHeaders(cors: CorsOptions, requestHeaders: Record<string, HeaderValue>, responseHeaders: Record<string, string>): void {
  if (cors.origins !== '*' || cors.credentials) {
    const key = Object.keys(responseHeaders).find((k) => k.toLowerCase() === 'vary') ?? 'Vary';
    responseHeaders[key] = varyWithOrigin(responseHeaders[key]);
  }
  const origin = allowedOrigin(cors, header(requestHeaders, 'origin'));
  if (origin === undefined) return;
  responseHeaders['Access-Control-Allow-Origin'] = origin;
  responseHeaders['Access-Control-Expose-Headers'] = (cors.exposeHeaders ?? DEFAULT_EXPOSE_HEADERS).join(', ');
  if (cors.credentials) responseHeaders['Access-Control-Allow-Credentials'] = 'true';
}
