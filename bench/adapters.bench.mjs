#!/usr/bin/env node
/**
 * Adapter benchmark: for each framework, requests/second of
 *   - plain:    a plain route of the framework serving the same JSON (framework serialization),
 *   - albumkit: albumkit's `GET /api/v1/images/:id` through the adapter,
 *   - direct:   the core handler called from a plain route (no adapter), to isolate the adapter.
 * Servers run in a child process; autocannon (10 connections, 1 s warm-up, 5 s measured; albumkit
 * and direct in interleaved ABBA halves to cancel drift) in this one. albumkit runs on a temporary PostgreSQL database (BENCH_DB=pglite: PGlite in memory).
 *
 *   (cd packages/core && npx tsup) && (cd packages/http-adapter && npx tsup)
 *   node bench/adapters.bench.mjs [--duration 5] [--warmup 1] [--connections 10]
 *
 * Writes bench/results/adapters.md.
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTempDatabase } from './temp-database.mjs';

const FRAMEWORKS = ['node', 'express', 'koa', 'fastify', 'fetch'];
const VARIANTS = ['plain', 'albumkit', 'direct'];

// ---------------------------------------------------------------- server side (child process)

async function database() {
  if (process.env.BENCH_DB === 'pglite') return { label: 'PGlite (in memory, same process)', options: {}, drop: async () => {} };
  const temp = await createTempDatabase();
  return { label: `PostgreSQL (temporary database on ${temp.host})`, options: { databaseUrl: temp.url }, drop: temp.drop };
}

async function seed(albumkit) {
  const organization = await albumkit.setup.createOrganization('Bench');
  const user = await albumkit.setup.createUser(organization.id);
  const albumId = randomUUID();
  const { image } = await albumkit.images.createFromUpload(
    { organizationId: organization.id, userId: user.id },
    albumId,
    {
      public_id: 'c6y8knpw2ywwwfc6cykj',
      version: 1484586860,
      width: 295,
      height: 171,
      format: 'jpg',
      resource_type: 'image',
      created_at: '2017-01-16T17:14:20Z',
      tags: [albumId],
      bytes: 10668,
      type: 'authenticated',
      etag: 'acf8af3e54c78cbf24a53a93c93bab43',
      original_filename: 'bench',
      image_metadata: { JFIFVersion: '1.01', Colorspace: 'RGB', DateTimeOriginal: '2018:01:01 08:00:00' },
      colors: [['#EBF1F9', 13.2], ['#D9E5F5', 8.8]],
    },
    { source: 'bench' },
    { verifySignature: false },
  );
  const token = await albumkit.issueToken(user.id, { [albumId]: { Access: { image_list: true } } });
  return { imageId: image.id, token };
}

function toFetchListener(handler) {
  return (req, res) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) for (const x of [].concat(v)) headers.append(k, x);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      ...(hasBody ? { body: Readable.toWeb(req), duplex: 'half' } : {}),
    });
    handler(request).then(async (response) => {
      const out = {};
      response.headers.forEach((value, name) => (out[name] = value));
      const body = Buffer.from(await response.arrayBuffer());
      res.writeHead(response.status, out);
      res.end(body);
    }, () => res.destroy());
  };
}

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
/** Stops accepting, drops idle keep-alive sockets, and waits for requests in flight. */
const closer = (server) => () =>
  new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });

