// Request latency of the seed endpoints: server time from the `X-Runtime` header the core sets,
// through the Express adapter (mounted at /api/v1) on real PostgreSQL, over HTTP with keep-alive,
// one request at a time; beside the X-Runtime recorded in each seed page
// (packages/core/test/seeds). Client round trip shown too.
//
//   (cd packages/core && npx tsup) && node bench/latency.bench.mjs
//
// Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL to change it): creates a temporary database and
// drops it at the end. Writes bench/results/latency.md.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import express from 'express';
import { apiSignature, createAlbumkit } from '@albumkit/core';
import { albumkitExpress } from '@albumkit/http-adapter/express';
import { machineLine, table } from './machine.mjs';
import { createTempDatabase } from './temp-database.mjs';

const N = Number(process.env.BENCH_REQUESTS ?? 500);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 50);
const apiSecret = 'bench-cloudinary-api-secret';

// ---------------------------------------------------------------- the seeds: request body and X-Runtime
const seedDir = new URL('../packages/core/test/seeds/', import.meta.url);
const unescape = (s) => s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
const seeds = readdirSync(seedDir)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => {
    const text = readFileSync(new URL(f, seedDir), 'utf8');
    return {
      route: unescape(/#### Route\s*<pre>([^<]+)<\/pre>/.exec(text)[1]),
      body: /#### Body\s*<pre>([^<]*)<\/pre>/.exec(text.split('### Response')[0])?.[1],
      runtimeMs: Number(/X-Runtime: ([\d.]+)/.exec(text)[1]) * 1000,
    };
  });
const seedRuntime = (prefix) => seeds.find((s) => s.route.startsWith(prefix))?.runtimeMs;
const uploadSeed = seeds.find((s) => /^POST \/api\/v1\/albums\/[^/]+\/images/.test(s.route));
const uploadBody = unescape(uploadSeed.body);

// ---------------------------------------------------------------- database, albumkit, server
const tempDatabase = await createTempDatabase();

