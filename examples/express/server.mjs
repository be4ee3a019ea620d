// The smallest embedding: an Express app with albumkit mounted at /api/v1 next to its own routes,
// its jobs included (notifications, EXIF/GPS extraction, webhooks): in this process by default,
// on BullMQ with REDIS_URL.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL (all configured by you),
// REDIS_URL (optional; or REDIS_SENTINELS, see README), ALBUMKIT_QUEUE_PREFIX (with REDIS_URL), and HOST (default 127.0.0.1, this
// machine only; HOST=0.0.0.0 listens on every interface).
// The full demo with embedded defaults and the demo page is start.mjs (`npm start` at the root).
import { createServer } from 'node:http';
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitExpress, rawBodySaver } from '@albumkit/http-adapter/express';
import { BullMqJobs, inProcessJobs, startWorker } from '@albumkit/worker';
import express from 'express';
import { mountOperations } from './operations.mjs';

const { config, port, redisUrl, redis } = configFromEnv();
const host = process.env.HOST || '127.0.0.1';
const prefix = process.env.ALBUMKIT_QUEUE_PREFIX || undefined;
const albumkit = await createAlbumkit({
  ...config,
  jobs: redisUrl || redis ? () => new BullMqJobs({ redisUrl, redis, prefix }) : (ak) => inProcessJobs(ak),
});
// With Redis, a worker runs here too; more can run elsewhere (`npx albumkit-worker`, same settings).
const worker = redisUrl || redis ? startWorker({ albumkit, redisUrl, redis, prefix }) : undefined;

const app = express();
// The host's own parsers may come first: `rawBodySaver` keeps the exact bytes for albumkit.
app.use(express.json({ verify: rawBodySaver }));
app.get('/', (_req, res) => res.json({ hello: 'host app' }));
app.use('/api/v1', albumkitExpress(albumkit, { cors: { origins: ['http://localhost:5173'] } }));
// The links albumkit hands out (thumbnails through its proxy, image links, the placeholder), at the root.
app.use(albumkitExpress(albumkit, { publicRoutes: true }));
// Operations, outside /api/v1: /healthz, /readyz; /metrics and /admin/queues (bull-board) behind ALBUMKIT_OPS_TOKEN.
mountOperations(app, albumkit);

// Time limits, so that a client sending its request byte by byte (slowloris) cannot hold a
// connection: 10 s for the headers, 30 s for the whole request, 5 s idle between keep-alive
// requests; Node checks them every second (its default, 30 s, lets a stalled client stay longer).
const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 }, app);
server.keepAliveTimeout = 5_000;
server.listen(port, host, () => {
  const { address, family, port: bound } = server.address();
  const shown = family === 'IPv6' ? `[${address}]` : address;
  const wildcard = address === '0.0.0.0' || address === '::';
  const jobs = redisUrl || redis ? `BullMQ on ${redis ? 'REDIS_SENTINELS' : 'REDIS_URL'} (queues ${prefix ?? 'albumkit'}-*), worker in this process` : 'in this process';
  console.log(`listening on http://${shown}:${bound}${wildcard ? ' (all interfaces)' : ''}\njobs: ${jobs}`);
});
// Stop taking requests, let running jobs finish (5 s at most), then close the database.
process.on('SIGTERM', () => server.close(async () => {
  await worker?.close(5_000);
  await albumkit.close();
}));
