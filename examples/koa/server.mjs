// A Koa app with albumkit answering under /api/v1 next to its own routes.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL.
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitKoa } from '@albumkit/http-adapter/koa';
import Koa from 'koa';
import bodyParser from 'koa-bodyparser';

const { config, port } = configFromEnv();
const albumkit = await createAlbumkit(config);

const app = new Koa();
app.use(bodyParser()); // albumkit uses the ctx.request.rawBody it keeps
app.use(albumkitKoa(albumkit, { prefix: '/api/v1', cors: { origins: ['http://localhost:5173'] } }));
app.use(async (ctx) => {
  if (ctx.method === 'GET' && ctx.path === '/') ctx.body = { hello: 'host app' };
});

const server = app.listen(port, () => console.log(`listening on http://localhost:${port}`));
process.on('SIGTERM', () => server.close(() => albumkit.close()));
