import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { apiSignature, createAlbumkit, migrateToLatest } from '/work/main/packages/core/dist/index.js';
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
const name = 'prof_' + randomBytes(4).toString('hex'); await admin.query(`CREATE DATABASE ${name}`);
const url = `postgres://postgres@127.0.0.1:5432/${name}`;
let log = [];
const pool = new pg.Pool({ connectionString: url, max: 10 });
const db = new Kysely({ dialect: new PostgresDialect({ pool }), log: (e) => { stmt.push(e.queryDurationMillis); if (TRACE) log.push(`${e.queryDurationMillis.toFixed(2)} ms ${e.query.sql.slice(0, 90)}`); } });
let TRACE = false; const stmt = [];
await migrateToLatest(db);
const apiSecret = 'bench-cloudinary-secret';
const albumkit = await createAlbumkit({ secret: 'bench-secret-0123456789abcdef', database: { db, dialect: 'postgres', close: async () => {} }, migrate: false, cloudinary: { cloudName: 'sadaasdasd', apiKey: '123123123123', apiSecret }, publicUrl: 'https://localhost:5001/api/v1', logger: { error: console.error, warn() {} } });
const org = await albumkit.setup.createOrganization('Bench');
const user = await albumkit.setup.createUser(org.id, { sfid: '005000000000001AAA' });
const ALBUM = '00100000123BB146';
const token = await albumkit.issueToken(user.id, { [ALBUM]: { Access: { image_upload: true, image_duplicate: true, image_list: true } } });
const form = (pid) => `cloudinary[public_id]=${pid}&cloudinary[version]=1484586860&cloudinary[signature]=${apiSignature({ public_id: pid, version: '1484586860' }, apiSecret)}&cloudinary[width]=295&cloudinary[height]=171&cloudinary[format]=jpg&cloudinary[resource_type]=image&cloudinary[created_at]=2017-01-16T17%3A14%3A20Z&cloudinary[tags][]=${ALBUM}&cloudinary[bytes]=10668&cloudinary[type]=authenticated&cloudinary[etag]=acf8af3e54c78cbf24a53a93c93bab43&cloudinary[original_filename]=bench`;
const up = () => albumkit.handle({ method: 'POST', path: `/api/v1/albums/${ALBUM}/images`, headers: { authorization: `Token token="${token}"`, 'content-type': 'application/x-www-form-urlencoded' }, rawBody: form('p' + randomBytes(6).toString('hex')) });
let last;
for (let i = 0; i < 200; i++) last = await up();
if (last.status !== 200) console.log(last.status, last.body);
const times = [];
for (let i = 0; i < 300; i++) { const s = performance.now(); const r = await up(); times.push(performance.now() - s); last = r; }
times.sort((a, b) => a - b); console.log('upload p50', times[150].toFixed(2), 'ms'); const st = stmt.slice(-300).sort((a,b)=>a-b); console.log('statement p50', st[150].toFixed(2));
const id = JSON.parse(last.body).id;
const dup = () => albumkit.handle({ method: 'POST', path: `/api/v1/images/${id}/duplicate`, headers: { authorization: `Token token="${token}"` } });
const dt = []; for (let i = 0; i < 300; i++) { const s = performance.now(); await dup(); dt.push(performance.now() - s); }
{ const st = stmt.slice(-300).sort((a,b)=>a-b); console.log('dup statement p50', st[150].toFixed(2)); }
const sel = []; for (let i = 0; i < 300; i++) { const s = performance.now(); await pool.query('select 1'); sel.push(performance.now() - s); } sel.sort((a,b)=>a-b); console.log('select 1 p50', sel[150].toFixed(2));
const ins = []; await pool.query('create table t (id serial primary key, v text)'); for (let i = 0; i < 300; i++) { const s = performance.now(); await pool.query('insert into t (v) values ($1)', ['x']); ins.push(performance.now() - s); } ins.sort((a,b)=>a-b); console.log('autocommit insert p50', ins[150].toFixed(2));
dt.sort((a, b) => a - b); console.log('duplicate p50', dt[150].toFixed(2), 'ms');
TRACE = true; log = [];
let s = performance.now(); await up(); console.log('traced upload', (performance.now() - s).toFixed(2)); console.log(log.join('\n'));
log = []; s = performance.now(); await dup(); console.log('traced dup', (performance.now() - s).toFixed(2)); console.log(log.join('\n'));

{ let captured; const spy = new Kysely({ dialect: new PostgresDialect({ pool }), log: (e) => { if (/^with "album"/.test(e.query.sql)) captured = e.query; } });
  const repo = new (albumkit.repositories.images.constructor)(spy);
  const { randomUUID } = await import('node:crypto');
  const pid = 'x' + randomBytes(6).toString('hex');
  const mk = () => ({ id: randomUUID(), organization_id: org.id, album_id: ALBUM, user_id: user.id, upload_key: pid + Math.random(), cloudinary_public_id: pid, cloudinary_version: '1', cloudinary_type: 'authenticated', infos: '{"a":1}', exifs: '{}', metadatas: '{}', gps: null, gps_html: null, gps_exifs: null, gps_ip: null, taken_at: null, width: 1, height: 1, original_width: 1, original_height: 1, filename: 'f', format: 'jpg', title: null, description: null, group_id: null, processing_error: null, reported_at: null });
  const first = mk(); const ev = randomUUID();
  await repo.insertUpload(first, [{ id: ev, type: 'new_image', payload: '{}' }]);
  for (let i = 0; i < 3; i++) { const img = mk(); const ev2 = randomUUID(); const params = captured.parameters.map((p) => p === first.id ? img.id : p === first.upload_key ? img.upload_key : p === ev ? ev2 : p);
    const r = await pool.query('explain (analyze, buffers, timing off, summary on) ' + captured.sql, params); console.log(r.rows.map(x => x['QUERY PLAN']).filter(l => /Time|Trigger/.test(l)).join('\n')); }
}
await albumkit.close(); await db.destroy(); await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end();
