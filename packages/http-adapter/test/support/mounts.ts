/**
 * The five adapters, each mounted at `/api/v1` in a real host app next to a route of the host's
 * own (`GET /` → `{hello: 'host app'}`), listening on an ephemeral port. `hostParsers: true`
 * installs the host's usual body parsers in front of the mount.
 *
 * Every host also has a middleware that fails on `X-Host-Fail` and an error handler of its own
 * answering 418 `{host_error}`: albumkit must not swallow the host's errors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import bodyParser from 'body-parser';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import koaBodyParser from 'koa-bodyparser';
import type { CoreHandler } from '../../../core/src/http/types.js';
import { albumkitExpress } from '../../src/express.js';
import { albumkitFastify } from '../../src/fastify.js';
import { albumkitFetch } from '../../src/fetch.js';
import { albumkitKoa } from '../../src/koa.js';
import { albumkitNode } from '../../src/node.js';
import type { AdapterOptions } from '../../src/shared/options.js';

export type Source = CoreHandler | { handle: CoreHandler; config?: { basePath?: string } };

export interface Running {
  url: string;
  /** Errors the host itself saw (its error handler, Koa's `error` event). */
  hostErrors: unknown[];
  close(): Promise<void>;
}

export interface Mount {
  name: 'express' | 'koa' | 'fastify' | 'node' | 'fetch';
  hostParsers: boolean;
  start(source: Source, options: AdapterOptions): Promise<Running>;
}

/** Host parser limits sit above albumkit's so that albumkit's own limit is the one tested. */
const HOST_LIMIT = '10mb';

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function hostJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const expressMount = (hostParsers: boolean): Mount => ({
  name: 'express',
  hostParsers,
  async start(source, options) {
    const hostErrors: unknown[] = [];
    const app = express();
    app.use((req, _res, next) => next(req.headers['x-host-fail'] ? new Error('host middleware failed') : undefined));
    if (hostParsers) {
      app.use(express.json({ limit: HOST_LIMIT }));
      app.use(express.urlencoded({ limit: HOST_LIMIT }));
    }
    app.get('/', (_req, res) => {
      res.json({ hello: 'host app' });
    });
    app.use('/api/v1', albumkitExpress(source, options));
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      hostErrors.push(error);
      if (!res.headersSent) res.status(418).json({ host_error: error.message });
    });
    const server = http.createServer(app);
    return { url: await listen(server), hostErrors, close: () => closeServer(server) };
  },
});

const koaMount = (hostParsers: boolean): Mount => ({
  name: 'koa',
  hostParsers,
  async start(source, options) {
    const hostErrors: unknown[] = [];
    const app = new Koa();
    app.on('error', (error) => hostErrors.push(error));
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        hostErrors.push(error);
        ctx.status = 418;
        ctx.body = { host_error: (error as Error).message };
      }
    });
    app.use(async (ctx, next) => {
      if (ctx.get('x-host-fail')) throw new Error('host middleware failed');
      await next();
    });
    if (hostParsers) app.use(koaBodyParser({ jsonLimit: HOST_LIMIT, formLimit: HOST_LIMIT, textLimit: HOST_LIMIT }));
    app.use(albumkitKoa(source, { ...options, prefix: '/api/v1' }));
    app.use(async (ctx, next) => {
      if (ctx.method === 'GET' && ctx.path === '/') ctx.body = { hello: 'host app' };
      else await next();
    });
    const server = http.createServer(app.callback());
    return { url: await listen(server), hostErrors, close: () => closeServer(server) };
  },
});

const fastifyMount = (hostParsers: boolean): Mount => ({
  name: 'fastify',
  hostParsers,
  async start(source, options) {
    const hostErrors: unknown[] = [];
    const app = Fastify({ logger: false });
    if (hostParsers) {
      // Fastify's default JSON parser stays; a form parser like @fastify/formbody's is added.
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
        done(null, Object.fromEntries(new URLSearchParams(body as string))),
      );
    } else {
      app.removeAllContentTypeParsers();
    }
    app.addHook('onRequest', async (request) => {
      if (request.headers['x-host-fail']) throw new Error('host middleware failed');
    });
    app.setErrorHandler((error, _request, reply) => {
      hostErrors.push(error);
      return reply.code(418).send({ host_error: (error as Error).message });
    });
    app.get('/', async () => ({ hello: 'host app' }));
    await app.register(albumkitFastify(source, options), { prefix: '/api/v1' });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, hostErrors, close: () => app.close() };
  },
});

