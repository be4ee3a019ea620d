import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { shapeOf } from './support/compare.js';
import { access, createTenant, fresh, postUpload, signToken, uploadResult, type Tenant } from './support/fixtures.js';

/**
 * Copy and paste: a clipboard of images the token may copy, pasted as copies that share the
 * Cloudinary asset into an album the token may paste into; the recorded answers, each right,
 * other organizations kept out, counts exact.
 */
const RECORDS = new URL('./records/', import.meta.url);
const record = (name: string) => JSON.parse(readFileSync(new URL(name, RECORDS), 'utf8')).requests[0];

describe.each(DIALECTS)('clipboards on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app);
  });
  afterAll(() => app?.close());

  const call = (method: string, path: string, token: string, body?: string) =>
    app.request({ method, path: `/api/v1${path}`, headers: { ...authorization(token), ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) }, rawBody: body });
  // As the recording's factory made them: with the browser's location.
  const upload = async (tenant: Tenant, album: string) =>
    (await postUpload((req) => app.request(req), await tenant.userToken(), album, { cloudinary: uploadResult({ location: { accuracy: 36, latitude: 48.8619344, longitude: 2.348967 } }) })).json;

  /** The recorded token's claims, for this organization's user. */
  const recordedClaims = (request: any) => {
    const { iat: _i, exp: _e, user_id: _u, ...claims } = decodeJwt(/token="([^"]+)"/.exec(request.request_headers.Authorization)![1]!) as Record<string, any>;
    return claims;
  };

  it('clipboard__create_a_clipboard and clipboard__paste_clipboard answer as recorded', async () => {
    const create = record('clipboard__create_a_clipboard.json');
    const album = Object.keys(recordedClaims(create).abilities)[0]!;
    const sources = [await upload(acme, album), await upload(acme, album), await upload(acme, album)];
    const clipboardId = new URLSearchParams(create.request_body).get('id')!;
    const body = `id=${clipboardId}&${sources.map((s) => `image_ids[]=${s.id}`).join('&')}`;
    const created = await call('POST', '/clipboards', await acme.userToken(recordedClaims(create).abilities), body);
    expect(created.status).toBe(200);
    expect(Object.keys(created.headers).sort()).toEqual(Object.keys(create.response_headers).sort());
    expect(shapeOf(created.json)).toEqual(shapeOf(JSON.parse(create.response_body)));
    expect(created.json).toMatchObject({ id: clipboardId, user_id: acme.user.id, organization_id: acme.organization.id });

    const paste = record('clipboard__paste_clipboard.json');
    const target = new URLSearchParams(paste.request_body).get('album_id')!;
    const pasted = await call('POST', `/clipboards/${clipboardId}/paste`, await acme.userToken(recordedClaims(paste).abilities), `album_id=${target}`);
    expect(pasted.status).toBe(200);
    expect(Object.keys(pasted.headers).sort()).toEqual(Object.keys(paste.response_headers).sort());
    const expected = JSON.parse(paste.response_body);
    // The copies' own fields as recorded; `infos` is the source's upload result (here the fixture's, not the recording's factory's).
    const withoutInfos = (list: any[]) => list.map(({ infos: _infos, ...rest }) => rest);
    expect(shapeOf(withoutInfos(pasted.json))).toEqual(shapeOf(withoutInfos(expected)));
    expect(pasted.json.map((i: any) => i.group_id)).toEqual(sources.map((s) => s.id));
    expect(pasted.json.map((i: any) => i.album_id)).toEqual([target, target, target]);
    // The same asset: the same original.
    expect(pasted.json.map((i: any) => i.original_url)).toEqual(sources.map((s) => s.original_url));
    expect((await call('GET', `/albums/${target}`, await acme.userToken({}, { admin: true }))).json.images_count).toBe(3);
    expect((await call('GET', `/albums/${album}`, await acme.userToken({}, { admin: true }))).json.images_count).toBe(3);
  });

  it('a clipboard older than the trash retention is removed by the purge; a newer one still pastes', async () => {
    const image = await upload(acme, 'CB-OLD');
    const token = await acme.userToken({}, { admin: true });
    const [old, recent] = [crypto.randomUUID(), crypto.randomUUID()];
    for (const id of [old, recent]) expect((await call('POST', '/clipboards', token, `id=${id}&image_ids[]=${image.id}`)).status).toBe(200);
    await app.albumkit.database.db.updateTable('clipboards').set({ created_at: new Date(Date.now() - 31 * 86_400_000) }).where('id', '=', old).execute();
    await app.albumkit.purge.run();
    expect((await call('POST', `/clipboards/${old}/paste`, token, 'album_id=CB-NEW')).status).toBe(404);
    expect((await call('POST', `/clipboards/${recent}/paste`, token, 'album_id=CB-NEW')).status).toBe(200);
  });

  it('rights: image_copy on every image to copy, paste on the target; another organization finds nothing', async () => {
    const a = await upload(acme, 'CP1');
    const b = await upload(acme, 'CP2');
    const copier = await acme.integratorToken({ abilities: { CP1: access('image_copy') }, ...fresh() });
    const id = crypto.randomUUID();
    expect((await call('POST', '/clipboards', copier, `id=${id}&image_ids[]=${a.id}&image_ids[]=${b.id}`)).status).toBe(401);
    expect((await call('POST', '/clipboards', copier, `id=${id}&image_ids[]=${a.id}`)).status).toBe(200);
    expect((await call('POST', '/clipboards', copier, `id=${id}&image_ids[]=${a.id}`)).json.message).toMatch(/^id: /);
    expect((await call('POST', '/clipboards', copier, `id=not-a-uuid&image_ids[]=${a.id}`)).json.message).toMatch(/^id: /);
    expect((await call('POST', '/clipboards', copier, `id=${crypto.randomUUID()}`)).status).toBe(400);

    expect((await call('POST', `/clipboards/${id}/paste`, copier, 'album_id=CP3')).status).toBe(401);
    const paster = await acme.integratorToken({ abilities: { CP3: access('paste') }, ...fresh() });
    const other = await createTenant(app);
    expect((await call('POST', `/clipboards/${id}/paste`, await other.userToken({}, { admin: true }), 'album_id=CP3')).status).toBe(404);
    expect((await call('POST', `/clipboards/${crypto.randomUUID()}/paste`, paster, 'album_id=CP3')).status).toBe(404);
    expect((await call('POST', `/clipboards/${id}/paste`, paster, 'album_id=bad%20album')).status).toBe(400);
    const pasted = await call('POST', `/clipboards/${id}/paste`, paster, 'album_id=CP3');
    expect(pasted.status).toBe(200);
    expect(pasted.json).toHaveLength(1);
    // An image trashed since the copy is left out.
    expect((await call('DELETE', `/images/${a.id}`, await acme.userToken())).status).toBe(204);
    expect((await call('POST', `/clipboards/${id}/paste`, paster, 'album_id=CP3')).json).toEqual([]);
  });
});
