// Query plans of the image queries albumkit runs on its hot endpoints, on a temporary PostgreSQL
// database with 100,000 images (50 albums, 2 organizations), after ANALYZE. The SQL is the real
// one: albumkit's own ImageRepository compiles it (on a Kysely instance whose driver only records
// queries), then `EXPLAIN (ANALYZE, BUFFERS)` runs it with its parameters (writes inside a
// rolled-back transaction). Flags every sequential scan.
//
//   (cd packages/core && npx tsup) && node bench/queries.bench.mjs
//
// Needs PostgreSQL on 127.0.0.1:5432 (DATABASE_URL to change it). Writes docs/QUERIES.md (all but
// its search section, which bench/search.bench.mjs writes and this keeps) and
// bench/results/queries.md.
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { createAlbumkit } from '@albumkit/core';
import { machineLine, table } from './machine.mjs';
import { createTempDatabase } from './temp-database.mjs';

const IMAGES = Number(process.env.BENCH_IMAGES ?? 100_000);
const ALBUMS = 50;

const tempDatabase = await createTempDatabase();

const albumkit = await createAlbumkit({
  secret: 'bench-secret-0123456789abcdef',
  databaseUrl: tempDatabase.url,
  cloudinary: { cloudName: 'demo', apiKey: '123123123123', apiSecret: 'bench-cloudinary-secret' },
  publicUrl: 'http://localhost/api/v1',
  logger: { error: console.error, warn() {} },
});
const client = new pg.Client({ connectionString: tempDatabase.url });
await client.connect();

// ---------------------------------------------------------------- data
const loadStarted = performance.now();
const orgs = [await albumkit.setup.createOrganization('Org A'), await albumkit.setup.createOrganization('Org B')];
for (const org of orgs) {
  await client.query(
    `INSERT INTO users (id, organization_id, sfid, email, name)
     SELECT gen_random_uuid(), $1, '005' || lpad(g::text, 15, '0'), 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 200) g`,
    [org.id],
  );
}
// Album a (0..49) belongs to organization a % 2; its id is a Salesforce-like record id.
const albumId = (a) => `a0Ab0000${String(a).padStart(8, '0')}`;
await client.query(
  `INSERT INTO albums (organization_id, id, images_count)
   SELECT (ARRAY[$1::uuid, $2::uuid])[a % 2 + 1], 'a0Ab0000' || lpad(a::text, 8, '0'), $3::int / 50 FROM generate_series(0, 49) a`,
  [orgs[0].id, orgs[1].id, IMAGES],
);
// 95% uploads (upload_key set), created one a minute; the newest 1% not yet reported by "upload done".
const originals = Math.round(IMAGES * 0.95);
await client.query(
  `INSERT INTO images (id, organization_id, album_id, user_id, upload_key, cloudinary_public_id, cloudinary_version, cloudinary_type,
                       infos, exifs, metadatas, gps, gps_html, taken_at, width, height, original_width, original_height,
                       filename, format, color, processed, reported_at, created_at, updated_at)
   SELECT gen_random_uuid(), (ARRAY[$1::uuid, $2::uuid])[(g % 50) % 2 + 1], 'a0Ab0000' || lpad((g % 50)::text, 8, '0'),
          (SELECT id FROM users u WHERE u.organization_id = (ARRAY[$1::uuid, $2::uuid])[(g % 50) % 2 + 1] ORDER BY id OFFSET g % 200 LIMIT 1),
          left(md5(g::text), 20) || '@1700000000', left(md5(g::text), 20), '1700000000', 'authenticated',
          json_build_object('public_id', left(md5(g::text), 20), 'version', 1700000000, 'width', 4032, 'height', 3024, 'format', 'jpg',
                            'resource_type', 'image', 'created_at', '2024-01-01T10:00:00Z', 'tags', json_build_array('a0Ab0000' || lpad((g % 50)::text, 8, '0')),
                            'bytes', 1500000 + g, 'type', 'authenticated', 'etag', md5(g::text || 'etag'), 'original_filename', 'IMG_' || g),
          '{"DateTimeOriginal":"2019:10:20 18:34:30","Make":"Apple","Model":"iPhone 7","Orientation":1}'::json, '{}'::json,
          json_build_array(38.04 + (g % 1000) / 1e5, 12.99), json_build_array(38.04 + (g % 1000) / 1e5, 12.99),
          timestamp '2019-10-20 16:34:30' + g * interval '1 second', 4032, 3024, 4032, 3024, 'IMG_' || g, 'jpg', '#7D7D7D', true,
          CASE WHEN g > $3::int - $3::int / 100 THEN NULL ELSE now() END,
          timestamp '2024-01-01' + g * interval '1 minute', timestamp '2024-01-01' + g * interval '1 minute'
   FROM generate_series(1, $3::int) g`,
  [orgs[0].id, orgs[1].id, originals],
);
// 5% duplicates of existing images (group_id = source id, no upload_key).
await client.query(
  `INSERT INTO images (id, organization_id, album_id, user_id, upload_key, cloudinary_public_id, cloudinary_version, cloudinary_type,
                       infos, exifs, metadatas, gps, gps_html, taken_at, width, height, original_width, original_height,
                       filename, format, color, processed, reported_at, group_id, created_at, updated_at)
   SELECT gen_random_uuid(), organization_id, album_id, user_id, NULL, cloudinary_public_id, cloudinary_version, cloudinary_type,
          infos, exifs, metadatas, gps, gps_html, taken_at, width, height, original_width, original_height,
          filename, format, color, processed, created_at + interval '30 seconds', id, created_at + interval '30 seconds', created_at + interval '30 seconds'
   FROM images WHERE upload_key IS NOT NULL ORDER BY created_at LIMIT $1`,
  [IMAGES - originals],
);
// Tags (migration 0012: tags + tag_images, which replaced image_tags): 200 per organization,
// test_1 and test_2 on every fifth image (linked by its uploader), the others on none.
await client.query(
  `INSERT INTO tags (id, organization_id, name, labels, color)
   SELECT gen_random_uuid(), o, t, json_build_object('en', t, 'fr', t), '#9E9E9E'
   FROM unnest(ARRAY[$1::uuid, $2::uuid]) o, unnest(ARRAY['test_1', 'test_2'] || ARRAY(SELECT 'tag_' || lpad(g::text, 3, '0') FROM generate_series(3, 200) g)) t`,
  [orgs[0].id, orgs[1].id],
);
await client.query(
  `INSERT INTO tag_images (id, organization_id, tag_id, image_id, user_id, created_at)
   SELECT gen_random_uuid(), i.organization_id, t.id, i.id, i.user_id, i.created_at
   FROM (SELECT id, organization_id, user_id, created_at, row_number() OVER (ORDER BY id) AS n FROM images) i
   JOIN tags t ON t.organization_id = i.organization_id AND t.name IN ('test_1', 'test_2')
   WHERE i.n % 5 = 0`,
);
await client.query('ANALYZE');
const loadSeconds = (performance.now() - loadStarted) / 1000;
const counts = (await client.query(`SELECT (SELECT count(*) FROM images) AS images, (SELECT count(*) FROM tag_images) AS tags, (SELECT count(*) FROM tags) AS tag_count, (SELECT count(*) FROM users) AS users, (SELECT pg_size_pretty(pg_total_relation_size('images'))) AS size`)).rows[0];