type Connect = (req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void) => void;

/** A tiny Connect-style chain: middlewares in order, then an error handler of the host's. */
function chain(middlewares: Connect[], onError: (error: unknown, res: http.ServerResponse) => void, last: Connect): http.RequestListener {
  return (req, res) => {
    let i = 0;
    const next = (error?: unknown): void => {
      if (error) return onError(error, res);
      const middleware = middlewares[i++] ?? last;
      try {
        middleware(req, res, next);
      } catch (thrown) {
        onError(thrown, res);
      }
    };
    next();
  };
}

const nodeMount = (hostParsers: boolean): Mount => ({
  name: 'node',
  hostParsers,
  async start(source, options) {
    const hostErrors: unknown[] = [];
    const listener = albumkitNode(source, { ...options, prefix: '/api/v1' });
    const middlewares: Connect[] = [
      (req, _res, next) => next(req.headers['x-host-fail'] ? new Error('host middleware failed') : undefined),
      ...(hostParsers ? [bodyParser.json({ limit: HOST_LIMIT }) as Connect, bodyParser.urlencoded({ limit: HOST_LIMIT }) as Connect] : []),
      (req, res, next) => (req.method === 'GET' && req.url === '/' ? hostJson(res, 200, { hello: 'host app' }) : next()),
      listener,
    ];
    const server = http.createServer(
      chain(
        middlewares,
        (error, res) => {
          hostErrors.push(error);
          if (!res.headersSent) hostJson(res, 418, { host_error: (error as Error).message });
        },
        (_req, res) => hostJson(res, 404, { host: 'not found' }),
      ),
    );
    return { url: await listen(server), hostErrors, close: () => closeServer(server) };
  },
});

/**
 * The fetch adapter behind a minimal node → fetch bridge (what @hono/node-server does). With
 * `hostParsers`, the host reads a clone of the body first, as fetch-style validators do.
 */
const fetchMount = (hostParsers: boolean): Mount => ({
  name: 'fetch',
  hostParsers,
  async start(source, options) {
    const hostErrors: unknown[] = [];
    const handler = albumkitFetch(source, { ...options, prefix: '/api/v1' });
    const host = async (request: Request): Promise<Response> => {
      try {
        if (request.headers.get('x-host-fail')) throw new Error('host middleware failed');
        const { pathname } = new URL(request.url);
        if (request.method === 'GET' && pathname === '/') return Response.json({ hello: 'host app' });
        if (hostParsers && request.body) await request.clone().text();
        return await handler(request);
      } catch (error) {
        hostErrors.push(error);
        return Response.json({ host_error: (error as Error).message }, { status: 418 });
      }
    };
    const server = http.createServer((req, res) => {
      const controller = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url}`, {
        method: req.method,
        headers,
        signal: controller.signal,
        ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
      } as RequestInit);
      host(request)
        .then(async (response) => {
          const body = Buffer.from(await response.arrayBuffer());
          if (res.destroyed) return;
          const out: Record<string, string> = {};
          response.headers.forEach((value, name) => (out[name] = value));
          res.writeHead(response.status, out);
          res.end(body);
          if (response.headers.get('connection') === 'close') req.resume();
        })
        .catch((error) => {
          hostErrors.push(error);
          res.destroy();
        });
    });
    return { url: await listen(server), hostErrors, close: () => closeServer(server) };
  },
});

export const MOUNTS: Mount[] = [false, true].flatMap((hostParsers) => [
  expressMount(hostParsers),
  koaMount(hostParsers),
  fastifyMount(hostParsers),
  nodeMount(hostParsers),
  fetchMount(hostParsers),
]);
