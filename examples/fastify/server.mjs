// A Fastify app with the albumkit plugin registered under /api/v1 next to its own routes, its jobs
// included (notifications, EXIF/GPS extraction, webhooks): in this process by default, on BullMQ
// with REDIS_URL. albumkit logs through Fastify's logger.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL, REDIS_URL (optional; or REDIS_SENTINELS, see README),
// ALBUMKIT_QUEUE_PREFIX (with REDIS_URL), and HOST (default 127.0.0.1, this machine only;
// HOST=0.0.0.0 listens on every interface).
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitFastify } from '@albumkit/http-adapter/fastify';
import { BullMqJobs, inProcessJobs, startWorker } from '@albumkit/worker';
import Fastify from 'fastify';

const { config, port, redisUrl, redis } = configFromEnv();
const host = process.env.HOST || '127.0.0.1';
const prefix = process.env.ALBUMKIT_QUEUE_PREFIX || undefined;

const app = Fastify({
  logger: true,
  // Time limits, so that a client sending its request byte by byte (slowloris) cannot hold a
  // connection: 10 s for the headers, 30 s for the whole request, 5 s idle between keep-alive
  // requests (Fastify's default: 72 s); Node checks them every second (its default: 30 s).
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  http: { headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
});
const logger = app.log.child({ name: 'albumkit' });
const albumkit = await createAlbumkit({
  ...config,
  logger,
  jobs: redisUrl || redis ? () => new BullMqJobs({ redisUrl, redis, prefix }) : (ak) => inProcessJobs(ak),
});
// With Redis, a worker runs here too; more can run elsewhere (`npx albumkit-worker`, same settings).
const worker = redisUrl || redis ? startWorker({ albumkit, redisUrl, redis, prefix, logger }) : undefined;

app.get('/', async () => ({ hello: 'host app' }));
await app.register(albumkitFastify(albumkit, { cors: { origins: ['http://localhost:5173'] } }), { prefix: '/api/v1' });
// On close: no new requests, running jobs finish (5 s at most), then the database closes.
app.addHook('onClose', async () => {
  await worker?.close(5_000);
  await albumkit.close();
});

app.log.info(`jobs: ${redisUrl || redis ? `BullMQ on ${redis ? 'REDIS_SENTINELS' : 'REDIS_URL'} (queues ${prefix ?? 'albumkit'}-*), worker in this process` : 'in this process'}`);
await app.listen({ port, host }); // logs "Server listening at http://<address>:<port>"
process.on('SIGTERM', () => app.close());