async function serve() {
  const { createAlbumkit } = await import('@albumkit/core');
  const db = await database();
  const albumkit = await createAlbumkit({
    secret: 'bench-secret-bench-secret-bench',
    cloudinary: { cloudName: 'demo', apiKey: '123123123123', apiSecret: 'bench-cloudinary-secret' },
    publicUrl: 'http://localhost/api/v1',
    logger: { error: (o, m) => console.error(m, o), warn: () => {} },
    ...db.options,
  });
  const { imageId, token } = await seed(albumkit);
  const check = await albumkit.handle({ method: 'GET', path: `/api/v1/images/${imageId}`, headers: { authorization: `Token token="${token}"` } });
  if (check.status !== 200) throw new Error(`albumkit answered ${check.status} ${check.body}`);
  const json = JSON.parse(check.body);
  /** The core handler called straight from a framework route: no adapter in between. */
  const direct = (url, headers) => albumkit.handle({ method: 'GET', path: url.replace('/direct', ''), headers });

  const { albumkitNode } = await import('@albumkit/http-adapter/node');
  const { albumkitExpress } = await import('@albumkit/http-adapter/express');
  const { albumkitKoa } = await import('@albumkit/http-adapter/koa');
  const { albumkitFastify } = await import('@albumkit/http-adapter/fastify');
  const { albumkitFetch } = await import('@albumkit/http-adapter/fetch');
  const { default: express } = await import('express');
  const { default: Koa } = await import('koa');
  const { default: Fastify } = await import('fastify');

  const servers = [];
  const ports = {};

  {
    const albumkitListener = albumkitNode(albumkit, { prefix: '/api/v1' });
    const server = http.createServer((req, res) => {
      if (req.url.startsWith('/plain/')) {
        const body = JSON.stringify(json);
        res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
        return res.end(body);
      }
      if (req.url.startsWith('/direct/')) {
        return direct(req.url, req.headers).then((r) => {
          res.writeHead(r.status, r.headers);
          res.end(r.body);
        });
      }
      albumkitListener(req, res);
    });
    servers.push(closer(server));
    ports.node = await listen(server);
  }
  {
    const app = express();
    app.disable('etag');
    app.get('/plain/images/:id', (_req, res) => res.json(json));
    app.get('/direct/images/:id', async (req, res) => {
      const r = await direct(req.url, req.headers);
      res.status(r.status).set(r.headers).send(r.body);
    });
    app.use('/api/v1', albumkitExpress(albumkit));
    const server = http.createServer(app);
    servers.push(closer(server));
    ports.express = await listen(server);
  }
  {
    const app = new Koa();
    const mounted = albumkitKoa(albumkit, { prefix: '/api/v1' });
    app.use(async (ctx, next) => {
      if (ctx.path.startsWith('/plain/')) ctx.body = json;
      else if (ctx.path.startsWith('/direct/')) {
        const r = await direct(ctx.url, ctx.headers);
        ctx.status = r.status;
        ctx.set(r.headers);
        ctx.body = r.body;
      } else await mounted(ctx, next);
    });
    const server = http.createServer(app.callback());
    servers.push(closer(server));
    ports.koa = await listen(server);
  }
  {
    const app = Fastify({ logger: false });
    app.get('/plain/images/:id', async () => json);
    app.get('/direct/images/:id', async (request, reply) => {
      const r = await direct(request.url, request.headers);
      return reply.code(r.status).headers(r.headers).send(r.body);
    });
    await app.register(albumkitFastify(albumkit), { prefix: '/api/v1' });
    ports.fastify = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
    servers.push(() => app.close());
  }
  {
    const handler = albumkitFetch(albumkit, { prefix: '/api/v1' });
    const host = async (request) => {
      const { pathname } = new URL(request.url);
      if (pathname.startsWith('/plain/')) return Response.json(json);
      if (pathname.startsWith('/direct/')) {
        const r = await direct(pathname, Object.fromEntries(request.headers));
        return new Response(r.body, { status: r.status, headers: r.headers });
      }
      return handler(request);
    };
    const server = http.createServer(toFetchListener(host));
    servers.push(closer(server));
    ports.fetch = await listen(server);
  }

  // Where the time of one albumkit request goes: each step alone, sequentially.
  const breakdown = await timeSteps(albumkit, imageId, token);

  process.send({ ready: true, ports, imageId, token, db: db.label, bytes: check.body.length, breakdown });
  process.on('message', async (message) => {
    if (message !== 'stop') return;
    for (const close of servers) await close();
    // Handlers may still run for requests whose client already hung up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await albumkit.close();
    await db.drop();
    process.exit(0);
  });
}

async function timeSteps(albumkit, imageId, token) {
  const N = 2000;
  const time = async (fn) => {
    for (let i = 0; i < 200; i++) await fn();
    const t = performance.now();
    for (let i = 0; i < N; i++) await fn();
    return ((performance.now() - t) / N) * 1000;
  };
  const auth = await albumkit.tokens.authenticate(token);
  const image = await albumkit.images.get(auth.principal, imageId);
  return {
    'whole handler (albumkit.handle)': await time(() => albumkit.handle({ method: 'GET', path: `/api/v1/images/${imageId}`, headers: { authorization: `Token token="${token}"` } })),
    'tokens.authenticate (JWT verify + user lookup)': await time(() => albumkit.tokens.authenticate(token)),
    'images.get (image query)': await time(() => albumkit.images.get(auth.principal, imageId)),
    'serialize image (signed URLs)': await time(async () => JSON.stringify(albumkit.serializers.image.serialize(image))),
    'tokens.renew (JWT sign)': await time(() => albumkit.tokens.renew(auth)),
  };
}