// ---------------------------------------------------------------- the queries, compiled by albumkit's repository
const recorded = [];
const recorder = new Kysely({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
  log: (event) => recorded.push({ sql: event.query.sql, parameters: [...event.query.parameters] }),
});
const ImageRepository = albumkit.repositories.images.constructor;
const repository = new ImageRepository(recorder);
async function compiled(call) {
  recorded.length = 0;
  await call(repository);
  return [...recorded];
}

const org = orgs[0].id;
const album = albumId(0);
const pick = async (sql, params) => (await client.query(sql, params)).rows;
const [cursorRow] = await pick(
  `SELECT created_at, id FROM images WHERE organization_id = $1 AND album_id = $2 ORDER BY created_at, id OFFSET 1000 LIMIT 1`,
  [org, album],
);
const syncIds = (await pick(`SELECT id FROM images WHERE organization_id = $1 ORDER BY md5(id::text) LIMIT 100`, [org])).map((r) => r.id);
const syncUsers = (await pick(`SELECT DISTINCT user_id FROM images WHERE id = ANY($1) AND user_id IS NOT NULL`, [syncIds])).map((r) => r.user_id);
const syncAlbums = Array.from({ length: 5 }, (_, i) => albumId(i * 2));
const [single] = await pick(`SELECT id, upload_key, album_id FROM images WHERE organization_id = $1 AND upload_key IS NOT NULL ORDER BY md5(id::text) LIMIT 1`, [org]);
const [duplicated] = await pick(`SELECT group_id FROM images WHERE organization_id = $1 AND group_id IS NOT NULL LIMIT 1`, [org]);

