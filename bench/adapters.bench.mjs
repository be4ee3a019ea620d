#!/usr/bin/env node
/**
 * Adapter benchmark: for each framework, requests/second of
 *   - plain:    a plain route of the framework serving the same JSON (framework serialization),
 *   - albumkit: albumkit's `GET /api/v1/images/:id` through the adapter,
 *   - direct:   the core handler called from a plain route (no adapter), to isolate the adapter.
 * Servers run in a child process; autocannon in this one (10 connections, 1 s warm-up, then
 * rounds of the three routes back to back; medians of rounds, ratios within a round), plus the
 * server process's CPU time per request. albumkit runs on a temporary PostgreSQL database
 * (BENCH_DB=pglite: PGlite in memory).
 *
 *   (cd packages/core && npx tsup) && (cd packages/http-adapter && npx tsup)
 *   node bench/adapters.bench.mjs [--duration 8] [--warmup 1] [--connections 10] [--rounds 4] [--only koa,fastify]
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
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      return process.send({ cpu: user + system });
    }
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
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '8' }, warmup: { type: 'string', default: '1' }, connections: { type: 'string', default: '10' }, rounds: { type: 'string', default: '4' }, only: { type: 'string' } } });
  const duration = Number(values.duration);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  const roundCount = Number(values.rounds);
  const { default: autocannon } = await import('autocannon');

  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
  });
  const headers = { authorization: `Token token="${info.token}"` };
  const paths = { plain: `/plain/images/${info.imageId}`, albumkit: `/api/v1/images/${info.imageId}`, direct: `/direct/images/${info.imageId}` };
  const run = (url, seconds) => autocannon({ url, connections, duration: seconds, headers });

  /** CPU time the server process has used, in µs (immune to time the machine's other tenants take). */
  const serverCpu = () =>
    new Promise((resolve) => {
      const onMessage = (message) => {
        if (message?.cpu === undefined) return;
        child.off('message', onMessage);
        resolve(message.cpu);
      };
      child.on('message', onMessage);
      child.send('cpu');
    });
  const measure = async (framework, variant, seconds) => {
    const cpuBefore = await serverCpu();
    const result = await run(`http://127.0.0.1:${info.ports[framework]}${paths[variant]}`, seconds);
    const cpu = (await serverCpu()) - cpuBefore;
    return {
      rps: result.requests.total / result.duration,
      cpuPerRequest: cpu / Math.max(1, result.requests.total),
      latency: result.latency.p99,
      bad: result.non2xx + result.errors + result.timeouts,
    };
  };
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };

  const rows = [];
  for (const framework of values.only ? values.only.split(',') : FRAMEWORKS) {
    for (const variant of VARIANTS) await run(`http://127.0.0.1:${info.ports[framework]}${paths[variant]}`, warmup);
    // Rounds of the three variants back to back, starting with a different one each round, so
    // that drift (GC, neighbours on the machine) hits them alike; each figure is a median of rounds
    // and each ratio is taken within a round.
    const rounds = [];
    for (let r = 0; r < roundCount; r++) {
      const round = {};
      for (let i = 0; i < VARIANTS.length; i++) {
        const variant = VARIANTS[(r + i) % VARIANTS.length];
        round[variant] = await measure(framework, variant, duration / roundCount);
      }
      rounds.push(round);
    }
    const pick = (variant, key) => median(rounds.map((round) => round[variant][key]));
    const row = {
      framework,
      plain: pick('plain', 'rps'),
      albumkit: pick('albumkit', 'rps'),
      direct: pick('direct', 'rps'),
      cost: median(rounds.map((round) => (round.plain.rps - round.albumkit.rps) / round.plain.rps)),
      adapterCost: median(rounds.map((round) => (round.direct.rps - round.albumkit.rps) / round.direct.rps)),
      cpuPlain: pick('plain', 'cpuPerRequest'),
      cpuAlbumkit: pick('albumkit', 'cpuPerRequest'),
      p99: Math.max(...rounds.map((round) => round.albumkit.latency)),
      bad: rounds.reduce((n, round) => n + VARIANTS.reduce((m, variant) => m + round[variant].bad, 0), 0),
    };
    process.stderr.write(
      `${framework.padEnd(8)} plain ${row.plain.toFixed(0).padStart(6)} req/s  albumkit ${row.albumkit.toFixed(0).padStart(6)}  direct ${row.direct.toFixed(0).padStart(6)}  cost ${(row.cost * 100).toFixed(1)}%  cpu µs/req ${row.cpuPlain.toFixed(1)} vs ${row.cpuAlbumkit.toFixed(1)}\n`,
    );
    rows.push(row);
  }
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));

  const pct = (share) => `${(share * 100).toFixed(1)}%`;
  const met = rows.every((r) => r.cost <= 0.15);
  const cpu = /model name\s*:\s*(.+)/.exec(safeRead('/proc/cpuinfo'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const lines = [
    '## HTTP adapters: albumkit beside a plain route',
    '',
    `- date: ${new Date().toISOString()}`,
    `- machine: ${os.availableParallelism?.() ?? os.cpus().length} CPUs (nproc), ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    `- node ${process.version}, ${os.type()} ${os.release()}`,
    `- database: ${info.db}`,
    `- load: autocannon, ${connections} connections, ${warmup} s warm-up per route, then ${roundCount} rounds of ${(duration / roundCount).toFixed(2)} s per route (the three routes back to back, a different one first each round); medians of rounds; load generator on the same machine (servers in a child process)`,
    `- request: \`GET /images/:id\` with a user token; response ${info.bytes} bytes of JSON`,
    '',
    '| framework | plain route req/s | albumkit req/s | albumkit vs plain (cost) | core from plain route req/s | adapter cost vs direct | server CPU µs/request, plain | server CPU µs/request, albumkit | albumkit p99 ms | non-2xx/errors |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) =>
      `| ${r.framework} | ${r.plain.toFixed(0)} | ${r.albumkit.toFixed(0)} | ${pct(r.cost)} | ${r.direct.toFixed(0)} | ${pct(r.adapterCost)} | ${r.cpuPlain.toFixed(1)} | ${r.cpuAlbumkit.toFixed(1)} | ${r.p99} | ${r.bad} |`,
    ),
    '',
    '"cost" = share of throughput lost, (plain − albumkit) / plain, taken within each round (median of rounds).',
    `Target: at most 15% for every framework — ${met ? 'met' : 'missed'} (${rows.map((r) => `${r.framework} ${pct(r.cost)}`).join(', ')}).`,
    '"adapter cost vs direct" isolates the adapter: (direct − albumkit) / direct, where "direct" calls the core handler from a plain route of the same framework.',
    'The plain route serializes the JSON on each request with the framework\'s own defaults (one or two headers); albumkit answers with the seeds\' 19 headers and a renewed X-token.',
    '"server CPU µs/request" is the server process\'s CPU time divided by the requests it answered: it does not count the load generator, nor time taken by other tenants of the machine.',
    'Servers and the load generator share the same CPUs: expect run-to-run variation of 10-30% in a single short run on a small machine; the medians of rounds are steadier.',
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
