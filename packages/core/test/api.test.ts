import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signNotification } from '../src/cloudinary/signing.js';
import type { InProcessJobs } from '../src/jobs/in-process.js';
import { authorization, createTestApp, DIALECTS, TEST_CONFIG, type TestApp } from './support/app.js';
import { access, createTenant, uploadResult, type Tenant } from './support/fixtures.js';

const ALL = access('see', 'image_list', 'image_upload', 'image_duplicate');

describe.each(DIALECTS)('the album/image API on %s', (dialect) => {
  let app: TestApp;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    tenant = await createTenant(app);
    token = await tenant.userToken({ A: ALL, B: ALL, C: ALL, D: ALL, E: ALL, M: ALL, N: ALL });
  });
  afterAll(() => app?.close());

  const postImage = (album: string, body: string, contentType = 'application/json') =>
    app.request({ method: 'POST', path: `/api/v1/albums/${album}/images`, headers: { ...authorization(token), 'Content-Type': contentType }, rawBody: body });
  const getAlbum = (album: string) => app.request({ method: 'GET', path: `/api/v1/albums/${album}`, headers: authorization(token) });

  describe('creating images', () => {
    it('keeps JSON types in infos and reads taken_at and the browser location', async () => {
      const upload = uploadResult({
        image_metadata: { DateTimeOriginal: '2019:10:20 18:34:30', SubSecTimeOriginal: '130', OffsetTimeOriginal: '+02:00' },
        location: { latitude: -33.8688, longitude: 151.2093, accuracy: 20 },
      });
      const response = await postImage('A', JSON.stringify({ cloudinary: upload, album_id: 'A', metadatas: { source: 'test', n: 1 } }));
      expect(response.status).toBe(200);
      expect(response.json.infos).toEqual(upload);
      expect(Object.keys(response.json.infos)).toEqual(Object.keys(upload));
      expect(response.json.taken_at).toBe('2019-10-20T16:34:30.130+00:00');
      expect(response.json.gps_html).toEqual([-33.8688, 151.2093]);
      expect(response.json.gps).toEqual([-33.8688, 151.2093]);
      expect(response.json.metadatas).toEqual({ source: 'test', n: 1 });
      expect(response.json.size).toBe(12345);
      expect(response.json.width).toBe(640);
      expect(response.json.processed).toBe(false);
      expect(response.json.thumbnails.large).toMatch(/^\/assets\/blank\.jpg#https:\/\/res\.cloudinary\.com\/sadaasdasd\/image\/authenticated\/s--/);
    });

    it('reads Rails-style nested form keys, keeping strings as strings', async () => {
      const upload = uploadResult();
      const form = [
        ...Object.entries(upload).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => `cloudinary[${k}][]=${x}`) : [`cloudinary[${k}]=${encodeURIComponent(String(v))}`])),
        'cloudinary[coordinates][faces][]=',
        'metadatas[a][b]=c',
      ].join('&');
      const response = await postImage('A', form, 'application/x-www-form-urlencoded');
      expect(response.status).toBe(200);
      expect(response.json.infos.version).toBe(String(upload.version));
      expect(response.json.infos.coordinates).toEqual({ faces: [''] });
      expect(response.json.width).toBe(640);
      expect(response.json.metadatas).toEqual({ a: { b: 'c' } });
    });

    it('posting the same upload twice, or many times at once, gives one image', async () => {
      const body = JSON.stringify({ cloudinary: uploadResult() });
      const first = await postImage('B', body);
      const again = await postImage('B', body);
      expect(again.json.id).toBe(first.json.id);
      const racing = await Promise.all(Array.from({ length: 10 }, () => postImage('B', JSON.stringify({ cloudinary: uploadResult({ public_id: 'raced' }) }))));
      expect(new Set(racing.map((r) => r.json.id)).size).toBe(1);
      expect((await getAlbum('B')).json.images_count).toBe(2);
    });

    it.each([
      ['no cloudinary result', '{}', 400],
      ['a bad public_id', JSON.stringify({ cloudinary: uploadResult({ public_id: '../x' }) }), 400],
      ['a forged upload signature', JSON.stringify({ cloudinary: { ...uploadResult(), signature: '0'.repeat(40) } }), 400],
      ['no upload signature', JSON.stringify({ cloudinary: { ...uploadResult(), signature: undefined } }), 400],
      ['a non-integer width', JSON.stringify({ cloudinary: uploadResult({ width: 'wide' }) }), 400],
      ['metadatas that are not an object', JSON.stringify({ cloudinary: uploadResult(), metadatas: 'x' }), 400],
      ['invalid JSON', '{"cloudinary":', 400],
      ['a JSON array', '[1,2]', 400],
      ['JSON nested too deep', `{"cloudinary":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`, 400],
      ['a JSON array too long', JSON.stringify({ cloudinary: uploadResult({ tags: Array(5000).fill('t') }) }), 400],
      ['a body over 1 MB', JSON.stringify({ cloudinary: uploadResult({ big: 'x'.repeat(1_100_000) }) }), 413],
    ])('refuses %s with a clear 4xx', async (_name, body, status) => {
      const countBefore = (await getAlbum('C')).json.images_count;
      const response = await postImage('C', body);
      expect(response.status).toBe(status);
      expect(response.json.error).toEqual(expect.any(String));
      expect(response.json.message).toEqual(expect.any(String));
      expect((await getAlbum('C')).json.images_count).toBe(countBefore);
    });

    it('refuses too many form parameters, too deep form keys and unknown content types', async () => {
      expect((await postImage('C', Array.from({ length: 10_001 }, (_, i) => `k${i}=v`).join('&'), 'application/x-www-form-urlencoded')).status).toBe(400);
      expect((await postImage('C', `cloudinary${'[a]'.repeat(30)}=1`, 'application/x-www-form-urlencoded')).status).toBe(400);
      expect((await postImage('C', 'xx', 'text/plain')).status).toBe(415);
    });
  });

  describe('reading', () => {
    it('lists an album by pages, with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await postImage('D', JSON.stringify({ cloudinary: uploadResult() }))).json.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const response = await app.request({
          method: 'GET',
          path: `/api/v1/albums/D/images?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
          headers: authorization(token),
        });
        expect(response.status).toBe(200);
        seen.push(...response.json.map((i: { id: string }) => i.id));
        cursor = response.headers['X-Next-Cursor'];
        if (!cursor) break;
      }
      expect(seen).toEqual(ids);
      expect((await app.request({ method: 'GET', path: '/api/v1/albums/D/images?limit=0', headers: authorization(token) })).status).toBe(400);
      expect((await app.request({ method: 'GET', path: '/api/v1/albums/D/images?limit=5000', headers: authorization(token) })).status).toBe(400);
      expect((await app.request({ method: 'GET', path: '/api/v1/albums/D/images?cursor=bogus', headers: authorization(token) })).status).toBe(400);
    });

    it('syncs only known ids, in the order asked, and caps their number', async () => {
      const a = (await postImage('E', JSON.stringify({ cloudinary: uploadResult() }))).json.id;
      const b = (await postImage('E', JSON.stringify({ cloudinary: uploadResult() }))).json.id;
      await app.albumkit.repositories.images.addTags(b, ['zeta', 'alpha']);
      const query = [b, '00000000-0000-4000-8000-000000000000', 'not-a-uuid', a].map((id) => `ids[]=${id}`).join('&');
      const response = await app.request({ method: 'GET', path: `/api/v1/image_syncs?${query}`, headers: authorization(token) });
      expect(response.json.map((i: { id: string }) => i.id)).toEqual([b, a]);
      expect(response.json[0].tag_names).toEqual(['alpha', 'zeta']);
      expect(response.json[0].user_sfid).toBe(tenant.user.sfid);
      const tooMany = Array.from({ length: 501 }, () => `ids[]=${a}`).join('&');
      expect((await app.request({ method: 'GET', path: `/api/v1/image_syncs?${tooMany}`, headers: authorization(token) })).status).toBe(400);
    });

    it('duplicates an image into a new one grouped with its source', async () => {
      const source = (await postImage('E', JSON.stringify({ cloudinary: uploadResult(), metadatas: { k: 'v' } }))).json;
      const response = await app.request({ method: 'POST', path: `/api/v1/images/${source.id}/duplicate`, headers: authorization(token) });
      expect(response.status).toBe(200);
      expect(response.json.id).not.toBe(source.id);
      expect(response.json.group_id).toBe(source.id);
      expect(response.json.infos).toEqual(source.infos);
      expect(response.json.original_url).toBe(source.original_url);
      expect(response.json.metadatas).toEqual({ k: 'v' });
      expect(response.json.album_id).toBe('E');
      expect(response.json.processed).toBe(source.processed);
    });

    it('counts a duplicate in its album, and refuses one without image_duplicate on that album', async () => {
      const source = (await postImage('E', JSON.stringify({ cloudinary: uploadResult() }))).json;
      const before = (await getAlbum('E')).json.images_count;
      const duplicate = (as: string) => app.request({ method: 'POST', path: `/api/v1/images/${source.id}/duplicate`, headers: authorization(as) });
      expect((await duplicate(token)).status).toBe(200);
      expect((await getAlbum('E')).json.images_count).toBe(before + 1);
      const elsewhere = await tenant.userToken({ A: access('image_duplicate'), E: access('image_list') });
      const refused = await duplicate(elsewhere);
      expect(refused.status).toBe(401);
      expect(refused.headers['X-message']).toBe('Access denied');
      expect((await duplicate(await tenant.userToken({}, { admin: true }))).status).toBe(200);
      expect((await getAlbum('E')).json.images_count).toBe(before + 2);
      // Ability keys that cannot be album ids are ignored, not sent to the database.
      const odd = await tenant.userToken({ 'bad\u0000key': access('image_duplicate'), [`${'x'.repeat(300)}`]: access('image_duplicate') });
      expect((await duplicate(odd)).status).toBe(401);
      const unknown = await app.request({ method: 'POST', path: '/api/v1/images/00000000-0000-4000-8000-000000000000/duplicate', headers: authorization(token) });
      expect(unknown.status).toBe(404);
    });

    it('gives every response a request id: the caller\'s when sane, else a fresh UUID-shaped one', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 200; i++) {
        const id = (await app.request({ method: 'GET', path: '/api/v1/nope', headers: authorization(token) })).headers['X-Request-Id']!;
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        ids.add(id);
      }
      expect(ids.size).toBe(200);
      const given = await app.request({ method: 'GET', path: '/api/v1/nope', headers: { ...authorization(token), 'X-Request-Id': 'abc-123' } });
      expect(given.headers['X-Request-Id']).toBe('abc-123');
      const insane = await app.request({ method: 'GET', path: '/api/v1/nope', headers: { ...authorization(token), 'X-Request-Id': 'a b<script>' } });
      expect(insane.headers['X-Request-Id']).not.toContain('<');
    });

    it('answers unknown routes with 404, wrong methods with 405, unknown images with 404', async () => {
      expect((await app.request({ method: 'GET', path: '/api/v1/nope', headers: authorization(token) })).status).toBe(404);
      expect((await app.request({ method: 'DELETE', path: '/api/v1/albums', headers: authorization(token) })).status).toBe(405);
      expect((await app.request({ method: 'GET', path: '/api/v1/images/00000000-0000-4000-8000-000000000000', headers: authorization(token) })).status).toBe(404);
      expect((await app.request({ method: 'GET', path: '/api/v1/albums/%E0%A4%A', headers: authorization(token) })).status).toBe(400);
      expect((await app.request({ method: 'GET', path: `/api/v1/albums/${'x'.repeat(300)}`, headers: authorization(token) })).status).toBe(400);
    });
  });

  describe('upload done', () => {
    it('emits one event per 50 images uploaded since the previous one', async () => {
      const received: unknown[] = [];
      const stop = app.albumkit.on('upload_done', (event) => void received.push(event));
      const album = 'F';
      const t = await tenant.userToken({ [album]: ALL });
      const ids: string[] = [];
      for (let i = 0; i < 120; i++) {
        const r = await app.request({
          method: 'POST',
          path: `/api/v1/albums/${album}/images`,
          headers: { ...authorization(t), 'Content-Type': 'application/json' },
          rawBody: JSON.stringify({ cloudinary: uploadResult() }),
        });
        ids.push(r.json.id);
      }
      const done = await app.request({
        method: 'POST',
        path: `/api/v1/albums/${album}/upload_done`,
        headers: { ...authorization(t), 'Content-Type': 'application/x-www-form-urlencoded' },
        rawBody: 'platform=ios',
      });
      expect(done.status).toBe(200);
      expect(done.json.images_count).toBe(120);
      expect(received).toEqual([
        { count: 50, platform: 'ios', album_id: album, image_ids: ids.slice(0, 50), organization_id: tenant.organization.id },
        { count: 50, platform: 'ios', album_id: album, image_ids: ids.slice(50, 100), organization_id: tenant.organization.id },
        { count: 20, platform: 'ios', album_id: album, image_ids: ids.slice(100), organization_id: tenant.organization.id },
      ]);
      await app.request({ method: 'POST', path: `/api/v1/albums/${album}/upload_done`, headers: authorization(t) });
      expect(received.at(-1)).toMatchObject({ count: 0, image_ids: [], platform: 'web' });
      const recorded = await app.albumkit.repositories.events.list(tenant.organization.id, album);
      const uploadDone = recorded.filter((e) => e.type === 'upload_done');
      expect(uploadDone.map((e) => (e.payload as { count: number }).count)).toEqual([50, 50, 20, 0]);
      expect(recorded.filter((e) => e.type === 'new_image')).toHaveLength(120);
      stop();
    });
  });

  describe('Cloudinary notifications', () => {
    async function notificationUrl(album: string): Promise<string> {
      return (await getAlbum(album)).json.upload_form.params.notification_url;
    }
    const notify = (url: string, body: string, headers: Record<string, string> = signNotification(body, TEST_CONFIG.cloudinary.apiSecret)) => {
      const u = new URL(url);
      return app.request({ method: 'POST', path: u.pathname + u.search, headers: { 'Content-Type': 'application/json', ...headers }, rawBody: Buffer.from(body) });
    };
    const drain = () => (app.albumkit.jobs as InProcessJobs).drain();

    it('accepts a signed notification at once and creates the image once, however often it arrives', async () => {
      const url = await notificationUrl('N');
      const body = JSON.stringify({ notification_type: 'upload', ...uploadResult({ public_id: 'notified' }) });
      for (let i = 0; i < 5; i++) {
        const response = await notify(url, body);
        expect(response.status).toBe(201);
        expect(response.body).toBe('');
      }
      await drain();
      // The client posting the same upload gets that same image.
      const posted = await postImage('N', JSON.stringify({ cloudinary: uploadResult({ public_id: 'notified' }) }));
      const album = await getAlbum('N');
      expect(album.json.images_count).toBe(1);
      const list = await app.request({ method: 'GET', path: '/api/v1/albums/N/images', headers: authorization(token) });
      expect(list.json.map((i: { id: string }) => i.id)).toEqual([posted.json.id]);
    });

    it('refuses forged, altered, stale and unsigned notifications, and changes nothing', async () => {
      const url = await notificationUrl('M');
      const body = JSON.stringify(uploadResult({ public_id: 'forged' }));
      const signed = signNotification(body, TEST_CONFIG.cloudinary.apiSecret);
      const cases = [
        notify(url, body.replace('forged', 'altered'), signed),
        notify(url, body, signNotification(body, 'not-our-secret')),
        notify(url, body, signNotification(body, TEST_CONFIG.cloudinary.apiSecret, Math.floor(Date.now() / 1000) - 3 * 3600)),
        notify(url, body, {}),
        notify(url.replace(/token=.*/, 'token='), body),
        notify(url.replace(/token=.*/, `token=${token}`), body),
        notify(url.replace(/token=.*/, 'token=garbage'), body),
      ];
      for (const response of await Promise.all(cases)) {
        expect(response.status).toBe(401);
        expect(response.body).toBe('');
      }
      await drain();
      expect((await getAlbum('M')).json.images_count).toBe(0);
    });

    it('needs the raw body to check the signature', async () => {
      const url = new URL(await notificationUrl('M'));
      const response = await app.request({ method: 'POST', path: url.pathname + url.search, headers: {}, body: { public_id: 'x' } });
      expect(response.status).toBe(400);
    });
  });
});