const queries = [
  {
    title: 'Album listing, first page',
    endpoint: '`GET /albums/:id/images` (no cursor): `ImageRepository.listAlbum`',
    statements: await compiled((r) => r.listAlbum(org, album, 51)),
  },
  {
    title: 'Album listing, keyset page',
    endpoint: '`GET /albums/:id/images?cursor=…` (after the 1,000th image): `ImageRepository.listAlbum`',
    statements: await compiled((r) => r.listAlbum(org, album, 51, { createdAt: cursorRow.created_at, id: cursorRow.id })),
    note: 'The cursor is a row comparison `(created_at, id) > ($3, $4)`: an index condition on `images_album_live` (the live rows of an album), so the scan starts at the cursor and reads only the page, whatever its depth.',
  },
  {
    title: 'Image sync, 100 ids (member token), none cached',
    note: 'The 100 images come through `images_pkey` (`id = ANY(...)`, organization as a filter); each uploader\'s `sfid` is a primary-key look-up in `users` (a subquery, not a join over the whole table); `tagNames` finds the links through `tag_images_image` (image_id) and each tag\'s name through `tags_pkey`.',
    endpoint: '`GET /image_syncs?ids[]=…` when the images are not in the image cache: `ImageRepository.findForSync` and `tagNames`, at once',
    statements: [
      ...(await compiled((r) => r.findForSync(org, syncIds))),
      ...(await compiled((r) => r.tagNames(syncIds))),
    ],
  },
  {
    title: 'Image sync, 100 ids, all cached',
    note: 'Cached images are not read again: only their tags and their uploaders\' `sfid`. The `users` look-up is `id IN (…)` on the primary key; with only 400 users here (a few pages) the planner reads the table whole instead, which is cheaper at this size.',
    endpoint: '`GET /image_syncs?ids[]=…` when the images are in the image cache: `tagNames` and `userSfids`, at once',
    statements: [...(await compiled((r) => r.tagNames(syncIds))), ...(await compiled((r) => r.userSfids(org, syncUsers)))],
  },
  {
    title: 'Image sync, 100 ids restricted to 5 albums (integrator token with abilities)',
    note: 'Same plan as the member form, the album list being one more filter on the 100 rows.',
    endpoint: '`GET /image_syncs?ids[]=…`: `ImageRepository.findForSync` with albums',
    statements: await compiled((r) => r.findForSync(org, syncIds, syncAlbums)),
  },
  {
    title: 'Duplicate (one statement: read the source, copy it, count it)',
    endpoint: '`POST /images/:id/duplicate`: `ImageRepository.insertDuplicate` (writes: run in a rolled-back transaction)',
    write: true,
    statements: await compiled((r) => r.insertDuplicate(org, single.id, { id: randomUUID(), at: new Date() }, [single.album_id])),
    note: 'The source is one row by primary key (`images_pkey`); the count is one row of `album_image_counts_pkey`.',
  },
  {
    title: '`GET /images/:id` when the image is not cached',
    endpoint: '`GET /images/:id` (a cache miss): `ImageRepository.find`',
    statements: await compiled((r) => r.find(org, single.id)),
    note: 'One row by primary key (`images_pkey`), organization checked as a filter on it.',
  },
  {
    title: 'Duplicates of an image (group_id)',
    endpoint: 'no repository method queries `group_id` yet; this is the lookup the `images_group_id` index is for, written by hand',
    statements: [{ sql: 'select * from "images" where "organization_id" = $1 and "group_id" = $2', parameters: [org, duplicated.group_id] }],
    note: 'The partial index `images_group_id` (where group_id is not null) finds the copies of an image directly.',
  },
  {
    title: 'Upload done: take the unreported images',
    endpoint: '`POST /albums/:id/upload_done`: `ImageRepository.takeUnreported` (an UPDATE: run in a rolled-back transaction)',
    write: true,
    statements: await compiled((r) => r.takeUnreported(org, album)),
    note: 'The partial index `images_unreported` (where reported_at is null) holds only the images not yet reported, so the update touches just those rows.',
  },
  {
    title: 'Get by upload key',
    endpoint: '`POST /albums/:id/images` and notifications when the upload exists already: `ImageRepository.findByUploadKey`',
    statements: await compiled((r) => r.findByUploadKey(org, single.upload_key)),
    note: 'The unique partial index `images_upload_key` on (organization_id, upload_key) answers it with one index probe.',
  },
];

for (const query of queries) {
  query.plans = [];
  for (const statement of query.statements) {
    // Once to warm the cache (as on a running server), then the plan that is reported.
    if (query.write) await client.query('BEGIN');
    await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`, statement.parameters);
    if (query.write) await client.query('ROLLBACK');
    if (query.write) await client.query('BEGIN');
    const rows = (await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`, statement.parameters)).rows;
    if (query.write) await client.query('ROLLBACK');
    const text = rows.map((r) => r['QUERY PLAN']).join('\n');
    query.plans.push({
      sql: statement.sql,
      parameters: statement.parameters,
      text,
      executionMs: Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1]),
      planningMs: Number(/Planning Time: ([\d.]+) ms/.exec(text)?.[1]),
      indexes: [...new Set([...text.matchAll(/(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\w+)(?: on (\w+))?/g)].map((m) => `${m[1]} on \`${m[2]}\``))],
      seqScans: [...new Set([...text.matchAll(/Seq Scan on (\w+)/g)].map((m) => m[1]))],
    });
  }
}

