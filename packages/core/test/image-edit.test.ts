import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { mask, shapeOf } from './support/compare.js';
import { access, createTenant, fresh, postUpload, signToken, uploadResult, type Tenant } from './support/fixtures.js';
import { imageRow } from './support/seed-replay.js';

/**
 * `PUT /images/:id`: rotation, crop and caption, each behind its own ability; the recorded
 * answers (rendition URLs included, once ids and signatures are masked); width and height after
 * the edit; one `update_image` event per change; readers see the edit at once.
 */
const RECORDS = new URL('./records/', import.meta.url);
const record = (name: string) => JSON.parse(readFileSync(new URL(name, RECORDS), 'utf8')).requests[0];
const EDITS = ['image_api__rotate_an_image.json', 'image_api__crop_an_image.json', 'image_api__set_image_caption.json'];

describe.each(DIALECTS)('image edits on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app);
  });
  afterAll(() => app?.close());

  const put = (id: string, token: string, body: string) =>
    app.request({ method: 'PUT', path: `/api/v1/images/${id}`, headers: { ...authorization(token), 'Content-Type': 'application/x-www-form-urlencoded' }, rawBody: body });

  async function uploaded(album: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const response = await postUpload((req) => app.request(req), await acme.userToken(), album, { cloudinary: uploadResult({ width: 640, height: 480, ...overrides }) });
    expect(response.status).toBe(200);
    return response.json.id;
  }

  it.each(EDITS)('%s answers as recorded', async (name) => {
    const recorded = record(name);
    const expected = JSON.parse(recorded.response_body);
    const { iat: _i, exp: _e, ...claims } = decodeJwt(/token="([^"]+)"/.exec(recorded.request_headers.Authorization)![1]!) as Record<string, any>;
    const organization = await app.albumkit.setup.createOrganization(`Edit ${name}`);
    await app.albumkit.database.db.insertInto('users').values({ id: claims.user_id, organization_id: organization.id, sfid: null, email: null, name: null }).onConflict((oc) => oc.doNothing()).execute();
    // The image as it was before the edit.
    const before = { ...expected, rotation: 0, crop_x: 0, crop_y: 0, crop_w: 0, crop_h: 0, width: expected.original_width, height: expected.original_height, title: null, description: null };
    await app.albumkit.repositories.albums.findOrCreate(organization.id, expected.album_id);
    await app.albumkit.database.db.insertInto('images').values(imageRow(before, organization.id)).execute();

    const response = await put(expected.id, await signToken({ ...claims, ...fresh() }), recorded.request_body);
    expect(response.status).toBe(200);
    expect(Object.keys(response.headers).sort()).toEqual(Object.keys(recorded.response_headers).sort());
    expect(shapeOf(response.json)).toEqual(shapeOf(expected));
    // Same values, rendition URLs included (transformations in the recorded order), once ids, clocks and signatures are masked.
    const { external_urls: urls, ...rest } = mask(response.json) as Record<string, any>;
    const { external_urls: expectedUrls, ...expectedRest } = mask(expected) as Record<string, any>;
    expect(rest).toEqual(expectedRest);
    // The proxied thumbnails' host is the configured proxy; what they carry is the edited rendition's name.
    expect(urls.fill100).toBe(expectedUrls.fill100);
    expect(urls.fit2000).toBe(expectedUrls.fit2000);
  });

  it('needs the ability of each field, and all of them for several', async () => {
    const id = await uploaded('EDIT');
    const only = async (...abilities: string[]) => acme.integratorToken({ abilities: { EDIT: access(...abilities) }, ...fresh() });
    expect((await put(id, await only('image_crop', 'image_caption'), 'rotation=90')).status).toBe(401);
    expect((await put(id, await only('image_rotate', 'image_caption'), 'rotation=0&crop_x=0&crop_y=0&crop_w=10&crop_h=10')).status).toBe(401);
    expect((await put(id, await only('image_rotate', 'image_crop'), 'title=x')).status).toBe(401);
    expect((await put(id, await only('image_rotate'), 'rotation=90&title=x')).status).toBe(401);
    expect((await put(id, await only('image_list'), 'description=x')).status).toBe(401);
    // Nothing changed by the refused calls.
    const image = await app.albumkit.repositories.images.find(acme.organization.id, id);
    expect([image!.rotation, image!.crop_w, image!.title, image!.description]).toEqual([0, 0, null, null]);
    expect((await put(id, await only('image_rotate', 'image_caption'), 'rotation=90&title=Both')).status).toBe(200);
    // A crop call carries its rotation with image_crop alone (as recorded).
    expect((await put(id, await only('image_crop'), 'rotation=180&crop_x=0&crop_y=0&crop_w=10&crop_h=10')).status).toBe(200);
    // Another organization's image does not exist for this token.
    const other = await createTenant(app);
    expect((await put(id, await other.userToken(), 'rotation=90')).status).toBe(404);
    expect((await put(id, await other.integratorToken({ abilities: { EDIT: access('image_rotate') } }), 'rotation=90')).status).toBe(401);
  });

  it('refuses bad fields with a 400 that names them, and changes nothing', async () => {
    const id = await uploaded('EDIT400');
    const token = await acme.userToken({}, { admin: true });
    const cases: Array<[string, string]> = [
      ['rotation=45', 'rotation'],
      ['rotation=ninety', 'rotation'],
      ['crop_x=1&crop_y=1&crop_w=10', 'crop_h'],
      ['crop_x=630&crop_y=0&crop_w=20&crop_h=10', 'crop_x'],
      ['crop_x=0&crop_y=475&crop_w=20&crop_h=10', 'crop_y'],
      ['crop_x=1&crop_y=1&crop_w=0&crop_h=10', 'crop_w'],
      ['crop_x=-1&crop_y=0&crop_w=10&crop_h=10', 'crop_x'],
      [`title=${'t'.repeat(10_001)}`, 'title'],
      ['description[a]=1', 'description'],
    ];
    for (const [body, field] of cases) {
      const response = await put(id, token, body);
      expect(response.status, body).toBe(400);
      expect(response.json.message, body).toMatch(new RegExp(`^${field}: `));
    }
    const image = await app.albumkit.repositories.images.find(acme.organization.id, id);
    expect([image!.rotation, image!.crop_w, image!.width, image!.height]).toEqual([0, 0, 640, 480]);
    expect((await put('not-a-uuid', token, 'rotation=90')).status).toBe(404);
  });

  it('width and height follow the crop and the rotation; rotation is kept modulo 360', async () => {
    const id = await uploaded('GEOMETRY');
    const token = await acme.userToken({}, { admin: true });
    let image = (await put(id, token, 'rotation=90')).json;
    expect([image.rotation, image.width, image.height]).toEqual([90, 480, 640]);
    image = (await put(id, token, 'rotation=450&crop_x=10&crop_y=20&crop_w=300&crop_h=200')).json;
    expect([image.rotation, image.crop_x, image.crop_y, image.crop_w, image.crop_h, image.width, image.height]).toEqual([90, 10, 20, 300, 200, 200, 300]);
    image = (await put(id, token, 'rotation=-180')).json;
    expect([image.rotation, image.width, image.height]).toEqual([180, 300, 200]);
    image = (await put(id, token, 'crop_x=0&crop_y=0&crop_w=0&crop_h=0&rotation=0')).json;
    expect([image.crop_w, image.width, image.height, image.original_width]).toEqual([0, 640, 480, 640]);
    // The original stays available, unedited.
    image = (await put(id, token, 'rotation=270&crop_x=1&crop_y=2&crop_w=30&crop_h=40')).json;
    expect(image.original_url).not.toMatch(/a_270|c_crop/);
    expect(image.thumbnails.original).not.toMatch(/a_270|c_crop/);
    for (const url of [image.thumbnails.full, image.thumbnails.large, image.thumbnails.mini, image.external_urls.fill100, image.external_urls.fit2000]) {
      expect(url).toContain('/c_crop,h_40,w_30,x_1,y_2/');
      expect(url).toContain('a_270/');
    }
    // JSON bodies too.
    const json = await app.request({ method: 'PUT', path: `/api/v1/images/${id}`, headers: { ...authorization(token), 'Content-Type': 'application/json' }, rawBody: JSON.stringify({ rotation: 0, title: 'From JSON', description: null }) });
    expect(json.status).toBe(200);
    expect([json.json.rotation, json.json.title, json.json.description]).toEqual([0, 'From JSON', null]);
  });

  it('one update_image event per change, none for an edit that changes nothing; readers see the edit at once', async () => {
    const id = await uploaded('EVENTS');
    const token = await acme.userToken({}, { admin: true });
    const seen: string[] = [];
    const off = app.albumkit.on('update_image', (event) => void seen.push(event.image_id));
    // Read first: the JSON is cached.
    expect((await app.request({ method: 'GET', path: `/api/v1/images/${id}`, headers: authorization(token) })).json.title).toBeNull();
    await put(id, token, 'title=Hello');
    await put(id, token, 'title=Hello');
    await put(id, token, 'rotation=90');
    off();
    expect(seen).toEqual([id, id]);
    const recorded = await app.albumkit.database.db.selectFrom('events').select('type').where('organization_id', '=', acme.organization.id).where('type', '=', 'update_image').where('album_id', '=', 'EVENTS').execute();
    expect(recorded).toHaveLength(2);
    const read = (await app.request({ method: 'GET', path: `/api/v1/images/${id}`, headers: authorization(token) })).json;
    expect([read.title, read.rotation]).toEqual(['Hello', 90]);
  });
});
