// An HTTP host process of test/faults/multi-process.test.ts: a host app with albumkit mounted at
// /api/v1 through an adapter (HOST_ADAPTER=node: node:http with albumkitNode; express: Express
// with its own JSON parser first, albumkitExpress), enqueueing on BullMQ. No worker runs here:
// the worker processes (albumkit-worker) do the jobs.
// Env: PORT, DATABASE_URL, REDIS_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL,
// ALBUMKIT_QUEUE_PREFIX, HOST_ADAPTER.
import { createServer } from 'node:http';
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { BullMqJobs } from '@albumkit/worker';
import { pino } from 'pino';

const logger = pino({ name: `albumkit-http-${process.env.HOST_ADAPTER}` });
const { config, port, redisUrl } = configFromEnv();
if (!redisUrl) throw new Error('REDIS_URL is required');
const prefix = process.env.ALBUMKIT_QUEUE_PREFIX || undefined;
const albumkit = await createAlbumkit({ ...config, logger, jobs: () => new BullMqJobs({ redisUrl, prefix, logger }) });

let handler;
if (process.env.HOST_ADAPTER === 'express') {
  const { default: express } = await import('express');
  const { albumkitExpress, rawBodySaver } = await import('@albumkit/http-adapter/express');
  const app = express();
  app.use(express.json({ verify: rawBodySaver, limit: '1mb' }));
  app.get('/', (_req, res) => res.json({ hello: 'host app' }));
  app.use('/api/v1', albumkitExpress(albumkit));
  handler = app;
} else {
  const { albumkitNode } = await import('@albumkit/http-adapter/node');
  const api = albumkitNode(albumkit, { prefix: '/api/v1' });
  handler = (req, res) => api(req, res, () => res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found"}'));
}

const server = createServer(handler);
server.listen(port, '127.0.0.1', () => logger.info({ port }, 'listening'));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(async () => {
    await albumkit.close();
    process.exit(0);
  });
});
