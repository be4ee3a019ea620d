// The smallest embedding: an Express app with albumkit mounted at /api/v1 next to its own routes.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL (all configured by you),
// and HOST (default 127.0.0.1, this machine only; HOST=0.0.0.0 listens on every interface).
// The full demo with embedded defaults and the demo page is start.mjs (`npm start` at the root).
import { createServer } from 'node:http';
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitExpress, rawBodySaver } from '@albumkit/http-adapter/express';
import express from 'express';

const { config, port } = configFromEnv();
const host = process.env.HOST || '127.0.0.1';
const albumkit = await createAlbumkit(config);

const app = express();
// The host's own parsers may come first: `rawBodySaver` keeps the exact bytes for albumkit.
app.use(express.json({ verify: rawBodySaver }));
app.get('/', (_req, res) => res.json({ hello: 'host app' }));
app.use('/api/v1', albumkitExpress(albumkit, { cors: { origins: ['http://localhost:5173'] } }));

// Time limits, so that a client sending its request byte by byte (slowloris) cannot hold a
// connection: 10 s for the headers, 30 s for the whole request, 5 s idle between keep-alive
// requests; Node checks them every second (its default, 30 s, lets a stalled client stay longer).
const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000, connectionsCheckingInterval: 1_000 }, app);
server.keepAliveTimeout = 5_000;
server.listen(port, host, () => {
  const { address, family, port: bound } = server.address();
  const shown = family === 'IPv6' ? `[${address}]` : address;
  const wildcard = address === '0.0.0.0' || address === '::';
  console.log(`listening on http://${shown}:${bound}${wildcard ? ' (all interfaces)' : ''}`);
});
process.on('SIGTERM', () => server.close(() => albumkit.close()));
