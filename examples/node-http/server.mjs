// A plain node:http server with albumkit under /api/v1 next to its own routes, no framework, its
// jobs included (notifications, EXIF/GPS extraction, webhooks): in this process by default, on
// BullMQ with REDIS_URL.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL, REDIS_URL (optional; or REDIS_SENTINELS, see README),
// ALBUMKIT_QUEUE_PREFIX (with REDIS_URL), and HOST (default 127.0.0.1, this machine only;
// HOST=0.0.0.0 listens on every interface).
import { createServer } from 'node:http';
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitNode } from '@albumkit/http-adapter/node';
import { BullMqJobs, inProcessJobs, startWorker } from '@albumkit/worker';

const { config, port, redisUrl, redis } = configFromEnv();
const host = process.env.HOST || '127.0.0.1';
const prefix = process.env.ALBUMKIT_QUEUE_PREFIX || undefined;
const albumkit = await createAlbumkit({
  ...config,
  jobs: redisUrl || redis ? () => new BullMqJobs({ redisUrl, redis, prefix }) : (ak) => inProcessJobs(ak),
});
// With Redis, a worker runs here too; more can run elsewhere (`npx albumkit-worker`, same settings).
const worker = redisUrl || redis ? startWorker({ albumkit, redisUrl, redis, prefix }) : undefined;

// Requests under /api/v1 are albumkit's; the others reach `next`, the host's own routes.
const api = albumkitNode(albumkit, { prefix: '/api/v1', cors: { origins: ['http://localhost:5173'] } });
function hostRoutes(req, res) {
  if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ hello: 'host app' }));
  } else {
    res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ error: 'not_found' }));
  }
}

// Time limits, so that a client sending its request byte by byte (slowloris) cannot hold a
// connection: 10 s for the headers, 30 s for the whole request, 5 s idle between keep-alive
// requests; Node checks them every second (its default, 30 s, lets a stalled client stay longer).
const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 }, (req, res) =>
  api(req, res, () => hostRoutes(req, res)),
);
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
