// The trash purge: 100,000 trashed images (past the retention) purged on PostgreSQL against the
// local Cloudinary server, through `albumkit.purge.run()` as the scheduled job runs it: rows
// deleted 500 per statement, assets queued in the outbox, then destroyed (signed destroy calls,
// 8 in flight). One image in ten is a copy sharing the asset of a live image, whose asset must be
// kept. Reports images/s and the process's RSS before, at its peak during the purge, and after.
//
//   npm run build && node bench/purge.bench.mjs
//
// Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL to change it). Writes bench/results/purge.md.
import { readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { apiSignature, createAlbumkit } from '@albumkit/core';
import { startCloudProcess } from './cloud-process.mjs';
import { machineLine, table } from './machine.mjs';
import { createTempDatabase } from './temp-database.mjs';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 100_000);
/** Of the trashed images' assets, how many really exist at the local server (the others answer "not found", which counts as done). */
const STORED = Number(process.env.BENCH_STORED_ASSETS ?? 200);
const SHARED_EVERY = 10;
const PHOTO = readFileSync(new URL('../test/fixtures/photos/orientation-f6t.jpg', import.meta.url));

// The local Cloudinary server runs in its own process: the RSS measured is the purge's alone.
const cloud = await startCloudProcess();
const tempDatabase = await createTempDatabase();
const mb = (bytes) => `${Math.round(bytes / 2 ** 20)} MB`;
try {
  const albumkit = await createAlbumkit({
    secret: 'bench-secret-0123456789abcdef',
    databaseUrl: tempDatabase.url,
    cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
    publicUrl: 'http://127.0.0.1:9/api/v1',
    purgeIntervalSeconds: 0,
    logger: { error: console.error, warn: console.warn },
  });
  const client = new pg.Client({ connectionString: tempDatabase.url });
  await client.connect();

  // ------------------------------------------------------------ data
  const loadStarted = performance.now();
  const org = await albumkit.setup.createOrganization('Bench');
  await client.query(`INSERT INTO albums (organization_id, id) SELECT $1, 'album-' || a FROM generate_series(0, 49) a`, [org.id]);
  // Real assets at the local server, uploaded through the signed upload API.
  const stored = [];
  for (let g = 1; g <= STORED; g++) {
    if (g % SHARED_EVERY === 0) continue; // those are copies of a live image's asset
    const publicId = `bench/stored-${g}`;
    const params = { public_id: publicId, type: 'authenticated', timestamp: Math.floor(Date.now() / 1000) };
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.append(k, String(v));
    form.append('api_key', cloud.apiKey);
    form.append('signature', apiSignature(params, cloud.apiSecret));
    form.append('file', new Blob([PHOTO]), 'photo.jpg');
    const response = await fetch(`${cloud.url}/v1_1/${cloud.cloudName}/image/upload`, { method: 'POST', body: form });
    if (!response.ok) throw new Error(`upload ${response.status}: ${await response.text()}`);
    stored.push(publicId);
  }
  // Image g: its own asset (`bench/stored-g` for the first STORED, else one the server never had),
  // except every SHARED_EVERY-th, a copy sharing the asset of a live image.
  const columns = `id, organization_id, album_id, cloudinary_public_id, cloudinary_version, cloudinary_type, infos, exifs, metadatas,
                   width, height, original_width, original_height, format, processed, created_at, updated_at, deleted_at`;
  await client.query(
    `INSERT INTO images (${columns})
     SELECT gen_random_uuid(), $1, 'album-' || (g % 50), 'bench/live-' || g, '1700000000', 'authenticated', '{}', '{}', '{}',
            640, 480, 640, 480, 'jpg', true, now() - interval '60 days', now(), null
     FROM generate_series(1, $2::int / ${SHARED_EVERY}) g`,
    [org.id, IMAGES],
  );
  await client.query(
    `INSERT INTO images (${columns})
     SELECT gen_random_uuid(), $1, 'album-' || (g % 50),
            CASE WHEN g % ${SHARED_EVERY} = 0 THEN 'bench/live-' || (g / ${SHARED_EVERY})
                 WHEN g <= $3 THEN 'bench/stored-' || g ELSE 'bench/gone-' || g END,
            '1700000000', 'authenticated', '{}', '{}', '{}', 640, 480, 640, 480, 'jpg', true,
            now() - interval '60 days', now(), now() - interval '40 days' + g * interval '1 millisecond'
     FROM generate_series(1, $2::int) g`,
    [org.id, IMAGES, STORED],
  );
  await client.query('ANALYZE images');
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  // ------------------------------------------------------------ the purge
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  const result = await albumkit.purge.run();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const rssAfter = process.memoryUsage().rss;

  // ------------------------------------------------------------ checks
  const left = Number((await client.query('SELECT count(*) FROM images WHERE deleted_at IS NOT NULL')).rows[0].count);
  const live = Number((await client.query('SELECT count(*) FROM images WHERE deleted_at IS NULL')).rows[0].count);
  const outbox = Number((await client.query('SELECT count(*) FROM asset_destroys')).rows[0].count);
  const sharedExpected = Math.floor(IMAGES / SHARED_EVERY);
  const expectedAssets = IMAGES - sharedExpected;
  let storedLeft = 0;
  for (const publicId of stored) {
    const url = albumkit.delivery.url({ publicId, version: '1700000000', type: 'authenticated' }, '', 'jpg');
    const response = await fetch(url);
    await response.arrayBuffer();
    if (response.status !== 404) storedLeft++;
  }
  const problems = [];
  if (result.images !== IMAGES || left !== 0) problems.push(`images purged ${result.images}, left in the trash ${left}`);
  if (result.assets !== expectedAssets) problems.push(`assets destroyed ${result.assets}, expected ${expectedAssets} (the ${sharedExpected} shared ones kept)`);
  if (live !== sharedExpected) problems.push(`live images ${live}, expected ${sharedExpected}`);
  if (outbox !== 0) problems.push(`outbox left with ${outbox}`);
  if (storedLeft !== 0) problems.push(`${storedLeft} stored assets still delivered`);
  await client.end();
  await albumkit.close();

  const report = `## Trash purge

${machineLine()}. ${IMAGES.toLocaleString('en')} trashed images past the retention, on PostgreSQL
(localhost) against the local Cloudinary server (\`startLocalCloudinary\`, in a process of its own), purged by
one \`albumkit.purge.run()\`: rows deleted 500 per statement with their assets queued in the
\`asset_destroys\` outbox, then one signed \`destroy\` call per asset (8 in flight). One image in
${SHARED_EVERY} shares the asset of a live image: its row goes, its asset stays. ${stored.length} of the
assets exist at the server (uploaded first; the server runs in a child process); the others answer \`{"result":"not found"}\`, which
counts as destroyed. Loading the data took ${loadSeconds.toFixed(1)} s (not counted).

${table(
  ['figure', 'value', 'target'],
  [
    ['images purged', result.images.toLocaleString('en'), IMAGES.toLocaleString('en')],
    ['assets destroyed (shared ones kept)', `${result.assets.toLocaleString('en')} (${sharedExpected.toLocaleString('en')} kept)`, ''],
    ['time', `${seconds.toFixed(1)} s`, ''],
    ['images / s (bound by one destroy call per asset)', Math.round(result.images / seconds).toLocaleString('en'), ''],
    ['RSS before → peak → after', `${mb(rssBefore)} → ${mb(rssPeak)} → ${mb(rssAfter)}`, 'flat: independent of the trash size'],
    ['checks (trash empty, live rows kept, outbox empty, stored assets gone)', problems.length ? problems.join('; ') : 'all hold', 'all hold'],
  ],
)}
`;
  writeFileSync('bench/results/purge.md', report);
  console.log(report);
  if (problems.length) process.exitCode = 1;
} finally {
  await cloud.close();
  await tempDatabase.drop();
}