const albumkit = await createAlbumkit({
  secret: 'bench-secret-0123456789abcdef',
  databaseUrl: tempDatabase.url,
  cloudinary: { cloudName: 'sadaasdasd', apiKey: '123123123123', apiSecret },
  publicUrl: 'https://localhost:5001/api/v1',
  logger: { error: console.error, warn() {} },
});
const app = express();
app.use('/api/v1', albumkitExpress(albumkit));
const server = http.createServer(app);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, path, token, body) {
  return new Promise((resolve, reject) => {
    const headers = { authorization: `Token token="${token}"`, host: 'example.org' };
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const started = performance.now();
    const req = http.request({ host: '127.0.0.1', port, method, path: `/api/v1${path}`, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          runtimeMs: Number(res.headers['x-runtime']) * 1000,
          rttMs: performance.now() - started,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------- tenant and tokens
const access = (...abilities) => ({ Access: Object.fromEntries(abilities.map((a) => [a, true])) });
const organization = await albumkit.setup.createOrganization('Bench');
const user = await albumkit.setup.createUser(organization.id, { sfid: '005000000000001AAA' });
const ALBUM = '00100000123BB146';
const DONE_ALBUM = '00100000123BB25';
const memberToken = await albumkit.issueToken(user.id, {});
const albumToken = await albumkit.issueToken(user.id, { [ALBUM]: access('image_upload', 'image_duplicate', 'image_list') });
const doneToken = await albumkit.issueToken(user.id, { [DONE_ALBUM]: access('image_upload') });

let uploads = 0;
const uploadForm = () => {
  const publicId = `bench${(uploads++).toString(36).padStart(6, '0')}${randomBytes(4).toString('hex')}`;
  return uploadBody
    .replace(/cloudinary\[public_id\]=[^&]*/, `cloudinary[public_id]=${publicId}`)
    .replace(/cloudinary\[signature\]=[^&]*/, `cloudinary[signature]=${apiSignature({ public_id: publicId, version: '1484586860' }, apiSecret)}`);
};

const imageIds = [];
/** Five images uploaded to the "upload done" album, not timed: each timed upload_done reports them. */
async function fiveUnreported() {
  for (let i = 0; i < 5; i++) {
    const publicId = `done${randomBytes(8).toString('hex')}`;
    await albumkit.images.createFromUpload(
      { organizationId: organization.id, userId: user.id },
      DONE_ALBUM,
      { public_id: publicId, version: 1484586860, width: 295, height: 171, format: 'jpg', bytes: 10668, type: 'authenticated', tags: [DONE_ALBUM] },
      {},
      { verifySignature: false },
    );
  }
}

// ---------------------------------------------------------------- the endpoints
const endpoints = [
  {
    name: 'POST /albums',
    seed: seeds.find((s) => s.route.trim() === 'POST /api/v1/albums')?.runtimeMs,
    run: () => request('POST', '/albums', memberToken),
  },
  {
    name: 'POST /albums/:id/images (seed 000 form body)',
    seed: uploadSeed.runtimeMs,
    single: true,
    run: async () => {
      const r = await request('POST', `/albums/${ALBUM}/images`, albumToken, uploadForm());
      if (r.status === 200) imageIds.push(JSON.parse(r.body).id);
      return r;
    },
  },
  {
    name: 'POST /images/:id/duplicate',
    seed: seedRuntime('POST /api/v1/images/'),
    single: true,
    run: (i) => request('POST', `/images/${imageIds[i % imageIds.length]}/duplicate`, albumToken),
  },
  {
    name: 'POST /albums/:id/upload_done (5 new images each)',
    seed: seedRuntime('POST /api/v1/albums/00100000123BB25/upload_done'),
    before: fiveUnreported,
    run: () => request('POST', `/albums/${DONE_ALBUM}/upload_done`, doneToken),
  },
  {
    name: 'GET /image_syncs, 4 ids',
    seed: seedRuntime('GET /api/v1/image_syncs'),
    run: (i) => request('GET', `/image_syncs?${syncQuery(i, 4)}`, memberToken),
  },
  {
    name: 'GET /image_syncs, 100 ids',
    seed: undefined,
    target: 5,
    run: (i) => request('GET', `/image_syncs?${syncQuery(i, 100)}`, memberToken),
  },
  {
    name: 'GET /images/:id (image cache warm: image_syncs read these images)',
    seed: undefined,
    single: true,
    run: (i) => request('GET', `/images/${imageIds[(i * 7) % imageIds.length]}`, memberToken),
  },
  {
    name: 'GET /images/:id, not cached (cache emptied before each request)',
    seed: undefined,
    single: true,
    run: (i) => {
      albumkit.imageCache.clear();
      return request('GET', `/images/${imageIds[(i * 11) % imageIds.length]}`, memberToken);
    },
  },
];
function syncQuery(i, count) {
  const start = (i * 13) % (imageIds.length - count);
  return imageIds
    .slice(start, start + count)
    .map((id) => `ids[]=${id}`)
    .join('&');
}

const stats = (xs) => {
  const sorted = Float64Array.from(xs).sort();
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: sorted[sorted.length - 1] };
};

const results = [];
for (const endpoint of endpoints) {
  const runtimes = [];
  const rtts = [];
  let bad = 0;
  let badSample;
  for (let i = 0; i < WARMUP + N; i++) {
    if (endpoint.before) await endpoint.before();
    const r = await endpoint.run(i);
    if (r.status !== 200) {
      bad++;
      badSample ??= `${r.status} ${r.body.slice(0, 200)}`;
    }
    if (i >= WARMUP) {
      runtimes.push(r.runtimeMs);
      rtts.push(r.rttMs);
    }
  }
  if (badSample) console.error(`${endpoint.name}: ${bad} non-200, e.g. ${badSample}`);
  if (endpoint.name.startsWith('POST /albums/:id/images')) {
    // Tags on the images that image_syncs will return (the seed's `tag_names`), not timed.
    for (const id of imageIds) await albumkit.repositories.images.addTags(id, ['test_1', 'test_2']);
  }
  results.push({ ...endpoint, runtime: stats(runtimes), rtt: stats(rtts), bad });
  process.stderr.write(`${endpoint.name}: p50 ${stats(runtimes).p50.toFixed(2)} ms\n`);
}

// The database floor on this machine: a round trip, and a one-row insert committed (WAL flush).
const { sql } = await import('kysely');
const { db } = albumkit.database;
await sql`create table bench_commit (x int)`.execute(db);
const floor = {};
for (const [label, fn] of [
  ['select 1 (round trip through the pool)', () => sql`select 1`.execute(db)],
  ['insert one row + commit (transaction)', () => db.transaction().execute((trx) => sql`insert into bench_commit values (1)`.execute(trx))],
]) {
  for (let i = 0; i < 50; i++) await fn();
  const xs = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  floor[label] = stats(xs);
}
const settings = Object.fromEntries(
  (await sql`select name, setting from pg_settings where name in ('synchronous_commit', 'fsync', 'wal_sync_method')`.execute(db)).rows.map((r) => [r.name, r.setting]),
);

// ---------------------------------------------------------------- clean up
await new Promise((resolve) => {
  server.close(resolve);
  server.closeIdleConnections();
  agent.destroy();
});
await albumkit.close();
await tempDatabase.drop();

const ms = (x) => x.toFixed(2);
const verdict = (r) => {
  const target = r.target ?? (r.single ? 1 : undefined);
  if (target === undefined) return '';
  return `p50 ≤ ${target} ms: ${r.runtime.p50 <= target ? 'met' : 'missed'}`;
};
const report = `## Request latency of the seed endpoints (X-Runtime)

${machineLine()}. Express adapter mounted at \`/api/v1\`, PostgreSQL on localhost (temporary database),
HTTP keep-alive, one request at a time from the same process: ${WARMUP} warm-up then ${N} measured requests per
endpoint. "X-Runtime" is the server time the core reports; "round trip" is what the client saw.
Seed = the X-Runtime recorded in the seed page of that endpoint (the original implementation).

${table(
  ['endpoint', 'X-Runtime p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'round trip p50 ms', 'seed X-Runtime ms', 'non-200', 'target'],
  results.map((r) => [
    r.name,
    ms(r.runtime.p50),
    ms(r.runtime.p90),
    ms(r.runtime.p99),
    ms(r.runtime.max),
    ms(r.rtt.p50),
    r.seed === undefined ? '—' : ms(r.seed),
    String(r.bad),
    verdict(r),
  ]),
)}

Targets: p50 ≤ 1 ms for single-image endpoints (upload, duplicate, get); \`image_syncs\` for 100 ids ≤ 5 ms.

The database floor in the same run (PostgreSQL settings: ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(', ')}):

${table(['operation', 'p50 ms', 'p90 ms', 'p99 ms'], Object.entries(floor).map(([label, s]) => [label, ms(s.p50), ms(s.p90), ms(s.p99)]))}
`;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latency.md', import.meta.url), report);
console.log(report);
process.exit(0);
