// A Fastify app with the albumkit plugin registered under /api/v1 next to its own routes.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL, and HOST
// (default 127.0.0.1, this machine only; HOST=0.0.0.0 listens on every interface).
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitFastify } from '@albumkit/http-adapter/fastify';
import Fastify from 'fastify';

const { config, port } = configFromEnv();
const host = process.env.HOST || '127.0.0.1';
const albumkit = await createAlbumkit(config);

const app = Fastify({
  logger: true,
  // Time limits, so that a client sending its request byte by byte (slowloris) cannot hold a
  // connection: 10 s for the headers, 30 s for the whole request, 5 s idle between keep-alive
  // requests (Fastify's default: 72 s); Node checks them every second (its default: 30 s).
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  http: { headersTimeout: 10_000, connectionsCheckingInterval: 1_000 },
});
app.get('/', async () => ({ hello: 'host app' }));
await app.register(albumkitFastify(albumkit, { cors: { origins: ['http://localhost:5173'] } }), { prefix: '/api/v1' });
app.addHook('onClose', () => albumkit.close());

await app.listen({ port, host }); // logs "Server listening at http://<address>:<port>"
process.on('SIGTERM', () => app.close());
