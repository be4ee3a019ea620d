// The smallest embedding: an Express app with albumkit mounted at /api/v1 next to its own routes.
// Env: PORT, DATABASE_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL (all configured by you).
// The full demo with embedded defaults and the demo page is start.mjs (`npm start` at the root).
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { albumkitExpress, rawBodySaver } from '@albumkit/http-adapter/express';
import express from 'express';

const { config, port } = configFromEnv();
const albumkit = await createAlbumkit(config);

const app = express();
// The host's own parsers may come first: `rawBodySaver` keeps the exact bytes for albumkit.
app.use(express.json({ verify: rawBodySaver }));
app.get('/', (_req, res) => res.json({ hello: 'host app' }));
app.use('/api/v1', albumkitExpress(albumkit, { cors: { origins: ['http://localhost:5173'] } }));

const server = app.listen(port, () => console.log(`listening on http://localhost:${port}`));
process.on('SIGTERM', () => server.close(() => albumkit.close()));
