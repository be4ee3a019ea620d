import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signNotification } from '../src/cloudinary/signing.js';
import type { InProcessJobs } from '../src/jobs/in-process.js';
import { authorization, createTestApp, DIALECTS, TEST_CONFIG, type TestApp } from './support/app.js';
import { access, createTenant, fresh, signToken, uploadResult, type Tenant } from './support/fixtures.js';

describe.each(DIALECTS)('tokens and abilities on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;
  let globex: Tenant;
  let acmeImageId: string;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app, 'Acme');
    globex = await createTenant(app, 'Globex');
    const created = await app.request({
      method: 'POST',
      path: '/api/v1/albums/shared-name/images',
      headers: { ...authorization(await acme.userToken({ 'shared-name': access('image_upload') })), 'Content-Type': 'application/json' },
      rawBody: JSON.stringify({ cloudinary: uploadResult() }),
    });
    expect(created.status).toBe(200);
    acmeImageId = created.json.id;
  });
  afterAll(() => app?.close());

  const getImage = (token: string, id = acmeImageId, header = authorization(token)) =>
    app.request({ method: 'GET', path: `/api/v1/images/${id}`, headers: header });

  function expectDenied(response: { status: number; body: string; headers: Record<string, string> }) {
    expect(response.status).toBe(401);
    expect(response.body).toBe('');
    expect(response.headers['X-message']).toBe('Access denied');
    expect(response.headers['X-token']).toBeUndefined();
  }

  describe('refused tokens', () => {
    it('no token at all', async () => {
      expectDenied(await app.request({ method: 'GET', path: `/api/v1/images/${acmeImageId}` }));
    });

    it('a token in the query string instead of a header', async () => {
      const token = await acme.userToken();
      expectDenied(await app.request({ method: 'GET', path: `/api/v1/images/${acmeImageId}?token=${token}` }));
    });

    it('alg none', async () => {
      const token = new UnsecuredJWT({ user_id: acme.user.id, abilities: {}, ...fresh() }).encode();
      expectDenied(await getImage(token));
    });

    it.each(['HS384', 'HS512'])('%s instead of HS256, even with the right key', async (alg) => {
      expectDenied(await getImage(await signToken({ user_id: acme.user.id, ...fresh() }, undefined, { alg, typ: 'JWT' })));
    });

    it('RS256', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({ user_id: acme.user.id, ...fresh() }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
      expectDenied(await getImage(token));
    });

    it('signed with another key', async () => {
      expectDenied(await getImage(await signToken({ user_id: acme.user.id, ...fresh() }, 'some-other-secret-0123456789')));
    });

    it('expired, issued in the future, or without exp', async () => {
      const now = Math.floor(Date.now() / 1000);
      expectDenied(await getImage(await signToken({ user_id: acme.user.id, iat: now - 7200, exp: now - 10 })));
      expectDenied(await getImage(await signToken({ user_id: acme.user.id, iat: now + 600, exp: now + 3600 })));
      expectDenied(await getImage(await signToken({ user_id: acme.user.id, iat: now })));
    });

    it('a tampered payload', async () => {
      const token = await acme.userToken();
      const [header, , signature] = token.split('.');
      const payload = Buffer.from(JSON.stringify({ user_id: acme.user.id, admin: true, ...fresh() })).toString('base64url');
      expectDenied(await getImage(`${header}.${payload}.${signature}`));
    });

    it('malformed, truncated or oversized tokens', async () => {
      const token = await acme.userToken();
      for (const bad of ['abc', 'a.b.c', token.slice(0, -5), token.split('.').slice(0, 2).join('.'), `${token}.x`, 'x'.repeat(10_000), `${token}${'A'.repeat(9000)}`]) {
        expectDenied(await getImage(bad));
      }
      expectDenied(await getImage('', acmeImageId, { Authorization: 'Basic dXNlcjpwYXNz' }));
    });

    it('a user that does not exist', async () => {
      expectDenied(await getImage(await signToken({ user_id: '00000000-0000-4000-8000-000000000000', ...fresh() })));
    });

    it('an integrator token signed with the app key, another organization secret, or a revoked secret', async () => {
      expectDenied(await getImage(await signToken({ iss: acme.secretId, admin: true })));
      const forged = await signToken({ iss: acme.secretId, admin: true }, 'not-the-secret-of-acme-at-all');
      expectDenied(await getImage(forged));
      const token = await acme.integratorToken({ admin: true });
      expect((await getImage(token)).status).toBe(200);
      await app.albumkit.setup.revokeSecret(acme.secretId);
      expectDenied(await getImage(token));
    });

    it('a notification token used as an API token', async () => {
      const album = await app.request({ method: 'POST', path: '/api/v1/albums', headers: authorization(await globex.userToken()) });
      const notificationToken = new URL(album.json.upload_form.params.notification_url).searchParams.get('token')!;
      expectDenied(await app.request({ method: 'GET', path: `/api/v1/albums/${album.json.id}`, headers: authorization(notificationToken) }));
    });
  });

  describe('verified-token cache', () => {
    it('still refuses a token once its exp passes, though it was verified before', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = await signToken({ user_id: acme.user.id, iat: now, exp: now + 2 });
      expect((await getImage(token)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expectDenied(await getImage(token));
    });

    it('still refuses a notification token once its exp passes, though it was verified before', async () => {
      const { tokens } = app.albumkit;
      const now = Math.floor(Date.now() / 1000);
      const principal = (await tokens.authenticate(await acme.userToken())).principal;
      const token = await tokens.issueNotificationToken(principal, 'an-album', now + 2);
      expect((await tokens.verifyNotificationToken(token)).target).toEqual({ organizationId: acme.organization.id, albumId: 'an-album', userId: acme.user.id });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      await expect(tokens.verifyNotificationToken(token)).rejects.toThrow();
    });

    it('reuses the X-token within the same second, and renews it the next', async () => {
      const { tokens } = app.albumkit;
      const auth = await tokens.authenticate(await acme.userToken());
      const now = Math.floor(Date.now() / 1000);
      const first = await tokens.renew(auth, now);
      expect(await tokens.renew(auth, now)).toBe(first);
      const next = await tokens.renew(auth, now + 1);
      expect(next).not.toBe(first);
      expect((await getImage(first)).status).toBe(200);
    });
  });

  describe('accepted tokens', () => {
    it('Token token="…" and Bearer, with a renewed X-token', async () => {
      const token = await acme.userToken();
      const headers: Record<string, string>[] = [{ Authorization: `Token token="${token}"` }, { authorization: `Bearer ${token}` }];
      for (const header of headers) {
        const response = await getImage(token, acmeImageId, header);
        expect(response.status).toBe(200);
        expect(response.headers['X-token']).toMatch(/^eyJ/);
      }
    });

    it('an integrator token without exp, iat or typ, with cty', async () => {
      const tenant = await createTenant(app);
      const token = await tenant.integratorToken({ abilities: { 'SF-001': access('see') } }, { alg: 'HS256', cty: 'JWT' });
      const response = await app.request({ method: 'GET', path: '/api/v1/albums/SF-001', headers: authorization(token) });
      expect(response.status).toBe(200);
      expect(response.json.id).toBe('SF-001');
      expect(response.json.organization_id).toBe(tenant.organization.id);
      const expired = await tenant.integratorToken({ abilities: { 'SF-001': access('see') }, exp: Math.floor(Date.now() / 1000) - 5 });
      expectDenied(await app.request({ method: 'GET', path: '/api/v1/albums/SF-001', headers: authorization(expired) }));
    });
  });

  describe('abilities', () => {
    it('a member has the recorded defaults on albums its token does not name: reads and uploads, does not duplicate', async () => {
      const token = await acme.userToken();
      expect((await getImage(token)).status).toBe(200);
      expect((await app.request({ method: 'GET', path: '/api/v1/albums/shared-name/images', headers: authorization(token) })).status).toBe(200);
      expectDenied(await app.request({ method: 'POST', path: `/api/v1/images/${acmeImageId}/duplicate`, headers: authorization(token) }));
      expect((await app.request({ method: 'POST', path: '/api/v1/albums/shared-name/upload_done', headers: authorization(token) })).status).toBe(200);
      const posted = await app.request({
        method: 'POST',
        path: '/api/v1/albums/shared-name/images',
        headers: { ...authorization(token), 'Content-Type': 'application/json' },
        rawBody: JSON.stringify({ cloudinary: uploadResult() }),
      });
      expect(posted.status).toBe(200);
    });

    it('a member token that names an album has exactly what it names there', async () => {
      const token = await acme.userToken({ 'shared-name': access('see', 'image_list') });
      expect((await getImage(token)).status).toBe(200);
      expectDenied(await app.request({ method: 'POST', path: '/api/v1/albums/shared-name/upload_done', headers: authorization(token) }));
      expectDenied(
        await app.request({
          method: 'POST',
          path: '/api/v1/albums/shared-name/images',
          headers: { ...authorization(token), 'Content-Type': 'application/json' },
          rawBody: JSON.stringify({ cloudinary: uploadResult() }),
        }),
      );
    });

    it('an integrator may do exactly what its abilities say, on the albums they name', async () => {
      const tenant = await createTenant(app);
      const token = await tenant.integratorToken({ abilities: { A1: access('image_upload') } });
      const post = (album: string) =>
        app.request({
          method: 'POST',
          path: `/api/v1/albums/${album}/images`,
          headers: { ...authorization(token), 'Content-Type': 'application/json' },
          rawBody: JSON.stringify({ cloudinary: uploadResult() }),
        });
      const created = await post('A1');
      expect(created.status).toBe(200);
      expectDenied(await post('A2'));
      expectDenied(await getImage(token, created.json.id));
      expectDenied(await app.request({ method: 'GET', path: '/api/v1/albums/A1/images', headers: authorization(token) }));
      expectDenied(await app.request({ method: 'POST', path: '/api/v1/albums', headers: authorization(token) }));
      const reader = await tenant.integratorToken({ abilities: { A1: access('image_list') } });
      expect((await getImage(reader, created.json.id)).status).toBe(200);
    });

    it('admin grants everything inside its own organization only', async () => {
      const admin = await globex.integratorToken({ admin: true });
      const response = await getImage(admin);
      expect(response.status).not.toBe(200);
      expect(response.body).not.toContain(acmeImageId);
      const duplicate = await app.request({ method: 'POST', path: `/api/v1/images/${acmeImageId}/duplicate`, headers: authorization(admin) });
      expect([401, 404]).toContain(duplicate.status);
      const syncs = await app.request({ method: 'GET', path: `/api/v1/image_syncs?ids[]=${acmeImageId}`, headers: authorization(admin) });
      expect(syncs.json).toEqual([]);
    });
  });

  describe('tenancy', () => {
    it("another organization's token never reads or changes this organization's data", async () => {
      const snapshot = () =>
        Promise.all([
          app.albumkit.database.db.selectFrom('images').selectAll().where('organization_id', '=', acme.organization.id).orderBy('id').execute(),
          app.albumkit.database.db.selectFrom('albums').selectAll().where('organization_id', '=', acme.organization.id).orderBy('id').execute(),
        ]);
      const before = JSON.stringify(await snapshot());
      const member = await globex.userToken({ 'shared-name': access('image_upload', 'image_duplicate', 'image_list', 'see') });
      const admin = await globex.integratorToken({ admin: true });
      for (const token of [member, admin]) {
        const headers = authorization(token);
        expect((await getImage(token)).status).toBe(404);
        expect([401, 404]).toContain((await app.request({ method: 'POST', path: `/api/v1/images/${acmeImageId}/duplicate`, headers })).status);
        expect((await app.request({ method: 'GET', path: `/api/v1/image_syncs?ids[]=${acmeImageId}`, headers })).json).toEqual([]);
        // The same album id names Globex's own album: Acme's album is not touched.
        const list = await app.request({ method: 'GET', path: '/api/v1/albums/shared-name/images', headers });
        expect(list.json.map((i: { id: string }) => i.id)).not.toContain(acmeImageId);
        await app.request({ method: 'POST', path: '/api/v1/albums/shared-name/upload_done', headers });
        const album = await app.request({ method: 'GET', path: '/api/v1/albums/shared-name', headers });
        expect(album.json.organization_id).toBe(globex.organization.id);
      }
      // A notification signed for Globex's album of the same name lands in Globex's album only.
      const globexAlbum = await app.request({ method: 'GET', path: '/api/v1/albums/shared-name', headers: authorization(member) });
      const notification = new URL(globexAlbum.json.upload_form.params.notification_url);
      const body = JSON.stringify(uploadResult());
      const notified = await app.request({
        method: 'POST',
        path: notification.pathname + notification.search,
        headers: { 'Content-Type': 'application/json', ...signNotification(body, TEST_CONFIG.cloudinary.apiSecret) },
        rawBody: body,
      });
      expect(notified.status).toBe(201);
      await (app.albumkit.jobs as InProcessJobs).drain();
      const globexImages = await app.albumkit.database.db.selectFrom('images').select('id').where('organization_id', '=', globex.organization.id).execute();
      expect(globexImages.length).toBeGreaterThan(0);
      expect(JSON.stringify(await snapshot())).toBe(before);
    });
  });
});
