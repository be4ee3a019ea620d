// Zip downloads: a download of 1,000 images of about 1 MB each (about 1 GB), streamed through
// albumkit's public route (node:http adapter) from the local Cloudinary server, read by a client
// that discards the bytes. Reports MB/s and the RSS of the albumkit process before, at its peak
// while streaming, and after; the target is growth < 100 MB, whatever the download's size.
//
//   npm run build && node bench/downloads.bench.mjs
//
// Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL to change it). Writes bench/results/downloads.md.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import pg from 'pg';
import sharp from 'sharp';
import { apiSignature, createAlbumkit } from '@albumkit/core';
import { albumkitNode } from '@albumkit/http-adapter/node';
import { startCloudProcess } from './cloud-process.mjs';
import { machineLine, table } from './machine.mjs';
import { createTempDatabase } from './temp-database.mjs';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 1000);
const TARGET_GROWTH = 100 * 2 ** 20;

// The local Cloudinary server runs in its own process: the RSS measured is albumkit's alone.
const cloud = await startCloudProcess();
const tempDatabase = await createTempDatabase();
const mb = (bytes) => `${Math.round(bytes / 2 ** 20)} MB`;
let server;
try {
  // A noisy photo compresses badly: about 1 MB as JPEG.
  const photo = await sharp({ create: { width: 1100, height: 1100, channels: 3, noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).jpeg({ quality: 92 }).toBuffer();
  server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const albumkit = await createAlbumkit({
    secret: 'bench-secret-0123456789abcdef',
    databaseUrl: tempDatabase.url,
    cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
    publicUrl: `${base}/api/v1`,
    purgeIntervalSeconds: 0,
    logger: { error: console.error, warn: console.warn },
  });
  const api = albumkitNode(albumkit);
  const publicRoutes = albumkitNode(albumkit, { publicRoutes: true });
  server.on('request', (req, res) => (req.url.startsWith('/api/') ? api(req, res) : publicRoutes(req, res, () => res.writeHead(404).end())));

  // ------------------------------------------------------------ data: real assets, image rows
  const loadStarted = performance.now();
  const org = await albumkit.setup.createOrganization('Bench');
  const user = await albumkit.setup.createUser(org.id, {});
  let next = 0;
  const upload = async () => {
    while (next < IMAGES) {
      const g = next++;
      const params = { public_id: `bench/zip-${g}`, type: 'authenticated', timestamp: Math.floor(Date.now() / 1000) };
      const form = new FormData();
      for (const [k, v] of Object.entries(params)) form.append(k, String(v));
      form.append('api_key', cloud.apiKey);
      form.append('signature', apiSignature(params, cloud.apiSecret));
      form.append('file', new Blob([photo]), 'photo.jpg');
      const response = await fetch(`${cloud.url}/v1_1/${cloud.cloudName}/image/upload`, { method: 'POST', body: form });
      if (!response.ok) throw new Error(`upload ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 4 }, upload));
  const client = new pg.Client({ connectionString: tempDatabase.url });
  await client.connect();
  await client.query(`INSERT INTO albums (organization_id, id) VALUES ($1, 'ZIP')`, [org.id]);
  const { rows } = await client.query(
    `INSERT INTO images (id, organization_id, album_id, cloudinary_public_id, cloudinary_version, cloudinary_type, infos, exifs, metadatas,
                         width, height, original_width, original_height, format, filename, processed, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'ZIP', 'bench/zip-' || g, '1700000000', 'authenticated', '{}', '{}', '{}',
            1100, 1100, 1100, 1100, 'jpg', 'photo.jpg', true, now() - g * interval '1 second', now()
     FROM generate_series(0, $2::int - 1) g RETURNING id`,
    [org.id, IMAGES],
  );
  await client.end();
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  const token = await albumkit.issueToken(user.id, {}, { admin: true });
  const body = rows.map((row) => `image_ids[]=${row.id}`).join('&');
  const made = await fetch(`${base}/api/v1/downloads`, {
    method: 'POST',
    headers: { Authorization: `Token token="${token}"`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  if (!made.ok) throw new Error(`POST /downloads ${made.status}: ${await made.text()}`);
  const { zip_url: zipUrl } = await made.json();

  // ------------------------------------------------------------ the stream
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const response = await fetch(zipUrl);
  let bytes = 0;
  let tail = Buffer.alloc(0);
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    tail = Buffer.concat([tail, chunk]).subarray(-65_536);
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const rssAfter = process.memoryUsage().rss;

  // ------------------------------------------------------------ checks: the end of central directory names every entry
  const problems = [];
  if (response.status !== 200) problems.push(`status ${response.status}`);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const entries = eocd >= 0 ? tail.readUInt16LE(eocd + 10) : -1;
  if (entries !== IMAGES) problems.push(`${entries} entries in the central directory, expected ${IMAGES}`);
  if (bytes < IMAGES * photo.length) problems.push(`${bytes} bytes, less than the originals' ${IMAGES * photo.length}`);
  if (rssPeak - rssBefore >= TARGET_GROWTH) problems.push(`RSS grew by ${mb(rssPeak - rssBefore)}`);
  await albumkit.close();

  const report = `## Zip downloads

${machineLine()}. One download of ${IMAGES.toLocaleString('en')} images of ${(photo.length / 2 ** 20).toFixed(2)} MB each
(${mb(bytes)} of ZIP), on PostgreSQL (localhost), streamed by \`GET /downloads/:id/zip\` through the
\`node:http\` adapter from the local Cloudinary server (a child process, so the RSS is albumkit's and
the client's, which discards what it reads): each original fetched when the previous one is
written, piped through yazl, stored. Loading (uploads and rows) took ${loadSeconds.toFixed(1)} s (not counted).

${table(
  ['figure', 'value', 'target'],
  [
    ['ZIP size', mb(bytes), ''],
    ['time', `${seconds.toFixed(1)} s`, ''],
    ['throughput', `${(bytes / 2 ** 20 / seconds).toFixed(0)} MB/s`, ''],
    ['RSS before → peak → after', `${mb(rssBefore)} → ${mb(rssPeak)} → ${mb(rssAfter)}`, ''],
    ['RSS growth while streaming', mb(rssPeak - rssBefore), '< 100 MB'],
    ['checks (200, every entry in the central directory, every byte)', problems.length ? problems.join('; ') : 'all hold', 'all hold'],
  ],
)}
`;
  writeFileSync('bench/results/downloads.md', report);
  console.log(report);
  if (problems.length) process.exitCode = 1;
} finally {
  server?.closeAllConnections();
  server?.close();
  await cloud.close();
  await tempDatabase.drop();
}