// ---------------------------------------------------------------- load side (parent)

async function main() {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, warmup: { type: 'string', default: '1' }, connections: { type: 'string', default: '10' } } });
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  const { default: autocannon } = await import('autocannon');

  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
  const headers = { authorization: `Token token="${info.token}"` };
  const paths = { plain: `/plain/images/${info.imageId}`, albumkit: `/api/v1/images/${info.imageId}`, direct: `/direct/images/${info.imageId}` };
  const run = (url, seconds) => autocannon({ url, connections, duration: seconds, headers });

  const measure = async (framework, variant, seconds) => {
    const result = await run(`http://127.0.0.1:${info.ports[framework]}${paths[variant]}`, seconds);
    return { requests: result.requests.total, seconds: result.duration, latency: result.latency.p99, bad: result.non2xx + result.errors + result.timeouts };
  };
  const merge = (parts) => ({
    rps: parts.reduce((n, p) => n + p.requests, 0) / parts.reduce((n, p) => n + p.seconds, 0),
    p99: Math.max(...parts.map((p) => p.latency)),
    bad: parts.reduce((n, p) => n + p.bad, 0),
  });

  const rows = [];
  for (const framework of FRAMEWORKS) {
    const row = { framework };
    for (const variant of VARIANTS) await run(`http://127.0.0.1:${info.ports[framework]}${paths[variant]}`, warmup);
    row.plain = merge([await measure(framework, 'plain', duration)]);
    // albumkit and direct in ABBA order, two halves each: drift (GC, database, neighbours) hits both alike.
    const parts = { albumkit: [], direct: [] };
    for (const variant of ['albumkit', 'direct', 'direct', 'albumkit']) parts[variant].push(await measure(framework, variant, duration / 2));
    row.albumkit = merge(parts.albumkit);
    row.direct = merge(parts.direct);
    for (const variant of VARIANTS) {
      process.stderr.write(`${framework.padEnd(8)} ${variant.padEnd(9)} ${row[variant].rps.toFixed(0).padStart(7)} req/s  p99 ${row[variant].p99} ms  non-2xx/errors ${row[variant].bad}\n`);
    }
    rows.push(row);
  }
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));

  const pct = (a, b) => `${(((a - b) / a) * 100).toFixed(1)}%`;
  const cpu = /model name\s*:\s*(.+)/.exec(safeRead('/proc/cpuinfo'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const lines = [
    '## HTTP adapters: albumkit beside a plain route',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${os.availableParallelism?.() ?? os.cpus().length} CPUs (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `- node ${process.version}, ${os.type()} ${os.release()}`,
    `- database: ${info.db}`,
    `- load: autocannon, ${connections} connections, ${warmup} s warm-up per route, then ${duration} s per route (albumkit and direct as two interleaved halves, ABBA), load generator on the same machine (servers in a child process)`,
    `- request: \`GET /images/:id\` with a user token; response ${info.bytes} bytes of JSON`,
    '',
    '| framework | plain route req/s | albumkit req/s | albumkit vs plain (cost) | core from plain route req/s | adapter cost vs direct | albumkit p99 ms | non-2xx/errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      `| ${r.framework} | ${r.plain.rps.toFixed(0)} | ${r.albumkit.rps.toFixed(0)} | ${pct(r.plain.rps, r.albumkit.rps)} | ${r.direct.rps.toFixed(0)} | ${pct(r.direct.rps, r.albumkit.rps)} | ${r.albumkit.p99} | ${r.plain.bad + r.albumkit.bad + r.direct.bad} |`,
    ),
    '',
    '"cost" = share of throughput lost: (plain − albumkit) / plain. Target: at most 15%.',
    '"adapter cost vs direct" isolates the adapter: (direct − albumkit) / direct, where "direct" calls the core handler from a plain route of the same framework.',
    'Servers, PostgreSQL and the load generator share the same CPUs: expect run-to-run variation of 10-30% per cell on a small machine; compare columns within one run.',
    '',
    '### Where the time of one albumkit request goes (sequential, µs per call, in the server process)',
    '',
    '| step | µs |',
    '|---|---:|',
    ...Object.entries(info.breakdown).map(([step, us]) => `| ${step} | ${us.toFixed(0)} |`),
    '',
  ];
  const out = lines.join('\n');
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/adapters.md', import.meta.url), out);
  console.log(out);
}

function safeRead(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

if (process.argv.includes('--serve')) {
  serve().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
