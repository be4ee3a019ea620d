// A Fastify app with the albumkit plugin registered under /api/v1 next to its own routes.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL.
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitFastify } from '@albumkit/http-adapter/fastify';
import Fastify from 'fastify';

const { config, port } = configFromEnv();
const albumkit = await createAlbumkit(config);

const app = Fastify({ logger: true });
app.get('/', async () => ({ hello: 'host app' }));
await app.register(albumkitFastify(albumkit, { cors: { origins: ['http://localhost:5173'] } }), { prefix: '/api/v1' });
app.addHook('onClose', () => albumkit.close());

await app.listen({ port, host: '0.0.0.0' });
process.on('SIGTERM', () => app.close());
