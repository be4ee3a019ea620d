// End to end: signed notifications → BullMQ → worker → processed images, on real PostgreSQL and
// Redis, against BullMQ no-op jobs on the same Redis; and bytes fetched to read an original's
// metadata (Range requests to the local Cloudinary-compatible server) against file sizes.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { apiSignature, createAlbumkit, signNotification } from '@albumkit/core';
import { BullMqJobs, DEFAULT_CONCURRENCY, startWorker, extractMetadataFromUrl } from '@albumkit/worker';
import { startLocalCloudinary } from '@albumkit/testing';
import { machineLine, table } from './machine.mjs';
import { createTempDatabase } from './temp-database.mjs';

const N = Number(process.env.BENCH_NOTIFICATIONS ?? 3000);
// The notification queue's concurrency in the worker (default: the worker's own default).
const CONCURRENCY = process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined;
const NOTIFICATION_CONCURRENCY = CONCURRENCY ?? DEFAULT_CONCURRENCY.notification;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `albumkit-bench-${randomBytes(3).toString('hex')}`;


const albumkitOptions = (databaseUrl, cloudinary) => ({
  secret: 'bench-secret-0123456789abcdef',
  databaseUrl,
  cloudinary,
  publicUrl: 'http://127.0.0.1:1/api/v1',
  logger: { error: console.error, warn() {} },
});

// ---------------------------------------------------------------- the worker process
if (process.argv[2] === '--worker') {
  const { databaseUrl, cloudinary, prefix: workerPrefix } = JSON.parse(process.argv[3]);
  const albumkit = await createAlbumkit({ ...albumkitOptions(databaseUrl, cloudinary), migrate: false, jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix: workerPrefix }) });
  // The worker starts on the parent's word, once every notification is accepted: the drain is timed alone.
  let worker;
  let cpuAtStart;
  let rssPeak = 0;
  // memoryUsage.rss() alone: memoryUsage() walks the heap spaces too, which costs the worker.
  const sample = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 20);
  process.send({ ready: true });
  process.on('message', async (message) => {
    if (message === 'start') {
      cpuAtStart = process.cpuUsage();
      worker = startWorker({
        albumkit,
        redisUrl: REDIS_URL,
        prefix: workerPrefix,
        logger: { error: console.error, warn() {} },
        sweepAfterMs: 0,
        ...(CONCURRENCY ? { concurrency: { notification: CONCURRENCY } } : {}),
      });
      return;
    }
    if (message === 'usage') return process.send({ rssPeak: Math.max(rssPeak, process.memoryUsage.rss()), cpu: process.cpuUsage(cpuAtStart) });
    if (message !== 'stop') return;
    clearInterval(sample);
    await worker?.close(10_000);
    await albumkit.close();
    process.exit(0);
  });
  await new Promise(() => {});
}

