import { randomUUID } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, TEST_CONFIG, type TestApp } from './support/app.js';
import { access, createTenant, fresh, postUpload, uploadResult, type Tenant } from './support/fixtures.js';

/**
 * The integrator endpoints: organization, user, secrets, tokens signed for the caller (never
 * with more rights than it has), annotations (SVG kept as data) and stickers; each right checked
 * and each organization kept to itself.
 */
describe('integrator endpoints (PostgreSQL)', () => {
  let app: TestApp;
  let acme: Tenant;
  let other: Tenant;

  beforeAll(async () => {
    app = await createTestApp('postgres');
    acme = await createTenant(app);
    other = await createTenant(app);
  });
  afterAll(() => app?.close());

  const call = (method: string, path: string, token: string, body?: string, type = 'application/x-www-form-urlencoded') =>
    app.request({ method, path: `/api/v1${path}`, headers: { ...authorization(token), 'Content-Type': type }, rawBody: body });

  async function imageIn(tenant: Tenant, album: string): Promise<string> {
    const response = await postUpload((req) => app.request(req), await tenant.userToken({ [album]: access('image_upload') }), album, { cloudinary: uploadResult() });
    expect(response.status).toBe(200);
    return response.json.id;
  }

  it('GET /organization and GET /user answer the caller’s own', async () => {
    const org = await call('GET', '/organization', await acme.userToken());
    expect(org.status).toBe(200);
    expect(org.json).toEqual({ id: acme.organization.id, name: acme.organization.name, sandbox: false, sfid: null });
    expect(org.headers['X-access-stats']).toBe('false');
    expect((await call('GET', '/organization', await acme.userToken({}, { admin: true }))).headers['X-access-stats']).toBe('true');

    const user = await call('GET', '/user', await acme.userToken());
    expect(user.json).toMatchObject({ public_id: acme.user.id, admin: false });
    expect(user.headers['X-access-admin']).toBe('false');
    // An integrator token that names no user has none.
    expect((await call('GET', '/user', await acme.integratorToken())).status).toBe(404);
    expect((await call('GET', '/organization', 'not-a-token')).status).toBe(401);
  });

  it('POST /secret: admins only; the URL works once, as the signing key of integrator tokens', async () => {
    expect((await call('POST', '/secret', await acme.userToken(), 'name=Nope')).status).toBe(401);
    expect((await call('POST', '/secret', await acme.integratorToken(), 'name=Nope')).status).toBe(401);
    const created = await call('POST', '/secret', await acme.userToken({}, { admin: true }), 'name=CI');
    expect(created.status).toBe(200);
    expect(created.json.organization.id).toBe(acme.organization.id);
    const url = new URL(created.json.url);
    expect(url.protocol).toBe('sharinpix:');
    expect(url.username).toBe(created.json.id);
    expect(url.host).toBe(new URL(TEST_CONFIG.publicUrl).host);
    const { SignJWT } = await import('jose');
    const integrator = await new SignJWT({ iss: url.username }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(decodeURIComponent(url.password)));
    const org = await call('GET', '/organization', integrator);
    expect(org.status).toBe(200);
    expect(org.json.id).toBe(acme.organization.id);
    const stored = await app.albumkit.repositories.organizations.findSecret(created.json.id);
    expect(stored?.description).toBe('CI');
  });

  it('POST /token signs the claims for the caller, with the caller’s key, as the caller’s user', async () => {
    const permission = { abilities: { A1: access('see', 'image_list', 'image_upload', 'image_caption'), tags: { auto_tag: 'test' } }, Id: 'A1' };
    const response = await call('POST', '/token', await acme.userToken(), `permission=${encodeURIComponent(JSON.stringify(permission))}`);
    expect(response.status).toBe(200);
    expect(response.json.endpoint).toBe(new URL(TEST_CONFIG.publicUrl).host);
    const { payload } = await jwtVerify(response.json.token, new TextEncoder().encode(TEST_CONFIG.secret));
    expect(payload).toMatchObject({ ...permission, user_id: acme.user.id });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(4 * 3600);
    // The new token works, with exactly what it names on A1.
    const album = await call('GET', '/albums/A1', response.json.token);
    expect(album.status).toBe(200);
    expect(album.headers['X-access-image_upload']).toBe('true');
    expect(album.headers['X-access-image_delete']).toBe('false');

    // JSON bodies carry the permission as an object.
    const json = await call('POST', '/token', await acme.userToken(), JSON.stringify({ permission: { abilities: { A2: access('image_list') } } }), 'application/json');
    expect(json.status).toBe(200);
    expect(decodeJwt(json.json.token).abilities).toEqual({ A2: access('image_list') });
  });

  it('POST /token never gives more than the caller has', async () => {
    const narrow = await acme.integratorToken({ abilities: { A: access('see', 'image_list') }, ...fresh() });
    const ask = (token: string, permission: unknown) => call('POST', '/token', token, `permission=${encodeURIComponent(JSON.stringify(permission))}`);
    expect((await ask(narrow, { abilities: { A: access('image_list') } })).status).toBe(200);
    expect((await ask(narrow, { abilities: { A: access('image_delete') } })).status).toBe(401);
    expect((await ask(narrow, { abilities: { B: access('see') } })).status).toBe(401);
    expect((await ask(narrow, { admin: true })).status).toBe(401);
    expect((await ask(await acme.userToken(), { admin: true })).status).toBe(401);
    expect((await ask(await acme.userToken(), { user_id: other.user.id })).status).toBe(401);
    // Rights outside abilities: a zip download, deleting what a query matches.
    expect((await ask(narrow, { download: true })).status).toBe(401);
    expect((await ask(narrow, { q: '*', image_delete: true })).status).toBe(401);
    expect((await ask(await acme.userToken(), { q: '*', image_delete: true })).status).toBe(401);
    const downloader = await acme.integratorToken({ abilities: { A: access('see', 'image_list') }, download: true, ...fresh() });
    expect(decodeJwt((await ask(downloader, { download: true })).json.token).download).toBe(true);
    const deleter = await acme.integratorToken({ q: 'album_id:A', image_delete: true, ...fresh() });
    const passed = decodeJwt((await ask(deleter, { q: 'tags:x', image_delete: true })).json.token);
    expect(passed).toMatchObject({ image_delete: true, q: '(album_id:A) AND (tags:x)' });
    // Members: the member defaults and reading, not what only a named token or an admin has.
    expect((await ask(await acme.userToken(), { abilities: { C: access('image_annotate') } })).status).toBe(401);
    expect((await ask(await acme.userToken({}, { admin: true }), { abilities: { C: access('image_annotate') }, admin: true })).status).toBe(200);
    // What the server owns cannot be chosen.
    for (const claim of ['exp', 'iat', 'iss', 'album_id', 'organization_id', 'first_iat']) {
      const response = await ask(await acme.userToken(), { [claim]: 1 });
      expect(response.status, claim).toBe(400);
      expect(response.json.message).toMatch(new RegExp(`^permission\\.${claim}:`));
    }
    expect((await ask(await acme.userToken(), [1])).status).toBe(400);
    expect((await call('POST', '/token', await acme.userToken(), 'permission=%7Bnot json')).json.message).toMatch(/^permission: /);

    // An integrator's token is signed with its own secret (its iss kept), and a search restriction stays.
    const restricted = await acme.integratorToken({ abilities: { A: access('image_list') }, q: 'tag:x', ...fresh() });
    const delegated = await ask(restricted, { abilities: { A: access('image_list') }, q: 'format:jpg' });
    expect(delegated.status).toBe(200);
    const claims = decodeJwt(delegated.json.token);
    expect(claims.iss).toBe(acme.secretId);
    expect(claims.q).toBe('(tag:x) AND (format:jpg)');
    expect((await call('GET', '/organization', delegated.json.token)).status).toBe(200);
  });

  it('annotations: read with image_list, written with image_annotate, SVG kept as text in JSON', async () => {
    const imageId = await imageIn(acme, 'ANN');
    const reader = await acme.integratorToken({ abilities: { ANN: access('image_list') } });
    const writer = await acme.integratorToken({ abilities: { ANN: access('image_list', 'image_annotate') } });
    expect((await call('GET', `/images/${imageId}/annotation`, reader)).json).toEqual({ svg: null, object: null });
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="5"/></svg>';
    expect((await call('PUT', `/images/${imageId}/annotation`, reader, `annotation=${encodeURIComponent(svg)}`)).status).toBe(401);
    // A member has no annotate right by default either (the recorded X-access-image_annotate is false).
    expect((await call('PUT', `/images/${imageId}/annotation`, await acme.userToken(), `annotation=${encodeURIComponent(svg)}`)).status).toBe(401);
    const put = await call('PUT', `/images/${imageId}/annotation`, writer, `annotation=${encodeURIComponent(svg)}&object=${encodeURIComponent('{"objects":[{"type":"rect"}]}')}`);
    expect(put.status).toBe(200);
    expect(put.json).toEqual({ svg, object: { objects: [{ type: 'rect' }] } });
    const got = await call('GET', `/images/${imageId}/annotation`, reader);
    expect(got.json).toEqual({ svg, object: { objects: [{ type: 'rect' }] } });
    // Served as JSON data that a browser will not sniff into a document.
    expect(got.headers['Content-Type']).toBe('application/json; charset=utf-8');
    expect(got.headers['X-Content-Type-Options']).toBe('nosniff');
    // Cleared by an empty annotation.
    expect((await call('PUT', `/images/${imageId}/annotation`, writer, 'annotation=')).json).toEqual({ svg: null, object: null });
    // Another organization's image does not exist for this token; a token of that organization cannot reach it either.
    const foreign = await imageIn(other, 'ANN');
    expect((await call('GET', `/images/${foreign}/annotation`, reader)).status).toBe(404);
    expect((await call('PUT', `/images/${foreign}/annotation`, writer, 'annotation=x')).status).toBe(404);
    expect((await call('GET', `/images/${randomUUID()}/annotation`, reader)).status).toBe(404);
    expect((await call('GET', `/images/not-a-uuid/annotation`, reader)).status).toBe(404);
  });

  it('stickers: the images of the organization’s sticker album, for any token of it, never another’s', async () => {
    const mine = await imageIn(acme, '_sharinpix_sticker');
    const theirs = await imageIn(other, '_sharinpix_sticker');
    const listed = await call('GET', '/stickers', await acme.integratorToken({ abilities: { main_album: access('see') } }));
    expect(listed.status).toBe(200);
    const ids = listed.json.map((image: { id: string }) => image.id);
    expect(ids).toContain(mine);
    expect(ids).not.toContain(theirs);
    const page = await call('GET', '/stickers?limit=1', await acme.userToken());
    expect(page.json).toHaveLength(1);
    expect((await call('GET', '/stickers?limit=0', await acme.userToken())).status).toBe(400);
    expect((await call('GET', '/stickers', 'x')).status).toBe(401);
  });
});
