import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createAlbumkit } from '@albumkit/core';
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' }); await admin.connect();
const name = 'prof_' + randomBytes(4).toString('hex'); await admin.query(`CREATE DATABASE ${name}`);
const albumkit = await createAlbumkit({ secret: 'bench-secret-0123456789abcdef', databaseUrl: `postgres://postgres@127.0.0.1:5432/${name}`, cloudinary: { cloudName: 'sadaasdasd', apiKey: '123123123123', apiSecret: 's' }, publicUrl: 'https://localhost:5001/api/v1', logger: { error: console.error, warn() {} } });
const org = await albumkit.setup.createOrganization('Bench');
const user = await albumkit.setup.createUser(org.id, { sfid: '005000000000001AAA' });
const ids = [];
for (let i = 0; i < 100; i++) {
  const { image } = await albumkit.images.createFromUpload({ organizationId: org.id, userId: user.id }, 'ALBUM1', { public_id: 'p' + randomBytes(8).toString('hex'), version: 1484586860, width: 295, height: 171, format: 'jpg', bytes: 10668, type: 'authenticated', tags: ['ALBUM1'], created_at: '2017-01-16T17:14:20Z', etag: 'acf8af3e54c78cbf24a53a93c93bab43', original_filename: 'bench', location: { latitude: 1, longitude: 2 }, image_metadata: { DateTimeOriginal: '2018:01:01 08:00:00', Make: 'Canon', Model: 'EOS' } }, { source: 'bench' }, { verifySignature: false });
  ids.push(image.id);
}
const token = await albumkit.issueToken(user.id, {});
const query = ids.map((id) => `ids[]=${id}`).join('&');
const req = { method: 'GET', path: `/api/v1/image_syncs?${query}`, headers: { authorization: `Token token="${token}"` } };
for (let i = 0; i < 100; i++) await albumkit.handle(req);
const t = []; for (let i = 0; i < 300; i++) { const s = performance.now(); const r = await albumkit.handle(req); t.push(performance.now() - s); if (r.status !== 200) throw new Error(r.body); }
t.sort((a, b) => a - b); console.log('syncs 100 p50', t[150].toFixed(2), 'ms');
const auth = await albumkit.tokens.authenticate(token);


const ser = albumkit.serializers.image;

const r1 = albumkit.repositories.images;
const a1 = []; for (let i = 0; i < 300; i++) { const s = performance.now(); await r1.findForSync(org.id, ids); a1.push(performance.now() - s); } a1.sort((a, b) => a - b); console.log('findForSync p50', a1[150].toFixed(2));
const a2 = []; for (let i = 0; i < 300; i++) { const s = performance.now(); await r1.tagNames(ids); a2.push(performance.now() - s); } a2.sort((a, b) => a - b); console.log('tagNames p50', a2[150].toFixed(2));
await albumkit.close(); await admin.query(`DROP DATABASE ${name} WITH (FORCE)`); await admin.end();
