import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../src/db/schema.js';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { shapeOf } from './support/compare.js';
import { access, createTenant, fresh, postUpload, signToken, uploadResult, type Tenant } from './support/fixtures.js';

/**
 * Links to one image (#17): external URLs (created in the API, a lasting public link that leads
 * to a placeholder once the image is gone), the image's URL, its embed code and its uploader;
 * the recorded answers, each right, the 400s.
 */
const RECORDS = new URL('./records/', import.meta.url);
const record = (name: string) => JSON.parse(readFileSync(new URL(name, RECORDS), 'utf8')).requests[0];
/** A delivery URL with its signature masked. */
const unsigned = (url: string) => url.replace(/s--[\w-]{8}--/g, 's--SIG--');

describe.each(DIALECTS)('image links on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app);
    other = await createTenant(app);
  });
  afterAll(() => app?.close());

  const call = (method: string, path: string, token: string, body?: unknown) =>
    app.request({
      method,
      path: `/api/v1${path}`,
      headers: { ...authorization(token), ...(body ? { 'Content-Type': 'application/json' } : {}) },
      rawBody: body ? JSON.stringify(body) : undefined,
    });
  const open = (path: string) => app.albumkit.handle.public({ method: 'GET', path, headers: {} });

  /** The recorded request's organization and user, and its token re-signed. */
  async function replaySetup(name: string): Promise<{ organization: Organization; token: string; request: any; expected: any; claims: Record<string, any> }> {
    const request = record(name);
    const { iat: _i, exp: _e, ...claims } = decodeJwt(/token="([^"]+)"/.exec(request.request_headers.Authorization ?? 'token="e30.e30.x"')![1]!) as Record<string, any>;
    const organization = await app.albumkit.setup.createOrganization(`Links ${name}`);
    if (claims.user_id) await app.albumkit.database.db.insertInto('users').values({ id: claims.user_id, organization_id: organization.id, sfid: null, email: null, name: null }).execute();
    return { organization, token: await signToken({ ...claims, ...fresh() }), request, expected: request.response_body?.startsWith('{') ? JSON.parse(request.response_body) : undefined, claims };
  }

  /** An image as the recordings' factory made it: not processed, `v123123/<public id>.jpg`. */
  async function insertImage(organizationId: string, fields: { id: string; albumId: string; publicId: string; processed?: boolean; infos?: unknown; userId?: string | null }) {
    await app.albumkit.repositories.albums.findOrCreate(organizationId, fields.albumId);
    await app.albumkit.database.db
      .insertInto('images')
      .values({
        id: fields.id,
        organization_id: organizationId,
        album_id: fields.albumId,
        user_id: fields.userId ?? null,
        upload_key: `${fields.publicId}@123123`,
        cloudinary_public_id: fields.publicId,
        cloudinary_version: '123123',
        cloudinary_type: 'authenticated',
        infos: JSON.stringify(fields.infos ?? {}),
        exifs: '{}',
        metadatas: '{}',
        gps: null,
        gps_ip: null,
        gps_exifs: null,
        gps_html: null,
        taken_at: null,
        width: 800,
        height: 600,
        original_width: 800,
        original_height: 600,
        filename: 'photo.jpg',
        format: 'jpg',
        title: null,
        description: null,
        group_id: null,
        processing_error: null,
        reported_at: null,
        processed: fields.processed ?? false,
      })
      .execute();
  }

  const send = (request: any, token?: string) =>
    app.request({
      method: request.request_method,
      path: request.request_path,
      headers: { ...(token ? authorization(token) : {}), ...(request.request_headers['Content-Type'] ? { 'Content-Type': request.request_headers['Content-Type'] } : {}) },
      rawBody: request.request_body ?? undefined,
    });

  function expectRecorded(response: any, request: any): void {
    expect(response.status).toBe(request.response_status);
    expect(Object.keys(response.headers).sort()).toEqual(Object.keys(request.response_headers).sort());
    expect(response.headers['Content-Type']).toBe(request.response_headers['Content-Type']);
  }

  async function uploaded(tenant: Tenant, album = 'L1'): Promise<any> {
    const response = await postUpload((req) => app.request(req), await tenant.userToken(), album, { cloudinary: uploadResult({ width: 640, height: 480 }) });
    expect(response.status).toBe(200);
    return response.json;
  }

  describe('external URLs', () => {
    it('image_external_url__retrieve_external_url: the recorded answer, a proxied lasting link and the transformed source', async () => {
      const { organization, token, request, expected } = await replaySetup('image_external_url__retrieve_external_url.json');
      await insertImage(organization.id, { id: expected.image_id, albumId: 'X1', publicId: '22125cdf64a1' });
      const response = await send(request, token);
      expectRecorded(response, request);
      expect(shapeOf(response.json)).toEqual(shapeOf(expected));
      const { id } = response.json;
      expect(response.json.image_id).toBe(expected.image_id);
      expect(response.json.infos).toEqual(expected.infos);
      expect(response.json.url).toMatch(new RegExp(`^https://sharinpix-proxy-dev\\.herokuapp\\.com/${id}\\.jpg\\?s=[0-9a-f]{7}&url=localhost/image_external_urls/${id}$`));
      expect(response.json.resource_url).toBe(response.json.url);
      expect(unsigned(response.json.source_url)).toBe(unsigned(expected.source_url));
    });

    it('image_public_external_url__redirect_to_image_external_url: the recorded redirect, then the placeholder once trashed or purged', async () => {
      const { request } = await replaySetup('image_public_external_url__redirect_to_image_external_url.json');
      const expectedLocation: string = request.response_headers.Location;
      const linkId = /image_external_urls\/([\w-]+)/.exec(request.request_path)![1]!;
      const imageId = randomUUID();
      await insertImage(acme.organization.id, { id: imageId, albumId: 'X2', publicId: 'c56b0e38c663' });
      await app.albumkit.database.db
        .insertInto('image_external_urls')
        .values({ id: linkId, organization_id: acme.organization.id, image_id: imageId, user_id: null, infos: JSON.stringify({ image_id: imageId }), steps: '[]' })
        .execute();
      const response = await open(request.request_path);
      expectRecorded(response, request);
      expect(unsigned(response.headers.Location!)).toBe(unsigned(expectedLocation.replace('http://example.org', 'https://localhost:5001')));
      expect(response.headers['Access-Control-Allow-Origin']).toBe('*');
      expect(response.body).toContain('You are being <a href=');

      // Trashed: the placeholder, a real image.
      expect((await call('DELETE', `/images/${imageId}`, await acme.userToken())).status).toBe(204);
      const trashed = await open(request.request_path);
      expect(trashed.status).toBe(302);
      expect(trashed.headers.Location).toBe('https://localhost:5001/assets/deleted.jpg');
      const placeholder = await open('/assets/deleted.jpg');
      expect(placeholder.status).toBe(200);
      expect(placeholder.headers['Content-Type']).toBe('image/jpeg');
      expect(Buffer.from([...(placeholder.stream as Iterable<Uint8Array>)][0]!).subarray(0, 2).toString('hex')).toBe('ffd8');
      // Restored: the image again. Purged (the row gone): the placeholder for good.
      expect((await call('DELETE', `/trashed_images/${imageId}`, await acme.userToken())).status).toBeLessThan(300);
      expect((await open(request.request_path)).headers.Location).toContain('/c56b0e38c663.jpg');
      await app.albumkit.database.db.deleteFrom('images').where('id', '=', imageId).execute();
      expect((await open(request.request_path)).headers.Location).toBe('https://localhost:5001/assets/deleted.jpg');
      // A link that was never made.
      expect((await open(`/image_external_urls/${randomUUID()}`)).status).toBe(404);
      expect((await open('/image_external_urls/not-an-id')).status).toBe(404);
    });

    it('leads, through the proxy albumkit serves by default, to the image as edited and processed now', async () => {
      const own = await createTestApp(dialect, { proxy: {} });
      try {
        const tenant = await createTenant(own);
        const image = (await postUpload((req) => own.request(req), await tenant.userToken(), 'P1', { cloudinary: uploadResult() })).json;
        const token = await tenant.userToken({ image_urls: true });
        const created = await own.request({
          method: 'POST',
          path: '/api/v1/image_external_urls',
          headers: { ...authorization(token), 'Content-Type': 'application/json' },
          rawBody: JSON.stringify({ image_external_url: { image_id: image.id, transformations: { width: 300, crop: 'fill', gravity: 'face' } } }),
        });
        expect(created.status).toBe(200);
        const proxied = new URL(created.json.url);
        expect(proxied.origin).toBe('https://localhost:5001');
        const first = await own.albumkit.handle.public({ method: 'GET', path: proxied.pathname + proxied.search, headers: {} });
        expect(first.status).toBe(302);
        expect(first.headers.Location).toBe(`https://localhost:5001/image_external_urls/${created.json.id}`);
        // Processed since: the link gives the rendition itself, no placeholder.
        await own.albumkit.database.db.updateTable('images').set({ processed: true }).where('id', '=', image.id).execute();
        const second = await own.albumkit.handle.public({ method: 'GET', path: `/image_external_urls/${created.json.id}`, headers: {} });
        expect(second.status).toBe(302);
        expect(second.headers.Location).toMatch(/^https:\/\/res\.cloudinary\.com\/sadaasdasd\/image\/authenticated\/s--[\w-]{8}--\/c_fit,h_1920,w_1920\/fl_attachment\/dpr_auto,q_auto,f_auto\/c_fill,g_face,w_300\/v\d+\/\w+\.jpg$/);
        // A tampered proxy link is refused.
        const tampered = await own.albumkit.handle.public({ method: 'GET', path: proxied.pathname + proxied.search.replace(/s=[0-9a-f]{7}/, 's=0000000'), headers: {} });
        expect(tampered.status).toBe(400);
      } finally {
        await own.close();
      }
    });

    it('needs abilities.image_urls (or an admin), an image the token may see, and checked transformations', async () => {
      const image = await uploaded(acme);
      const body = { image_external_url: { image_id: image.id } };
      expect((await call('POST', '/image_external_urls', await acme.userToken(), body)).status).toBe(401);
      expect((await call('POST', '/image_external_urls', await acme.userToken({ image_urls: 'yes' }), body)).status).toBe(401);
      expect((await call('POST', '/image_external_urls', await acme.userToken({}, { admin: true }), body)).status).toBe(200);
      const token = await acme.userToken({ image_urls: true });
      expect((await call('POST', '/image_external_urls', token, body)).status).toBe(200);
      // Another organization's image, or none: 404; and no link was made for it.
      const foreign = await uploaded(other);
      const refused = await call('POST', '/image_external_urls', token, { image_external_url: { image_id: foreign.id } });
      expect(refused.status).toBe(404);
      expect(await app.albumkit.database.db.selectFrom('image_external_urls').select('id').where('image_id', '=', foreign.id).execute()).toEqual([]);
      // A token bound to a query sees only what matches it.
      const bound = await acme.userToken({ image_urls: true }, { q: 'filename:nothing-matches-this' });
      expect((await call('POST', '/image_external_urls', bound, body)).status).toBe(401);
      // 400s name the field.
      const missing = await call('POST', '/image_external_urls', token, {});
      expect(missing.status).toBe(400);
      expect(missing.json.message).toMatch(/^image_external_url: /);
      const badId = await call('POST', '/image_external_urls', token, { image_external_url: { image_id: 'x' } });
      expect(badId.status).toBe(400);
      expect(badId.json.message).toMatch(/^image_external_url\.image_id: /);
      const badWidth = await call('POST', '/image_external_urls', token, { image_external_url: { image_id: image.id, transformations: { width: '100;rm' } } });
      expect(badWidth.status).toBe(400);
      expect(badWidth.json.message).toMatch(/^image_external_url\.transformations\.width: /);
      const badOverlay = await call('POST', '/image_external_urls', token, { image_external_url: { image_id: image.id, transformations: { overlay: foreign.id } } });
      expect(badOverlay.status).toBe(400);
      expect(badOverlay.json.message).toMatch(/overlay: no such image/);
    });

    it('makes several at once (a list), all or nothing, at most 100', async () => {
      const token = await acme.userToken({ image_urls: true });
      const [a, b] = [await uploaded(acme), await uploaded(acme)];
      const many = await call('POST', '/image_external_urls', token, { image_external_urls: [{ image_id: a.id }, { image_id: b.id, transformations: [{ width: 50 }, { angle: 90 }] }] });
      expect(many.status).toBe(200);
      expect(many.json.map((link: any) => link.image_id)).toEqual([a.id, b.id]);
      expect(unsigned(many.json[1].source_url)).toContain('/c_fit,h_1920,w_1920/fl_attachment/dpr_auto,q_auto,f_auto/w_50/a_90/');
      expect(new Set(many.json.map((link: any) => link.id)).size).toBe(2);
      // The form's list (`image_external_url[0][image_id]=…`) answers a list too.
      const form = await app.request({
        method: 'POST',
        path: '/api/v1/image_external_urls',
        headers: { ...authorization(token), 'Content-Type': 'application/x-www-form-urlencoded' },
        rawBody: `image_external_url[0][image_id]=${a.id}&image_external_url[1][image_id]=${b.id}`,
      });
      expect(form.status).toBe(200);
      expect(form.json).toHaveLength(2);
      const before = await app.albumkit.database.db.selectFrom('image_external_urls').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      const mixed = await call('POST', '/image_external_urls', token, { image_external_urls: [{ image_id: a.id }, { image_id: randomUUID() }] });
      expect(mixed.status).toBe(404);
      const after = await app.albumkit.database.db.selectFrom('image_external_urls').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
      expect(Number(after.n)).toBe(Number(before.n));
      const tooMany = await call('POST', '/image_external_urls', token, { image_external_urls: Array.from({ length: 101 }, () => ({ image_id: a.id })) });
      expect(tooMany.status).toBe(400);
      expect(tooMany.json.message).toMatch(/at most 100/);
    });
  });

  describe('the image URL, embed code and uploader', () => {
    it('image_url__retrieve_an_url_for_the_image: the recorded answer; image_transform on the album is required', async () => {
      const { organization, token, request, expected, claims } = await replaySetup('image_url__retrieve_an_url_for_the_image.json');
      const album = Object.keys(claims.abilities)[0]!;
      await insertImage(organization.id, { id: expected.image_id, albumId: album, publicId: '901937c0e4de' });
      const response = await send(request, token);
      expectRecorded(response, request);
      expect(shapeOf(response.json)).toEqual(shapeOf(expected));
      expect(unsigned(response.json.url)).toBe(unsigned(expected.url));

      const image = await uploaded(acme, 'T1');
      expect((await call('GET', `/images/${image.id}/image_url`, await acme.userToken())).status).toBe(401);
      expect((await call('GET', `/images/${image.id}/image_url`, await acme.userToken({ T2: access('image_transform') }))).status).toBe(401);
      const allowed = await acme.userToken({ T1: access('image_transform') });
      const sized = await call('GET', `/images/${image.id}/image_url?width=200&height=100&crop=fill`, allowed);
      expect(sized.status).toBe(200);
      expect(sized.json.url).toContain('/dpr_auto,q_auto,f_auto/c_fill,h_100,w_200/');
      const bad = await call('GET', `/images/${image.id}/image_url?crop=explode`, allowed);
      expect(bad.status).toBe(400);
      expect(bad.json.message).toMatch(/^query\.crop: /);
      // Another organization's image: not found for a member.
      expect((await call('GET', `/images/${(await uploaded(other)).id}/image_url`, await acme.userToken({}, { admin: true }))).status).toBe(404);
    });

    it('image_api__retrieve_an_image_embed_code: a video with its sources as recorded; an image as an <img>', async () => {
      const { organization, token, request, expected, claims } = await replaySetup('image_api__retrieve_an_image_embed_code.json');
      const album = Object.keys(claims.abilities)[0]!;
      const id = /images\/([\w-]+)\/embed/.exec(request.request_path)![1]!;
      await insertImage(organization.id, { id, albumId: album, publicId: 'iplggwtcsi2gjybsjg4q', processed: true, infos: { resource_type: 'video' } });
      const response = await send(request, token);
      expectRecorded(response, request);
      expect(shapeOf(response.json)).toEqual(shapeOf(expected));
      // As recorded, but with the version in each URL (the recording left it out).
      expect(unsigned(response.json.html).replaceAll('/v123123/', '/')).toBe(unsigned(expected.html));

      const image = await uploaded(acme, 'E1');
      const embed = await call('GET', `/images/${image.id}/embed`, await acme.userToken());
      expect(embed.status).toBe(200);
      expect(embed.json.html).toMatch(/^<img src="https:\/\/localhost:5001\/assets\/blank\.jpg#https:\/\/res\.cloudinary\.com\/sadaasdasd\/image\/authenticated\/s--[\w-]{8}--\/c_fit,h_1920,w_1920\/fl_attachment\/dpr_auto,q_auto,f_auto\/c_fit,h_1000,w_1000\/v\d+\/\w+\.jpg" alt="holiday(\.jpg)?" \/>$/);
      // Reading needs the album: a token naming another album only is refused.
      const integrator = await acme.integratorToken({ abilities: { E2: access('image_list') } });
      expect((await call('GET', `/images/${image.id}/embed`, integrator)).status).toBe(401);
    });

    it('image_api__retrieve_username: {} without an uploader, the uploader otherwise', async () => {
      const { organization, token, request, expected, claims } = await replaySetup('image_api__retrieve_username.json');
      const album = Object.keys(claims.abilities)[0]!;
      const id = /images\/([\w-]+)\/user/.exec(request.request_path)![1]!;
      await insertImage(organization.id, { id, albumId: album, publicId: 'u1' });
      const response = await send(request, token);
      expectRecorded(response, request);
      expect(response.json).toEqual(expected);
      expect(response.body).toBe('{}');

      const user = await app.albumkit.setup.createUser(acme.organization.id, { name: 'Ada Lovelace' });
      const image = (await postUpload((req) => app.request(req), await signToken({ user_id: user.id, abilities: {}, ...fresh() }), 'U1', { cloudinary: uploadResult() })).json;
      const named = await call('GET', `/images/${image.id}/user`, await acme.userToken());
      expect(named.status).toBe(200);
      expect(named.json).toEqual({ id: user.id, name: 'Ada Lovelace' });
      expect((await call('GET', `/images/${image.id}/user`, await other.userToken({}, { admin: true }))).status).toBe(404);
    });
  });
});
