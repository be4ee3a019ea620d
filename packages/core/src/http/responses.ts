/** Headers every albumkit response carries, as the API has always sent them. */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-cache, no-store',
  Pragma: 'no-cache',
  Expires: 'Fri, 01 Jan 1990 00:00:00 GMT',
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'X-XSS-Protection': '1; mode=block',
  'X-Download-Options': 'noopen',
  'X-Permitted-Cross-Domain-Policies': 'none',
  'Referrer-Policy': 'origin-when-cross-origin, strict-origin-when-cross-origin',
  Vary: 'Accept-Encoding',
  // Legacy compact privacy policy that existing clients have always received.
  P3P: 'CP="NOI ADM DEV PSAi COM NAV OUR OTRo STP IND DEM"',
});

import type { CoreResponse } from './types.js';

/** A response with every header albumkit sends: the base set, length, request id, server time. */
export function buildResponse(status: number, body: string, requestId: string, startedAt: number, extra: Record<string, string> = {}): CoreResponse {
  if (status === 204) {
    // No content: none of the headers that describe one (as recorded).
    const { 'Content-Type': _type, Vary: _vary, ...base } = BASE_HEADERS;
    return {
      status,
      body: '',
      headers: { ...base, ...extra, 'X-Request-Id': requestId, 'X-Runtime': ((performance.now() - startedAt) / 1000).toFixed(6) },
    };
  }
  return {
    status,
    body,
    headers: {
      ...BASE_HEADERS,
      ...extra,
      'Content-Length': String(Buffer.byteLength(body)),
      'X-Request-Id': requestId,
      'X-Runtime': ((performance.now() - startedAt) / 1000).toFixed(6),
    },
  };
}

/** The JSON error every layer answers with: `{error, message}` (and the request id of a 5xx). */
export function errorResponse(status: number, code: string, message: string, requestId: string, startedAt: number, extra: Record<string, string> = {}): CoreResponse {
  const body = JSON.stringify({ error: code, message, ...(status >= 500 ? { request_id: requestId } : {}) });
  return buildResponse(status, body, requestId, startedAt, extra);
}

const REQUEST_ID = /^[\w.\-:]{1,200}$/;

/**
 * Fresh request ids, shaped like the UUIDs the API has always sent: a random prefix per process
 * and a counter. A request id must be unique, not unguessable, and this costs a fraction of a
 * random UUID per request.
 */
let idPrefix = crypto.randomUUID().slice(0, 24);
let idCounter = 0;
function newRequestId(): string {
  if (++idCounter >= 0x1000000000000) {
    idPrefix = crypto.randomUUID().slice(0, 24);
    idCounter = 1;
  }
  return idPrefix + idCounter.toString(16).padStart(12, '0');
}

/** The caller's `X-Request-Id` when it is sane, else a fresh one. */
export function requestIdFrom(given: string | undefined): string {
  return given && REQUEST_ID.test(given) ? given : newRequestId();
}

/**
 * Errors meaning a dependency is down (connection refused, server restarting): the client should
 * retry. Also an error caused by one (the job port's "Redis unreachable", whose cause is the socket's error).
 */
export function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN)$/.test(code) || /^(08|57P)/.test(code))) {
    return true;
  }
  const message = (error as { message?: unknown }).message;
  if (typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Stream isn't writeable|Connection is closed|Command timed out/i.test(message)) {
    return true;
  }
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && cause !== error && isUnavailable(cause);
}
