// Image lifecycle writes on real PostgreSQL with 100,000 images in 100 albums: PUT /images/:id
// (rotation, caption), DELETE /images/:id (to the trash), DELETE /trashed_images/:id (restore) and
// POST /images/move, one request at a time through the core handler, each on a different image;
// then the bulk writes: DELETE /images with 10 and 100 ids, POST /clipboards of 10 and 100 images
// and their paste into an album (POST /clipboards/:id/paste), each request on different images.
// p50/p99 of the handler's time per request (token verified before, as for a signed-in client),
// and images per second (images written over the summed time of the measured requests).
//
//   npm run build && node bench/lifecycle.bench.mjs
//
// Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL to change it): creates a temporary database and
// drops it at the end. Writes bench/results/lifecycle.md.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { createAlbumkit } from '@albumkit/core';
import { machine, machineLine, table } from './machine.mjs';
import { createTempDatabase } from './temp-database.mjs';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 100_000);
const ALBUMS = 100;
const N = Number(process.env.BENCH_REQUESTS ?? 500);
/** Requests per bulk size (10 and 100 images per request): 2,000 and 10,000 images each. */
const BULK = [
  { size: 10, requests: Number(process.env.BENCH_BULK_10 ?? 200) },
  { size: 100, requests: Number(process.env.BENCH_BULK_100 ?? 100) },
];
const warmOf = (requests) => Math.ceil(requests / 10);
// Images each bulk phase takes from the random pool: its requests and warm-up, per size.
const BULK_IMAGES = BULK.reduce((sum, { size, requests }) => sum + size * (requests + warmOf(requests)), 0);

const tempDatabase = await createTempDatabase();
const albumkit = await createAlbumkit({
  secret: 'bench-secret-0123456789abcdef',
  databaseUrl: tempDatabase.url,
  cloudinary: { cloudName: 'bench', apiKey: '123123123123', apiSecret: 'bench-cloudinary-api-secret' },
  publicUrl: 'https://localhost:5001/api/v1',
  logger: { error: console.error, warn() {} },
  purgeIntervalSeconds: 0,
});

