import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signNotification } from '../src/cloudinary/signing.js';
import { authorization, createTestApp, DIALECTS, TEST_CONFIG, type TestApp } from './support/app.js';
import { access, createTenant, postUpload, signToken, uploadResult, type Tenant } from './support/fixtures.js';

/**
 * Upload rights hold on every path: the upload form (and the notification token inside it) is
 * an upload right, re-checked when Cloudinary's notification arrives, and an upload result is
 * bound to the organization and album whose form made it.
 */
const RECORDS = new URL('./records/', import.meta.url);
const record = (name: string) => JSON.parse(readFileSync(new URL(name, RECORDS), 'utf8')).requests[0];

describe.each(DIALECTS)('upload rights on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app);
    other = await createTenant(app);
  });
  afterAll(() => app?.close());

  const getAlbum = (album: string, token: string) => app.request({ method: 'GET', path: `/api/v1/albums/${album}`, headers: authorization(token) });

  const notify = (path: string, upload: Record<string, unknown>) => {
    const body = JSON.stringify({ notification_type: 'upload', ...upload });
    return app.request({ method: 'POST', path, headers: { 'Content-Type': 'application/json', ...signNotification(body, TEST_CONFIG.cloudinary.apiSecret) }, rawBody: body });
  };

  async function notificationPath(token: string, album: string): Promise<string> {
    const response = await getAlbum(album, token);
    expect(response.status).toBe(200);
    const url = new URL(response.json.upload_form.params.notification_url);
    return url.pathname + url.search;
  }

  const imagesOf = (upload: Record<string, unknown>) =>
    app.albumkit.database.db.selectFrom('images').selectAll().where('upload_key', '=', `${upload.public_id}@${upload.version}`).execute();

  /** Waits until the in-process notification job has handled what was recorded. */
  async function settled(upload: Record<string, unknown>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const pending = await app.albumkit.database.db
        .selectFrom('notifications')
        .select('done_at')
        .where('upload_key', '=', `${upload.public_id}@${upload.version}`)
        .execute();
      if (pending.every((n) => n.done_at !== null) && (await imagesOf(upload)).length > 0) return;
      await sleep(25);
    }
  }

  describe('the upload form', () => {
    it('is given to those who may upload there, and to no one else (null, as the record shows)', async () => {
      const cases: Array<[string, Promise<string>, boolean]> = [
        ['integrator with see', acme.integratorToken({ abilities: { F1: access('see') } }), false],
        ['integrator with image_list', acme.integratorToken({ abilities: { F1: access('image_list') } }), false],
        ['member naming the album with see', acme.userToken({ F1: access('see') }), false],
        ['member naming the album with image_list', acme.userToken({ F1: access('image_list') }), false],
        ['integrator with image_upload', acme.integratorToken({ abilities: { F1: access('image_upload') } }), true],
        ['member naming the album with image_upload', acme.userToken({ F1: access('image_upload') }), true],
        ['member, album not named (recorded defaults)', acme.userToken(), true],
        ['admin', acme.integratorToken({ admin: true }), true],
      ];
      for (const [who, token, gets] of cases) {
        const response = await getAlbum('F1', await token);
        expect(response.status, who).toBe(200);
        if (gets) expect(response.json.upload_form?.params?.notification_url, who).toMatch(/\/cloudinary\?token=/);
        else expect(response.json.upload_form, who).toBeNull();
        expect(response.headers['X-access-image_upload'], who).toBe(String(gets));
      }
    });

    it('holds a notification token that lives until the form expires plus the notification grace, no longer', async () => {
      const response = await getAlbum('F2', await acme.userToken({ F2: access('image_upload') }));
      const form = response.json.upload_form;
      const claims = decodeJwt(new URL(form.params.notification_url).searchParams.get('token')!);
      expect(claims.exp).toBe(form.expires_at + app.albumkit.config.notificationTokenGraceSeconds);
      expect(claims).toMatchObject({ user_id: acme.user.id, album_id: 'F2', organization_id: acme.organization.id });
    });
  });

  describe('notifications', () => {
    it('answers 201 with the renewed notification token as X-token, and text/html, as recorded', async () => {
      const path = await notificationPath(await acme.userToken({ N1: access('image_upload') }), 'N1');
      const response = await notify(path, uploadResult());
      expect(response.status).toBe(201);
      expect(response.headers['Content-Type']).toBe(record('cloudinary__post_an_image.json').response_headers['Content-Type']);
      const given = decodeJwt(new URL(path, 'http://x').searchParams.get('token')!);
      const renewed = decodeJwt(response.headers['X-token']!);
      expect(renewed).toMatchObject({ user_id: given.user_id, album_id: 'N1', organization_id: acme.organization.id });
      expect(renewed.exp! - renewed.iat!).toBe(4 * 3600);
    });

    it('creates nothing once the integrator secret it was issued for is revoked', async () => {
      const tenant = await createTenant(app);
      const path = await notificationPath(await tenant.integratorToken({ abilities: { N2: access('image_upload') } }), 'N2');
      const before = uploadResult();
      expect((await notify(path, before)).status).toBe(201);
      await settled(before);
      expect(await imagesOf(before)).toHaveLength(1);
      expect(await app.albumkit.setup.revokeSecret(tenant.secretId)).toBe(true);
      const after = uploadResult();
      const response = await notify(path, after);
      expect(response.status).toBe(401);
      expect(response.headers['X-message']).toBe('Access denied');
      await sleep(100);
      expect(await imagesOf(after)).toHaveLength(0);
    });

    it('creates nothing once the user it was issued for is removed', async () => {
      const tenant = await createTenant(app);
      const path = await notificationPath(await tenant.userToken({ N3: access('image_upload') }), 'N3');
      await app.albumkit.database.db.deleteFrom('users').where('id', '=', tenant.user.id).execute();
      app.albumkit.tokens.forgetAll();
      const upload = uploadResult();
      expect((await notify(path, upload)).status).toBe(401);
      await sleep(100);
      expect(await imagesOf(upload)).toHaveLength(0);
    });

    it('refuses an app-signed token that names no uploader, or another organization than its user’s', async () => {
      const now = Math.floor(Date.now() / 1000);
      const forged = [
        { album_id: 'N4', organization_id: acme.organization.id, iat: now, exp: now + 600 },
        { album_id: 'N4', organization_id: other.organization.id, user_id: acme.user.id, iat: now, exp: now + 600 },
        { album_id: 'N4', organization_id: other.organization.id, iss: acme.secretId, iat: now, exp: now + 600 },
      ];
      for (const claims of forged) {
        const upload = uploadResult();
        expect((await notify(`/api/v1/cloudinary?token=${await signToken(claims)}`, upload)).status).toBe(401);
        expect(await imagesOf(upload)).toHaveLength(0);
      }
    });
  });

  describe('an upload belongs to the organization and album whose form made it', () => {
    it('refuses an upload result of organization B posted into A once B holds it (its image, or its notification)', async () => {
      const bToken = await other.userToken({ B1: access('image_upload', 'image_list') });
      const aToken = await acme.userToken({ A1: access('image_upload', 'image_list') });
      // B's client posted it: B's image exists, and its JSON (signature included) is readable by B's readers.
      const posted = uploadResult();
      const b = await postUpload((req) => app.request(req), bToken, 'B1', { cloudinary: posted });
      expect(b.status).toBe(200);
      const leaked = (await app.request({ method: 'GET', path: `/api/v1/images/${b.json.id}`, headers: authorization(bToken) })).json.infos;
      const refused = await postUpload((req) => app.request(req), aToken, 'A1', { cloudinary: leaked });
      expect(refused.status).toBe(401);
      expect(refused.body).toBe('');
      // Only Cloudinary's notification came for B: its record is enough.
      const notified = uploadResult();
      expect((await notify(await notificationPath(bToken, 'B1'), notified)).status).toBe(201);
      expect((await postUpload((req) => app.request(req), aToken, 'A1', { cloudinary: notified })).status).toBe(401);
      // Within one organization, another album's upload is refused too.
      expect((await postUpload((req) => app.request(req), await other.userToken({ B2: access('image_upload') }), 'B2', { cloudinary: posted })).status).toBe(401);
      const inA = await app.albumkit.database.db.selectFrom('images').select('id').where('organization_id', '=', acme.organization.id).where('album_id', '=', 'A1').execute();
      expect(inA).toHaveLength(0);
      expect((await getAlbum('A1', aToken)).json.images_count).toBe(0);
    });

    it('an upload posted into A before B’s notification arrives is removed from A when it does', async () => {
      const bToken = await other.userToken({ B3: access('image_upload') });
      const aToken = await acme.userToken({ A3: access('image_upload', 'image_list') });
      const upload = uploadResult();
      const early = await postUpload((req) => app.request(req), aToken, 'A3', { cloudinary: upload });
      expect(early.status).toBe(200);
      expect((await getAlbum('A3', aToken)).json.images_count).toBe(1);
      expect((await notify(await notificationPath(bToken, 'B3'), upload)).status).toBe(201);
      await settled(upload);
      for (let i = 0; i < 100 && (await imagesOf(upload)).length !== 1; i++) await sleep(25);
      const held = await imagesOf(upload);
      expect(held.map((i) => [i.organization_id, i.album_id])).toEqual([[other.organization.id, 'B3']]);
      expect((await app.request({ method: 'GET', path: `/api/v1/images/${early.json.id}`, headers: authorization(aToken) })).status).toBe(404);
      expect((await getAlbum('A3', aToken)).json.images_count).toBe(0);
    });
  });

  describe('recorded headers and values', () => {
    it('GET /albums/:id carries the recorded X-access-* headers, with the recorded values for a member', async () => {
      const recorded = record('album__retrieve_an_album.json').response_headers as Record<string, string>;
      const expected = Object.fromEntries(Object.entries(recorded).filter(([k]) => k.startsWith('X-access-')));
      expect(Object.keys(expected)).toHaveLength(15);
      await app.albumkit.repositories.albums.findOrCreate(acme.organization.id, 'H1');
      const response = await getAlbum('H1', await acme.userToken());
      const got = Object.fromEntries(Object.entries(response.headers).filter(([k]) => k.startsWith('X-access-')));
      expect(Object.keys(got)).toEqual(Object.keys(expected));
      expect(got).toEqual(expected);
      const admin = await getAlbum('H1', await acme.integratorToken({ admin: true }));
      expect(admin.headers['X-access-image_duplicate']).toBe('true');
      const named = await getAlbum('H1', await acme.userToken({ H1: { Access: { see: true, image_share: true, fullscreen: 'true' } } }));
      expect(named.headers['X-access-image_upload']).toBe('false');
      expect(named.headers['X-access-image_share']).toBe('true');
      expect(named.headers['X-access-fullscreen']).toBe('true');
    });

    it('GET /images/:id carries X-access-crop/rotate/duplicate for the image’s album, cached or not', async () => {
      const recorded = record('image_api__retrieve_an_image.json').response_headers as Record<string, string>;
      const owner = await acme.userToken({ H2: access('image_upload', 'image_duplicate') });
      const created = await postUpload((req) => app.request(req), owner, 'H2');
      expect(created.status).toBe(200);
      const reader = await acme.userToken({ H2: access('image_list') });
      for (let round = 0; round < 2; round++) {
        const response = await app.request({ method: 'GET', path: `/api/v1/images/${created.json.id}`, headers: authorization(reader) });
        expect(response.status).toBe(200);
        for (const name of ['X-access-crop', 'X-access-rotate', 'X-access-duplicate']) expect(response.headers[name]).toBe(recorded[name]);
      }
      const editor = await app.request({ method: 'GET', path: `/api/v1/images/${created.json.id}`, headers: authorization(owner) });
      expect([editor.headers['X-access-crop'], editor.headers['X-access-rotate'], editor.headers['X-access-duplicate']]).toEqual(['false', 'false', 'true']);
    });

    it('a 401 has no body and no JSON content type, as recorded', async () => {
      const recorded = record('image__retrieve_an_image.json');
      const response = await app.request({ method: 'GET', path: '/api/v1/albums/X', headers: { Authorization: 'Bearer nonsense' } });
      expect(response.status).toBe(401);
      expect(response.body).toBe('');
      expect(response.headers['Content-Type']).toBe(recorded.response_headers['Content-Type']);
      expect(response.headers['Content-Length']).toBe('0');
      expect(response.headers['X-message']).toBe('Access denied');
    });

    it('color is Cloudinary’s predominant color once processed; an image without EXIF has processing_error null', async () => {
      const token = await acme.userToken({ H3: access('image_upload') });
      const upload = uploadResult({ colors: [['#EBF1F9', 13.2], ['#D9E5F5', 8.8]] });
      expect((await notify(await notificationPath(token, 'H3'), upload)).status).toBe(201);
      await settled(upload);
      const [image] = await imagesOf(upload);
      const processed = await app.albumkit.images.markProcessed(acme.organization.id, image!.id, { exifs: {}, error: null });
      expect(processed?.color).toBe('#EBF1F9');
      expect(processed?.processing_error).toBeNull();
    });
  });

  describe('token renewal', () => {
    it('is unbounded by default, as recorded: the X-token has the same claims, iat now, exp in 4 hours', async () => {
      const token = await acme.userToken({}, { iat: Math.floor(Date.now() / 1000) - 30 * 24 * 3600 });
      await app.albumkit.repositories.albums.findOrCreate(acme.organization.id, 'R1');
      const response = await getAlbum('R1', token);
      const renewed = decodeJwt(response.headers['X-token']!);
      expect(renewed.exp! - renewed.iat!).toBe(4 * 3600);
      expect(renewed.first_iat).toBeUndefined();
    });

    it('with tokenRenewalMaxSeconds, never renews past the first issue plus the cap', async () => {
      const capped = await createTestApp(dialect, { tokenRenewalMaxSeconds: 3600 });
      try {
        const tenant = await createTenant(capped);
        await capped.albumkit.repositories.albums.findOrCreate(tenant.organization.id, 'R2');
        const now = Math.floor(Date.now() / 1000);
        const first = now - 3000;
        let token = await tenant.userToken({}, { iat: first, exp: now + 600 });
        const get = (t: string) => capped.request({ method: 'GET', path: '/api/v1/albums/R2', headers: authorization(t) });
        const response = await get(token);
        expect(response.status).toBe(200);
        const renewed = decodeJwt(response.headers['X-token']!);
        expect(renewed.first_iat).toBe(first);
        expect(renewed.exp).toBe(first + 3600);
        // Renewing the renewal keeps the first issue time.
        token = response.headers['X-token']!;
        await sleep(1100);
        const again = decodeJwt((await get(token)).headers['X-token']!);
        expect(again.first_iat).toBe(first);
        expect(again.exp).toBe(first + 3600);
        // A token whose cap has passed is expired: refused.
        const expired = await signToken({ user_id: tenant.user.id, abilities: {}, iat: now - 10, exp: now - 1, first_iat: now - 7200 });
        expect((await get(expired)).status).toBe(401);
      } finally {
        await capped.close();
      }
    });
  });
});
