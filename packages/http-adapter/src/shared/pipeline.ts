import type { CoreResponse, HeaderValue } from '@albumkit/core';
import { addCorsHeaders, isPreflight, preflightHeaders } from './cors.js';
import { AdapterHttpError, ClientAbortedError, errorResponse } from './errors.js';
import { byteLength } from './body.js';
import type { Settings } from './options.js';

/** One request as every adapter describes it to the shared pipeline. */
export interface AdapterRequest {
  method: string;
  /** Request target relative to the mount point, query included (`/albums/1?x=y`). */
  path: string;
  headers: Record<string, HeaderValue>;
  /** Produces the raw body (reading the stream, or taking what the host kept). */
  body: () => Promise<Uint8Array | string | undefined> | Uint8Array | string | undefined;
}

export interface AdapterResponse extends CoreResponse {
  /** Close the connection after this response (part of the body was left unread). */
  close?: boolean;
}

/**
 * What every adapter does, framework-free: answer CORS preflights, get the raw body (with the
 * limit), call the core handler, add CORS headers. Returns undefined when the client is gone.
 * Never throws: adapter failures become a logged 500 with a request id.
 */
export function createPipeline(settings: Settings): (request: AdapterRequest) => Promise<AdapterResponse | undefined> {
  const { telemetry } = settings;
  const answer = answerWith(settings);
  if (!telemetry) return answer;
  // Every answer is counted by route pattern (`unmatched` when no route answered: 404s, preflights, adapter errors).
  return async function measured(request) {
    const started = performance.now();
    const response = await answer(request);
    if (response) {
      telemetry.request({
        method: request.method.toUpperCase(),
        route: response.route ?? 'unmatched',
        status: response.status,
        seconds: (performance.now() - started) / 1000,
      });
    }
    return response;
  };
}

function answerWith(settings: Settings): (request: AdapterRequest) => Promise<AdapterResponse | undefined> {
  const { handler, cors, logger, bodyLimit } = settings;

  return async function run(request) {
    const started = performance.now();
    const method = request.method.toUpperCase();
    try {
      if (cors && isPreflight(method, request.headers)) {
        return { status: 204, headers: preflightHeaders(cors, request.headers), body: '' };
      }
      const pending = request.body();
      // Most requests (GETs) have no body: no extra turn of the event loop for them.
      const rawBody = pending instanceof Promise ? await pending : pending;
      if (rawBody !== undefined && byteLength(rawBody) > bodyLimit) {
        throw new AdapterHttpError(413, 'payload_too_large', `request body larger than ${bodyLimit} bytes`);
      }
      const response = await handler({
        method,
        path: request.path,
        headers: request.headers,
        ...(rawBody === undefined ? {} : { rawBody }),
      });
      if (cors) addCorsHeaders(cors, request.headers, response.headers);
      return response;
    } catch (error) {
      if (error instanceof ClientAbortedError) return undefined;
      let response: AdapterResponse;
      if (error instanceof AdapterHttpError) {
        response = { ...errorResponse(error.status, error.code, error.message, request.headers, started), close: error.closeConnection };
      } else {
        response = errorResponse(500, 'internal_error', 'Internal error', request.headers, started);
        logger.error({ err: error, requestId: response.headers['X-Request-Id'], method, path: request.path }, 'albumkit adapter: unexpected error');
      }
      if (response.close) response.headers.Connection = 'close';
      if (cors) addCorsHeaders(cors, request.headers, response.headers);
      return response;
    }
  };
}