const tempDatabase = await createTempDatabase();
const cloud = await startLocalCloudinary();
const cloudinaryConfig = { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url };
const albumkit = await createAlbumkit({ ...albumkitOptions(tempDatabase.url, cloudinaryConfig), jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }) });
// The worker in a process of its own, as deployed (`albumkit-worker`): the API process accepts notifications.
const workerProcess = fork(fileURLToPath(import.meta.url), ['--worker', JSON.stringify({ databaseUrl: tempDatabase.url, cloudinary: cloudinaryConfig, prefix })], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  // BENCH_WORKER_PROFILE=<dir>: a CPU profile of the worker process.
  execArgv: process.env.BENCH_WORKER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_PROFILE}`] : [],
});
const fromWorker = (key) =>
  new Promise((resolve) => {
    const on = (message) => {
      if (message?.[key] === undefined) return;
      workerProcess.off('message', on);
      resolve(message);
    };
    workerProcess.on('message', on);
  });
await fromWorker('ready');

const org = await albumkit.setup.createOrganization('bench');
const user = await albumkit.setup.createUser(org.id);
const token = await albumkit.issueToken(user.id, { BENCH: { Access: { image_upload: true } } });
const album = await albumkit.handle({ method: 'GET', path: '/api/v1/albums/BENCH', headers: { authorization: `Bearer ${token}` } });
const notificationUrl = new URL(JSON.parse(album.body).upload_form.params.notification_url);
const exif = { DateTimeOriginal: '2018:07:25 16:34:23', SubSecTimeOriginal: '935', GPSLatitude: "50 deg 17' 58.57\" N", GPSLongitude: "14 deg 49' 13.06\" E" };
const bodies = Array.from({ length: N }, (_, i) => {
  const result = { public_id: `bench-${i}`, version: 1700000000, width: 1012, height: 759, format: 'jpg', bytes: 311406, type: 'authenticated', image_metadata: exif };
  return JSON.stringify({ notification_type: 'upload', ...result, signature: apiSignature({ public_id: result.public_id, version: result.version }, cloud.apiSecret) });
});

// 1. Notifications accepted (token, signature, record, enqueue), the worker not started yet.
const countProcessed = async () =>
  Number((await albumkit.database.db.selectFrom('images').select((eb) => eb.fn.countAll().as('n')).where('processed', '=', true).executeTakeFirstOrThrow()).n);
let acceptMs = 0;
for (let i = 0; i < N; i += 100) {
  const t = performance.now();
  const responses = await Promise.all(
    bodies.slice(i, i + 100).map((body) =>
      albumkit.handle({
        method: 'POST',
        path: notificationUrl.pathname + notificationUrl.search,
        headers: { 'content-type': 'application/json', ...signNotification(body, cloud.apiSecret) },
        rawBody: body,
      }),
    ),
  );
  acceptMs += performance.now() - t;
  if (responses.some((r) => r.status !== 201)) throw new Error('a notification was refused');
}

// 2. The worker drains the N notification jobs into processed images.
const started = performance.now();
workerProcess.send('start');
while ((await countProcessed()) < N) {
  if (performance.now() - started > 300_000) throw new Error('timed out');
  await sleep(10);
}
const drain = (performance.now() - started) / 1000;
const usageWaiting = fromWorker('rssPeak');
workerProcess.send('usage');
const { rssPeak, cpu: workerCpu } = await usageWaiting;
workerProcess.send('stop');
await new Promise((resolve) => workerProcess.once('exit', resolve));

// 3. BullMQ no-op jobs on the same Redis: N jobs enqueued first, then drained by one worker at the same concurrency.
const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const noopQueue = new Queue(`${prefix}-noop`, { connection });
for (let i = 0; i < N; i += 500) {
  await noopQueue.addBulk(Array.from({ length: Math.min(500, N - i) }, (_, k) => ({ name: 'noop', data: { i: i + k }, opts: { removeOnComplete: true } })));
}
let done = 0;
const noopStarted = performance.now();
const noopWorker = new Worker(`${prefix}-noop`, async () => void done++, { connection, concurrency: NOTIFICATION_CONCURRENCY });
while (done < N) await sleep(5);
const noop = (performance.now() - noopStarted) / 1000;
await noopWorker.close();
await noopQueue.obliterate({ force: true });
await noopQueue.close();
connection.disconnect();

// 3. Bytes fetched to read an original's metadata, by Range requests.
const photos = new URL('../test/fixtures/photos/', import.meta.url);
const fetched = [];
for (const file of readdirSync(photos).filter((f) => /\.(jpe?g|heic|png|tiff|avif)$/.test(f))) {
  const params = { timestamp: Math.floor(Date.now() / 1000), type: 'authenticated' };
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...params, signature: apiSignature(params, cloud.apiSecret), api_key: cloud.apiKey })) form.append(k, String(v));
  const bytes = readFileSync(new URL(file, photos));
  form.append('file', new Blob([bytes]), file);
  const result = await (await fetch(`${cloud.url}/v1_1/${cloud.cloudName}/auto/upload`, { method: 'POST', body: form })).json();
  if (!result.public_id) continue; // a file the server refuses
  const url = albumkit.delivery.url({ publicId: result.public_id, version: String(result.version), type: 'authenticated' }, '', result.format);
  const { bytesFetched } = await extractMetadataFromUrl(url, { allowedHosts: [new URL(cloud.url).host] });
  fetched.push([file, bytes.length, bytesFetched]);
}

await albumkit.close();
await cloud.close();
await tempDatabase.drop();
await new Queue(`${prefix}-x`, { connection: new Redis(REDIS_URL) }).close();

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const rate = N / drain;
const noopRate = N / noop;
const report = `## Worker: notifications to processed images

${machineLine()}. ${fmt(N)} signed notifications posted to the API's handler (100 at a time) and
accepted (recorded, enqueued) first; then one worker process (\`startWorker\`, as \`albumkit-worker\`
runs it: notification queue at concurrency ${NOTIFICATION_CONCURRENCY}) turns the ${fmt(N)} jobs into images, timed from its start to the
last image processed; PostgreSQL and Redis on localhost; EXIF from the upload result's
\`image_metadata\` (Cloudinary's path), so one job per image. The no-op: ${fmt(N)} jobs enqueued in
bulk first, then drained by one BullMQ worker at the same concurrency, on the same Redis.

${table(
  ['figure', 'albumkit', 'compared with', 'target'],
  [
    ['notification jobs → processed images / s', fmt(rate), `BullMQ no-op jobs: ${fmt(noopRate)} / s (albumkit = ${((100 * rate) / noopRate).toFixed(0)}%)`, '≥ 1,000 / s, ≥ 40% of no-op'],
    ['notifications accepted / s (API handler: token, signature, record, enqueue)', fmt(N / (acceptMs / 1000)), '', ''],
    ['worker CPU time per image, from its start (user + system)', `${((workerCpu.user + workerCpu.system) / N).toFixed(0)} µs (${(workerCpu.user / N).toFixed(0)} + ${(workerCpu.system / N).toFixed(0)})`, '', ''],
    ['peak RSS of the worker process', `${Math.round(rssPeak / 2 ** 20)} MB`, '', '≤ 200 MB'],
  ],
)}

### Bytes fetched to read an original's metadata (Range requests, 64 KB first chunk)

${table(
  ['file', 'file size', 'bytes fetched', 'share'],
  fetched.map(([f, size, got]) => [f, fmt(size), fmt(got), `${((100 * got) / size).toFixed(1)}%`]),
)}
`;
writeFileSync('bench/results/worker.md', report);
console.log(report);
process.exit(0);
