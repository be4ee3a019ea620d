// Image lifecycle writes on real PostgreSQL with 100,000 images in 100 albums: PUT /images/:id
// (rotation, caption), DELETE /images/:id (to the trash), DELETE /trashed_images/:id (restore) and
// POST /images/move, one request at a time through the core handler, each on a different image;
// p50/p99 of the handler's time per request (token verified before, as for a signed-in client).
//
//   npm run build && node bench/lifecycle.bench.mjs
//
// Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL to change it): creates a temporary database and
// drops it at the end. Writes bench/results/lifecycle.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { createAlbumkit } from '@albumkit/core';
import { machine, machineLine, table } from './machine.mjs';
import { createTempDatabase } from './temp-database.mjs';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 100_000);
const ALBUMS = 100;
const N = Number(process.env.BENCH_REQUESTS ?? 500);

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
  const ids = (await client.query(`SELECT id FROM images ORDER BY random() LIMIT ${N * 4}`)).rows.map((r) => r.id);
  await client.end();
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' };
  await albumkit.tokens.authenticate(token);
  async function timed(method, path, body, expected) {
    const started = performance.now();
    const response = await albumkit.handle({ method, path: `/api/v1${path}`, headers, rawBody: body });
    const ms = performance.now() - started;
    if (response.status !== expected) throw new Error(`${method} ${path}: ${response.status} ${response.body}`);
    return ms;
  }
  const percentile = (values, p) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  };

  const rows = [];
  async function measure(name, run) {
    // Warm-up: a tenth, not counted.
    for (let i = 0; i < Math.ceil(N / 10); i++) await run(i, true);
    const times = [];
    for (let i = 0; i < N; i++) times.push(await run(i, false));
    rows.push([name, N, percentile(times, 50).toFixed(2), percentile(times, 99).toFixed(2)]);
    console.log(name, rows.at(-1).slice(2).join(' / '), 'ms');
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

  // Counts stay exact after all of it.
  const check = new pg.Client({ connectionString: tempDatabase.url });
  await check.connect();
  const live = Number((await check.query('SELECT count(*) FROM images WHERE deleted_at IS NULL')).rows[0].count);
  await check.end();
  let counted = 0;
  for (let a = 0; a < ALBUMS; a++) counted += JSON.parse((await albumkit.handle({ method: 'GET', path: `/api/v1/albums/album-${a}`, headers })).body).images_count;
  if (counted !== live) throw new Error(`album counts ${counted} != live rows ${live}`);

  const m = machine();
  const report = `## Image lifecycle writes (PUT, DELETE, restore, move)

- date: ${new Date().toISOString()}
- machine: ${m.cores} CPUs, ${m.cpu}, ${m.memory}; node ${m.node}
- database: PostgreSQL (temporary database), ${IMAGES.toLocaleString('en-US')} images in ${ALBUMS} albums, seeded in ${seedSeconds.toFixed(1)} s
- method: the core handler called directly (no HTTP), one request at a time, each on a different random image, ${N} measured after ${Math.ceil(N / 10)} warm-up requests; time of \`albumkit.handle\` per request
- after the run, the sum of the albums' \`images_count\` equals the live rows (${live.toLocaleString('en-US')})

${table(['request', 'requests', 'p50 ms', 'p99 ms'], rows)}

Each write is one transaction: the row locked and updated with its event recorded (edit), or one
statement that moves the row and its album count (trash, restore, move), plus the cache
announcement the images trigger sends. The purge of a 100,000-image trash is in its own section.
`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/lifecycle.md', report);
  console.log(`wrote bench/results/lifecycle.md (${machineLine()})`);
} finally {
  await albumkit.close();
  await tempDatabase.drop();
}
