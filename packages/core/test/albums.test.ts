import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../src/db/schema.js';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { mask, shapeOf } from './support/compare.js';
import { access, createTenant, fresh, postUpload, signToken, uploadResult, type Tenant } from './support/fixtures.js';
import { imageRow } from './support/seed-replay.js';

/**
 * Album management: the album with its thumbnails (latest images), the organization's album
 * list, rename and merge, album duplicate, and moving images between albums; the recorded
 * answers, each right, 400s, counts that stay exact, one event per moved image.
 */
const RECORDS = new URL('./records/', import.meta.url);
const record = (name: string) => JSON.parse(readFileSync(new URL(name, RECORDS), 'utf8')).requests[0];

describe.each(DIALECTS)('albums on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;
  let admin: string;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app);
    admin = await acme.userToken({}, { admin: true });
  });
  afterAll(() => app?.close());

  const call = (method: string, path: string, token: string, body?: string) =>
    app.request({ method, path: `/api/v1${path}`, headers: { ...authorization(token), ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) }, rawBody: body });

  /** The recorded request's organization, its user, and its token re-signed. */
  async function replaySetup(name: string): Promise<{ organization: Organization; token: string; request: any; expected: any }> {
    const request = record(name);
    const { iat: _i, exp: _e, ...claims } = decodeJwt(/token="([^"]+)"/.exec(request.request_headers.Authorization)![1]!) as Record<string, any>;
    const organization = await app.albumkit.setup.createOrganization(`Albums ${name}`);
    await app.albumkit.database.db.insertInto('users').values({ id: claims.user_id, organization_id: organization.id, sfid: null, email: null, name: null }).execute();
    return { organization, token: await signToken({ ...claims, ...fresh() }), request, expected: request.response_body ? JSON.parse(request.response_body) : undefined };
  }

  /** Images as a factory made them, from recorded JSON (each its own upload; counted in its album). */
  async function arrangeImages(organizationId: string, images: any[], album?: string, tags: string[] = []): Promise<void> {
    for (const image of images) {
      const albumId = album ?? image.album_id;
      await app.albumkit.repositories.albums.findOrCreate(organizationId, albumId);
      await app.albumkit.database.db
        .insertInto('images')
        .values({ ...imageRow({ ...image, album_id: albumId }, organizationId), upload_key: `${image.id}@1`, created_at: image.created_at })
        .execute();
      await app.albumkit.database.db
        .insertInto('album_image_counts')
        .values({ organization_id: organizationId, album_id: albumId, shard: 0, count: 1 })
        .onConflict((oc) => oc.columns(['organization_id', 'album_id', 'shard']).doUpdateSet((eb) => ({ count: eb('album_image_counts.count', '+', 1) })))
        .execute();
      await app.albumkit.repositories.images.addTags(image.id, tags);
    }
  }

  const send = (request: any, token: string) =>
    app.request({
      method: request.request_method,
      path: '/' + request.request_path.replace(/^\//, ''),
      headers: { ...authorization(token), ...(request.request_headers['Content-Type'] ? { 'Content-Type': request.request_headers['Content-Type'] } : {}) },
      rawBody: request.request_body ?? undefined,
    });

  /** The masked JSON without its clocks (the factory's times are not the recording's). */
  function unclocked(value: unknown): unknown {
    const masked = mask(value);
    const strip = (v: any): any =>
      Array.isArray(v) ? v.map(strip) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'created_at' && k !== 'updated_at').map(([k, x]) => [k, strip(x)])) : v;
    return strip(masked);
  }

  function expectRecorded(response: any, request: any, expected: any): void {
    expect(response.status).toBe(request.response_status);
    expect(Object.keys(response.headers).sort()).toEqual(Object.keys(request.response_headers).sort());
    expect(shapeOf(response.json)).toEqual(shapeOf(expected));
  }

  it('album__retrieve_an_album: the album with its latest images as thumbnails', async () => {
    const { organization, token, request, expected } = await replaySetup('album__retrieve_an_album.json');
    await arrangeImages(organization.id, expected.thumbnails);
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(unclocked(response.json)).toEqual(unclocked(expected));
  });

  it('album__listing_albums: the organization’s albums, newest first, with their thumbnails', async () => {
    const { organization, token, request, expected } = await replaySetup('album__listing_albums.json');
    // Created oldest first, as the recording did.
    for (const album of [...expected].reverse()) {
      await app.albumkit.database.db.insertInto('albums').values({ organization_id: organization.id, id: album.id, created_at: album.thumbnails[0].created_at }).execute();
      await arrangeImages(organization.id, album.thumbnails);
    }
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(unclocked(response.json)).toEqual(unclocked(expected));
  });

  it('album__rename_an_album and album__do_not_create_an_album', async () => {
    const renamed = await replaySetup('album__rename_an_album.json');
    await app.albumkit.repositories.albums.findOrCreate(renamed.organization.id, '00100000123BB23');
    const response = await send(renamed.request, renamed.token);
    expectRecorded(response, renamed.request, renamed.expected);
    expect(unclocked(response.json)).toEqual(unclocked(renamed.expected));
    expect(await app.albumkit.repositories.albums.find(renamed.organization.id, '00100000123BB23')).toBeUndefined();

    const missing = await replaySetup('album__do_not_create_an_album.json');
    const none = await send(missing.request, missing.token);
    expect(none.status).toBe(200);
    expect(none.body).toBe('');
    expect(Object.keys(none.headers).sort()).toEqual(Object.keys(missing.request.response_headers).sort());
    expect(await app.albumkit.repositories.albums.find(missing.organization.id, 'new_id')).toBeUndefined();
    expect(await app.albumkit.repositories.albums.find(missing.organization.id, 'idonotexists')).toBeUndefined();
  });

  it('album__moving_images_from_source_album_to_destination_album: merge moves every image and removes the source', async () => {
    const { organization, token, request, expected } = await replaySetup('album__moving_images_from_source_album_to_destination_album.json');
    const [a, b, c, d] = expected.thumbnails;
    const filler = (n: number, album: string) => Array.from({ length: n }, (_, i) => ({ ...a, id: crypto.randomUUID(), created_at: `2019-04-08T19:38:4${i}.000+02:00`, album_id: album }));
    await arrangeImages(organization.id, [a, b, ...filler(3, '00100000123BB36')], '00100000123BB36');
    await arrangeImages(organization.id, [c, d, ...filler(3, '00100000123BB38')], '00100000123BB38');
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(response.json.images_count).toBe(10);
    expect(response.json.thumbnails.map((t: { id: string }) => t.id).sort()).toEqual([a.id, b.id, c.id, d.id].sort());
    expect(await app.albumkit.repositories.albums.find(organization.id, '00100000123BB36')).toBeUndefined();
  });

  it('album__duplicate_an_album_with_tags: copies share the asset, keep their tags, and are counted', async () => {
    const { organization, token, request, expected } = await replaySetup('album__duplicate_an_album_with_tags.json');
    const sources = expected.thumbnails.map((t: any) => ({ ...t, id: t.group_id, group_id: null, album_id: '00100000123BB48' }));
    sources.push({ ...sources[0], id: crypto.randomUUID(), created_at: '2019-04-08T19:38:47.400+02:00' });
    await arrangeImages(organization.id, sources, undefined, ['red', 'blue']);
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(response.json.images_count).toBe(5);
    expect(response.json.thumbnails.map((t: any) => t.group_id)).toEqual(expected.thumbnails.map((t: any) => t.group_id));
    for (const copy of response.json.thumbnails) {
      const source = sources.find((s: any) => s.id === copy.group_id);
      expect(copy.original_url).toBe((await call('GET', `/images/${source.id}`, token)).json.original_url);
    }
    const synced = await call('GET', `/image_syncs?${response.json.thumbnails.map((t: any) => `ids[]=${t.id}`).join('&')}`, token);
    for (const image of synced.json) expect(image.tag_names).toEqual(['blue', 'red']);
    // The source is untouched.
    expect((await call('GET', '/albums/00100000123BB48', token)).json.images_count).toBe(5);
  });

  it('image_api__move_multiple_images_across_multiple_albums: the moved ids, newest first, destinations created', async () => {
    const { organization, token, request, expected } = await replaySetup('image_api__move_multiple_images_across_multiple_albums.json');
    const template = JSON.parse(record('image_api__retrieve_an_image.json').response_body);
    const ids = new URLSearchParams(request.request_body).keys();
    const images = [...ids].map((key, i) => ({ ...template, id: /\[(.+)\]/.exec(key)![1], created_at: `2019-04-08T19:38:5${i}.000+02:00` }));
    await arrangeImages(organization.id, images, '00100000123BB138');
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(response.json).toEqual(expected);
    const counts = async (album: string) => (await call('GET', `/albums/${album}`, token)).json.images_count;
    expect(await counts('00100000123BB138')).toBe(0);
    expect(await counts('00100000123BB140')).toBe(2);
    expect(await counts('00100000123BB141')).toBe(1);
    expect(await counts('custom_id')).toBe(1);
  });

  async function upload(album: string, n = 1): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push((await postUpload((req) => app.request(req), await acme.userToken(), album, { cloudinary: uploadResult() })).json.id);
    return ids;
  }

  it('every copy is one copy_image event (image duplicate, album duplicate, paste), with its source', async () => {
    const [a, b] = await upload('CP-SRC', 2);
    const seen: string[] = [];
    const off = app.albumkit.on('copy_image', (e) => void seen.push(`${e.source_image_id}>${e.album_id}`));
    const single = await call('POST', `/images/${a}/duplicate`, admin);
    expect(single.status).toBe(200);
    expect((await call('POST', '/albums/CP-SRC/duplicate', admin, 'destination_id=CP-DUP')).status).toBe(200);
    const clipboard = crypto.randomUUID();
    expect((await call('POST', '/clipboards', admin, `id=${clipboard}&image_ids[]=${b}`)).status).toBe(200);
    const pasted = await call('POST', `/clipboards/${clipboard}/paste`, admin, 'album_id=CP-PASTE');
    expect(pasted.status).toBe(200);
    off();
    // The album duplicate copied the two images and the first copy (three live images then).
    expect(seen.sort()).toEqual([`${a}>CP-SRC`, `${a}>CP-DUP`, `${b}>CP-DUP`, `${single.json.id}>CP-DUP`, `${b}>CP-PASTE`].sort());
    const recorded = await app.albumkit.database.db.selectFrom('events').select(['payload']).where('organization_id', '=', acme.organization.id).where('type', '=', 'copy_image').execute();
    const copies = recorded.map((e) => (e.payload as { image_id: string }).image_id);
    expect(copies).toContain(single.json.id);
    expect(copies).toContain(pasted.json[0].id);
    expect(new Set(copies).size).toBe(copies.length);
  });

  it('rename needs rename; merging needs merge=true; names are checked', async () => {
    await upload('R1', 2);
    await upload('R2', 1);
    const member = await acme.userToken();
    expect((await call('PUT', '/albums/R1', member, 'album[public_id]=R3')).status).toBe(401);
    const renamer = await acme.integratorToken({ abilities: { R1: access('rename') }, ...fresh() });
    const refused = await call('PUT', '/albums/R1', renamer, 'album[public_id]=R2');
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/^album\.public_id: /);
    expect((await call('PUT', '/albums/R1', renamer, 'album[public_id]=bad%20id')).json.message).toMatch(/^album\.public_id: /);
    expect((await call('PUT', '/albums/R1', renamer, '')).status).toBe(400);
    const merged = await call('PUT', '/albums/R1', renamer, 'album[public_id]=R2&merge=true');
    expect(merged.status).toBe(200);
    expect(merged.json.images_count).toBe(3);
    expect((await call('GET', '/albums/R2/images', admin)).json).toHaveLength(3);
    // Another organization's album of the same name is another album.
    const other = await createTenant(app);
    expect((await call('PUT', '/albums/R2', await other.userToken({}, { admin: true }), 'album[public_id]=R9')).body).toBe('');
    expect((await call('GET', '/albums/R2', admin)).json.images_count).toBe(3);
  });

  it('the album list: a member sees every album, another token those it names; paged newest first', async () => {
    const tenant = await createTenant(app);
    for (const album of ['L1', 'L2', 'L3']) await postUpload((req) => app.request(req), await tenant.userToken(), album, { cloudinary: uploadResult() });
    const all = await call('GET', '/albums', await tenant.userToken());
    expect(all.json.map((a: { id: string }) => a.id)).toEqual(['L3', 'L2', 'L1']);
    const named = await call('GET', '/albums', await tenant.integratorToken({ abilities: { L2: access('see') }, ...fresh() }));
    expect(named.json.map((a: { id: string }) => a.id)).toEqual(['L2']);
    const first = await call('GET', '/albums?limit=2', await tenant.userToken());
    expect(first.json.map((a: { id: string }) => a.id)).toEqual(['L3', 'L2']);
    const rest = await call('GET', `/albums?limit=2&cursor=${first.headers['X-Next-Cursor']}`, await tenant.userToken());
    expect(rest.json.map((a: { id: string }) => a.id)).toEqual(['L1']);
    expect(rest.headers['X-Next-Cursor']).toBeUndefined();
    expect((await call('GET', '/albums?cursor=bogus', await tenant.userToken())).status).toBe(400);
  });

  it('move: all or nothing, rights on both albums, one move_image event per image, counts exact', async () => {
    const ids = await upload('M1', 3);
    const [foreign] = await (async () => {
      const other = await createTenant(app);
      return [(await postUpload((req) => app.request(req), await other.userToken(), 'M1', { cloudinary: uploadResult() })).json.id as string];
    })();
    const body = (list: string[], to: string) => list.map((id) => `move_operations[${id}]=${to}`).join('&');
    expect((await call('POST', '/images/move', admin, body([...ids, foreign], 'M2'))).status).toBe(401);
    const narrow = await acme.integratorToken({ abilities: { M1: access('image_delete'), M2: access('see') }, ...fresh() });
    expect((await call('POST', '/images/move', narrow, body(ids, 'M2'))).status).toBe(401);
    expect((await call('GET', '/albums/M1', admin)).json.images_count).toBe(3);
    const seen: Array<[string, string]> = [];
    const off = app.albumkit.on('move_image', (event) => void seen.push([event.image_id, `${event.from_album_id}>${event.album_id}`]));
    const mover = await acme.integratorToken({ abilities: { M1: access('image_delete'), M2: access('image_upload') }, ...fresh() });
    const moved = await call('POST', '/images/move', mover, body(ids, 'M2'));
    off();
    expect(moved.status).toBe(200);
    expect(moved.json).toEqual([...ids].reverse());
    expect(seen.sort()).toEqual(ids.map((id) => [id, 'M1>M2'] as [string, string]).sort());
    expect((await call('GET', '/albums/M1', admin)).json.images_count).toBe(0);
    expect((await call('GET', '/albums/M2', admin)).json.images_count).toBe(3);
    expect((await call('POST', '/images/move', admin, 'move_operations[x]=')).status).toBe(400);
    expect((await call('POST', '/images/move', admin, '')).status).toBe(400);
  });

  it('concurrent moves, merges and deletes keep every count equal to the live rows', async () => {
    const ids = await upload('C1', 8);
    await upload('C2', 2);
    const body = (list: string[], to: string) => list.map((id) => `move_operations[${id}]=${to}`).join('&');
    const responses = await Promise.all([
      call('POST', '/images/move', admin, body(ids.slice(0, 4), 'C2')),
      call('POST', '/images/move', admin, body(ids.slice(2, 6), 'C3')),
      call('DELETE', `/images/${ids[1]}`, admin),
      call('DELETE', `/images/${ids[6]}`, admin),
      call('POST', '/images/move', admin, body([ids[7]!], 'C2')),
      call('PUT', '/albums/C3', admin, 'album[public_id]=C2&merge=true'),
    ]);
    const live = await app.albumkit.database.db
      .selectFrom('images')
      .select(['album_id'])
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('organization_id', '=', acme.organization.id)
      .where('album_id', 'in', ['C1', 'C2', 'C3'])
      .where('deleted_at', 'is', null)
      .groupBy('album_id')
      .execute();
    let total = 0;
    for (const album of ['C1', 'C2', 'C3']) {
      const rows = Number(live.find((row) => row.album_id === album)?.n ?? 0);
      total += rows;
      const json = (await call('GET', `/albums/${album}`, admin)).json;
      if (json) expect(json.images_count, album).toBe(rows);
    }
    // Both deletes happen whatever they race with (the statuses say what happened if not).
    expect(total, JSON.stringify(responses.map((r) => [r.status, r.body.slice(0, 200)]))).toBe(10 - 2);
  });
});
