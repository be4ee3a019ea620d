import { errorResponse as coreErrorResponse, requestIdFrom, type CoreResponse, type HeaderValue } from '@albumkit/core';

/**
 * Responses the adapter makes itself (body too large, client sent garbage, an adapter bug) are
 * built by core's `errorResponse`, so that a client cannot tell which layer answered.
 */

/** An HTTP failure detected by the adapter before the core ran (413, 415, 400). */
export class AdapterHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Close the connection after answering (the rest of the body was not read). */
    readonly closeConnection = false,
  ) {
    super(message);
    this.name = 'AdapterHttpError';
  }
}

/** The client went away (aborted upload, closed socket): nobody to answer. */
export class ClientAbortedError extends Error {
  constructor(cause?: unknown) {
    super('client aborted the request', { cause });
    this.name = 'ClientAbortedError';
  }
}

export function payloadTooLarge(limit: number): AdapterHttpError {
  return new AdapterHttpError(413, 'payload_too_large', `request body larger than ${limit} bytes`, true);
}

function firstHeader(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The caller's `X-Request-Id` when sane (the core's rule), else a fresh one. */
export function requestIdOf(headers: Record<string, HeaderValue>): string {
  return requestIdFrom(firstHeader(headers, 'x-request-id'));
}

/** A JSON error response shaped like the core's (`{error, message}`), headers included. */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  requestHeaders: Record<string, HeaderValue>,
  started: number,
): CoreResponse {
  return coreErrorResponse(status, code, message, requestIdOf(requestHeaders), started);
}