try {
  const organization = await albumkit.setup.createOrganization('Bench');
  const user = await albumkit.setup.createUser(organization.id);
  const token = await albumkit.issueToken(user.id, {}, { admin: true, ttlSeconds: 24 * 3600 });

  const seedStarted = performance.now();
  const client = new pg.Client({ connectionString: tempDatabase.url });
  await client.connect();
  await client.query(
    `INSERT INTO albums (organization_id, id, images_count) SELECT $1, 'album-' || a, $2::int / ${ALBUMS} FROM generate_series(0, ${ALBUMS - 1}) a`,
    [organization.id, IMAGES],
  );
  await client.query(
    `INSERT INTO images (id, organization_id, album_id, upload_key, cloudinary_public_id, cloudinary_version, cloudinary_type,
                         infos, exifs, metadatas, width, height, original_width, original_height, filename, format, color, processed,
                         reported_at, created_at, updated_at)
     SELECT gen_random_uuid(), $1, 'album-' || (g % ${ALBUMS}), left(md5(g::text), 20) || '@1700000000', left(md5(g::text), 20), '1700000000', 'authenticated',
            json_build_object('public_id', left(md5(g::text), 20), 'version', 1700000000, 'width', 4032, 'height', 3024, 'format', 'jpg', 'bytes', 1500000 + g),
            '{"Make":"Apple","Model":"iPhone 7","Orientation":"Horizontal (normal)"}'::json, '{}'::json,
            4032, 3024, 4032, 3024, 'IMG_' || g, 'jpg', '#7D7D7D', true, now(),
            timestamp '2024-01-01' + g * interval '1 minute', timestamp '2024-01-01' + g * interval '1 minute'
     FROM generate_series(1, $2::int) g`,
    [organization.id, IMAGES],
  );
  await client.query('ANALYZE images');
  // Distinct random images: 4 N for the single-image writes, then the bulk deletes, then the copies' sources.
  const ids = (await client.query(`SELECT id FROM images ORDER BY random() LIMIT ${N * 4 + 2 * BULK_IMAGES}`)).rows.map((r) => r.id);
  await client.end();
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' };
  await albumkit.tokens.authenticate(token);
  /** `check(json)`: what the answer must hold (outside the timing). */
  async function timed(method, path, body, expected, check) {
    const started = performance.now();
    const response = await albumkit.handle({ method, path: `/api/v1${path}`, headers, rawBody: body });
    const ms = performance.now() - started;
    if (response.status !== expected) throw new Error(`${method} ${path}: ${response.status} ${response.body}`);
    if (check && !check(JSON.parse(response.body))) throw new Error(`${method} ${path}: unexpected answer ${String(response.body).slice(0, 200)}`);
    return ms;
  }
  const percentile = (values, p) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  };

  const rows = [];
  /** `requests` measured after a tenth as many not counted; `images` written per request. */
  async function measure(name, run, { requests = N, images = 1 } = {}) {
    for (let i = 0; i < warmOf(requests); i++) await run(i, true);
    const times = [];
    for (let i = 0; i < requests; i++) times.push(await run(i, false));
    const seconds = times.reduce((sum, ms) => sum + ms, 0) / 1000;
    rows.push([name, requests, percentile(times, 50).toFixed(2), percentile(times, 99).toFixed(2), Math.round((requests * images) / seconds).toLocaleString('en-US')]);
    console.log(name, rows.at(-1).slice(2, 4).join(' / '), 'ms,', rows.at(-1)[4], 'images/s');
  }
  const slice = (offset) => ids.slice(offset * N, offset * N + N);
  const edit = slice(0);
  const trashed = slice(1);
  const moved = slice(2);
  await measure('PUT /images/:id (rotation=90)', (i) => timed('PUT', `/images/${edit[i % N]}`, `rotation=${90 * ((i % 3) + 1)}`, 200));
  await measure('PUT /images/:id (title)', (i, warm) => timed('PUT', `/images/${edit[i % N]}`, `title=Bench%20${i}${warm ? 'w' : ''}`, 200));
  await measure('DELETE /images/:id', (i, warm) => timed('DELETE', `/images/${warm ? ids[3 * N + i] : trashed[i]}`, undefined, 204));
  await measure('DELETE /trashed_images/:id (restore)', (i, warm) => timed('DELETE', `/trashed_images/${warm ? ids[3 * N + i] : trashed[i]}`, undefined, 200));
  await measure('POST /images/move (one image)', (i, warm) =>
    timed('POST', '/images/move', `move_operations[${warm ? ids[3 * N + i] : moved[i]}]=album-${(i * 7) % ALBUMS}`, 200),
  );

  // Bulk writes: every request on images of its own (warm-up included), taken from the pool in turn.
  let next = 4 * N;
  const take = (count) => {
    const taken = ids.slice(next, next + count);
    next += count;
    if (taken.length !== count) throw new Error('the random pool is too small');
    return taken;
  };
  const idList = (list) => list.map((id) => `image_ids[]=${id}`).join('&');
  let bulkDeleted = 0;
  for (const { size, requests } of BULK) {
    const batches = Array.from({ length: requests + warmOf(requests) }, () => take(size));
    await measure(
      `DELETE /images (${size} ids)`,
      (i, warm) => {
        const batch = batches[warm ? requests + i : i];
        bulkDeleted += size;
        return timed('DELETE', '/images', idList(batch), 200, (json) => json.length === size);
      },
      { requests, images: size },
    );
  }
  let pasted = 0;
  for (const { size, requests } of BULK) {
    const clipboards = Array.from({ length: requests + warmOf(requests) }, () => ({ id: randomUUID(), images: take(size) }));
    const pick = (i, warm) => clipboards[warm ? requests + i : i];
    await measure(`POST /clipboards (${size} images)`, (i, warm) => {
      const clipboard = pick(i, warm);
      return timed('POST', '/clipboards', `id=${clipboard.id}&${idList(clipboard.images)}`, 200, (json) => json.id === clipboard.id);
    }, { requests, images: size });
    await measure(
      `POST /clipboards/:id/paste (${size} images)`,
      (i, warm) => {
        pasted += size;
        return timed('POST', `/clipboards/${pick(i, warm).id}/paste`, `album_id=album-${(i * 13) % ALBUMS}`, 200, (json) => json.length === size);
      },
      { requests, images: size },
    );
  }

  // Counts stay exact after all of it.
  const check = new pg.Client({ connectionString: tempDatabase.url });
  await check.connect();
  const live = Number((await check.query('SELECT count(*) FROM images WHERE deleted_at IS NULL')).rows[0].count);
  const inTrash = Number((await check.query('SELECT count(*) FROM images WHERE deleted_at IS NOT NULL')).rows[0].count);
  // Each album's count against its own live rows, not only the sums.
  const perAlbum = new Map((await check.query('SELECT album_id, count(*)::int AS n FROM images WHERE deleted_at IS NULL GROUP BY album_id')).rows.map((r) => [r.album_id, r.n]));
  const version = (await check.query('SHOW server_version')).rows[0].server_version.split(' ')[0];
  await check.end();
  if (live !== IMAGES - bulkDeleted + pasted) throw new Error(`live rows ${live} != ${IMAGES} - ${bulkDeleted} deleted + ${pasted} pasted`);
  if (inTrash !== bulkDeleted) throw new Error(`trashed rows ${inTrash} != ${bulkDeleted} deleted in bulk (the single deletes were restored)`);
  let counted = 0;
  for (let a = 0; a < ALBUMS; a++) {
    const count = JSON.parse((await albumkit.handle({ method: 'GET', path: `/api/v1/albums/album-${a}`, headers })).body).images_count;
    if (count !== (perAlbum.get(`album-${a}`) ?? 0)) throw new Error(`album-${a}: images_count ${count} != live rows ${perAlbum.get(`album-${a}`)}`);
    counted += count;
  }
  if (counted !== live) throw new Error(`album counts ${counted} != live rows ${live}`);

  const m = machine();
  const report = `## Image lifecycle writes (PUT, DELETE, restore, move, bulk delete, copy and paste)

- date: ${new Date().toISOString()}
- machine: ${m.cores} CPUs, ${m.cpu}, ${m.memory}; node ${m.node}
- database: PostgreSQL ${version} (temporary database, localhost), ${IMAGES.toLocaleString('en-US')} images in ${ALBUMS} albums, seeded in ${seedSeconds.toFixed(1)} s
- method: the core handler called directly (no HTTP), one request at a time, each on a different random image (the bulk ones on images of their own), ${N} measured after ${warmOf(N)} warm-up requests (bulk: ${BULK.map(({ size, requests }) => `${requests} of ${size} images after ${warmOf(requests)}`).join(', ')}); time of \`albumkit.handle\` per request; images/s: the images the measured requests wrote over their summed time
- after the run, every album's \`images_count\` equals its live rows, ${live.toLocaleString('en-US')} in all (${IMAGES.toLocaleString('en-US')} − ${bulkDeleted.toLocaleString('en-US')} deleted in bulk + ${pasted.toLocaleString('en-US')} pasted), and the trash holds the ${bulkDeleted.toLocaleString('en-US')}

${table(['request', 'requests', 'p50 ms', 'p99 ms', 'images/s'], rows)}

Each write is one transaction: the row locked and updated with its event recorded (edit), or one
statement that moves the row and its album count (trash, restore, move), plus the cache
announcement the images trigger sends. A bulk delete locks its rows, trashes them with their
album counts in one statement, then records one \`delete_image\` event per image, an insert each:
most of its time at 100 ids. A clipboard is one read of its images and one insert; a paste is one
statement that inserts the copies (sharing the assets) and adds to the album's count, then the
copies' JSON, signed URLs included, is the answer; it records no event. The purge of a
100,000-image trash is in its own section.
`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/lifecycle.md', report);
  console.log(`wrote bench/results/lifecycle.md (${machineLine()})`);
} finally {
  await albumkit.close();
  await tempDatabase.drop();
}