await client.end();
await albumkit.close();
await tempDatabase.drop();

// ---------------------------------------------------------------- reports
const describe = (plan) => {
  const uses = plan.indexes.length ? `uses ${plan.indexes.join(', ')}` : 'uses no index';
  const seq = plan.seqScans.length ? `; **sequential scan on ${plan.seqScans.map((t) => `\`${t}\``).join(', ')}**` : '';
  return `${uses}${seq}`;
};
/** Plans print the 100 ids of an `= ANY(...)` in full: keep the first two. */
const shortPlan = (text) => text.replace(/'\{([0-9a-f-]{36}),([0-9a-f-]{36}),[0-9a-f,-]+\}'/g, (_, a, b) => `'{${a},${b},…}'`);
const shortSql = (sql) => (sql.length > 400 ? `${sql.slice(0, 400)}…` : sql);
const paramText = (ps) =>
  ps.map((p) => (p instanceof Date ? p.toISOString() : Array.isArray(p) ? `[${p.length} values]` : String(p))).join(', ');
const seqAll = queries.flatMap((q) => q.plans.flatMap((p) => p.seqScans.map((t) => `${q.title}: \`${t}\``)));

const summary = table(
  ['query', 'statement', 'execution ms', 'planning ms', 'index used', 'sequential scan'],
  queries.flatMap((q) =>
    q.plans.map((p, i) => [q.title, String(i + 1), p.executionMs.toFixed(3), p.planningMs.toFixed(3), p.indexes.join(', ') || '—', p.seqScans.length ? `**yes: ${p.seqScans.join(', ')}**` : 'no']),
  ),
);
const data = `${Number(counts.images).toLocaleString('en-US')} images (${counts.size} with indexes) in ${ALBUMS} albums of 2 organizations (${(Number(counts.images) / ALBUMS).toLocaleString('en-US')} per album), 5% of them duplicates, 1% not yet reported by "upload done"; ${Number(counts.users)} users; ${Number(counts.tags).toLocaleString('en-US')} tag links (tag_images) to 2 of the ${Number(counts.tag_count) / 2} tags of each organization; ANALYZE after loading (${loadSeconds.toFixed(1)} s)`;

const doc = `# Query plans

What PostgreSQL does for the image queries behind albumkit's hot endpoints, on a database of
${data}.

Produced by \`node bench/queries.bench.mjs\` (${machineLine()}); rerun it after changing a
query or an index, and this file is rewritten (but for its last section, Search, which
\`node bench/search.bench.mjs\` writes on 1,000,000 images). The SQL below is the real SQL: albumkit's
\`ImageRepository\` compiles it, and \`EXPLAIN (ANALYZE, BUFFERS)\` runs it with the parameters
shown (writes inside a transaction that is rolled back). Each plan is the second run, with the
cache warm as on a running server.

Sequential scans: ${seqAll.length ? `**${seqAll.join('; ')}**` : 'none.'}

${summary}

${queries
  .map(
    (q) => `## ${q.title}

${q.endpoint}.${q.note ? ` ${q.note}` : ''}

${q.plans
  .map(
    (p, i) => `${q.plans.length > 1 ? `Statement ${i + 1}: ` : ''}${describe(p)}; executes in ${p.executionMs.toFixed(3)} ms.

\`\`\`sql
${shortSql(p.sql)}
-- parameters: ${paramText(p.parameters)}
\`\`\`

\`\`\`
${shortPlan(p.text)}
\`\`\``,
  )
  .join('\n\n')}`,
  )
  .join('\n\n')}
`;
mkdirSync(new URL('../docs/', import.meta.url), { recursive: true });
// The search section is bench/search.bench.mjs's (between its markers): kept as it is.
const docUrl = new URL('../docs/QUERIES.md', import.meta.url);
const searchBlock = existsSync(docUrl) ? /<!-- search\.bench\.mjs: begin -->[\s\S]*?<!-- search\.bench\.mjs: end -->\n?/.exec(readFileSync(docUrl, 'utf8'))?.[0] : undefined;
writeFileSync(docUrl, searchBlock ? `${doc.trimEnd()}\n\n${searchBlock}` : doc);

const report = `## Query plans (100,000 images)

${machineLine()}. ${data}. \`EXPLAIN (ANALYZE, BUFFERS)\` of the SQL albumkit's repository compiles, warm cache;
full plans in docs/QUERIES.md. Sequential scans: ${seqAll.length ? `**${seqAll.join('; ')}**` : 'none'}.

${summary}
`;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/queries.md', import.meta.url), report);
console.log(report);
process.exit(0);
