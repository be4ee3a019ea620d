import { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { AdapterHttpError, errorResponse, payloadTooLarge } from './shared/errors.js';
import { addCorsHeaders } from './shared/cors.js';
import { type AdapterOptions, type AlbumkitSource, resolveSettings, stripPrefix } from './shared/options.js';
import { createPipeline, type AdapterResponse } from './shared/pipeline.js';
import { createOps, OPS_PATHS, type OpsOptions, type OpsSource } from './shared/ops.js';

export type { AdapterOptions, AdapterLogger, AlbumkitSource } from './shared/options.js';
export type { CorsOptions } from './shared/cors.js';
export { OPS_PATHS, type OpsOptions, type OpsSource } from './shared/ops.js';
export type { MetricsOptions } from './shared/metrics.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Fastify's body errors, answered like albumkit's own (others go to the host's error handler). */
const BODY_ERRORS: Record<string, { status: number; code: string; close: boolean }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', close: true },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', close: true },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', close: false },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'unsupported_media_type', close: false },
};

function send(reply: FastifyReply, response: AdapterResponse): FastifyReply {
  if (response.close) reply.header('Connection', 'close');
  return reply.code(response.status).headers(response.headers).send(response.stream ? Readable.from(response.stream, { objectMode: false }) : response.body);
}

/**
 * albumkit as a Fastify plugin: `app.register(albumkitFastify(albumkit), { prefix: '/api/v1' })`;
 * its public routes: `app.register(albumkitFastify(albumkit, { publicRoutes: true }))`.
 * The plugin's encapsulated scope replaces the content-type parsers with one that keeps the raw
 * bytes (with `bodyLimit`), so the host's JSON parser never touches albumkit's requests.
 */
export function albumkitFastify(source: AlbumkitSource, options: AdapterOptions = {}): FastifyPluginAsync {
  const settings = resolveSettings(source, options);
  const run = createPipeline(settings);

  return async function albumkitPlugin(instance: FastifyInstance): Promise<void> {
    const prefix = instance.prefix;
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: settings.bodyLimit }, (_request, body, done) => done(null, body));

    instance.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const known = error.code ? BODY_ERRORS[error.code] : undefined;
      // Not ours (a host hook, a bug elsewhere): the parent error handler decides.
      if (!known) throw error;
      if (request.raw.destroyed) return;
      // Same message as the other adapters' 413.
      const message = known.status === 413 ? payloadTooLarge(settings.bodyLimit).message : error.message;
      const response: AdapterResponse = {
        ...errorResponse(known.status, known.code, message, request.headers, performance.now()),
        close: known.close,
      };
      if (settings.cors) addCorsHeaders(settings.cors, request.headers, response.headers);
      return send(reply, response);
    });

    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      const path = stripPrefix(request.url, prefix) ?? request.url;
      const body = request.body;
      const response = await run({
        method: request.method,
        path,
        headers: request.headers,
        body: () => {
          if (body === undefined || body === null) return undefined;
          if (body instanceof Uint8Array || typeof body === 'string') return body;
          throw new AdapterHttpError(500, 'internal_error', 'unexpected parsed body in the albumkit scope');
        },
      });
      if (!response) {
        // Client gone: nothing to send (Fastify must not try either).
        reply.hijack();
        if (!reply.raw.destroyed) reply.raw.destroy();
        return reply;
      }
      return send(reply, response);
    };

    if (settings.patterns) {
      // The public routes (`publicRoutes: true`), registered at the host's root one by one: the host keeps every other path.
      for (const pattern of settings.patterns) instance.route({ method: pattern.method === 'GET' ? ['GET', 'HEAD'] : [pattern.method], url: pattern.path, exposeHeadRoute: false, handler });
      return;
    }
    instance.route({ method: METHODS, url: '/', handler });
    instance.route({ method: METHODS, url: '/*', handler });
  };
}

/**
 * The operations routes as a Fastify plugin, outside the API prefix: `app.register(albumkitOpsFastify(albumkit))`
 * serves `GET /healthz`, `/readyz` and `/metrics` (HEAD too), under the prefix it is registered with.
 */
export function albumkitOpsFastify(albumkit: OpsSource, options: OpsOptions = {}): FastifyPluginAsync {
  const ops = createOps(albumkit, options);
  return async function albumkitOpsPlugin(instance: FastifyInstance): Promise<void> {
    const paths = options.metrics === false ? [OPS_PATHS.live, OPS_PATHS.ready] : Object.values(OPS_PATHS);
    for (const path of paths) {
      instance.get(path, async (request, reply) => send(reply, await ops(request.method, path)!));
    }
  };
}
