import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../src/db/schema.js';
import { contrastColor, TAG_PALETTE } from '../src/serializers/tag.js';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { mask, shapeOf } from './support/compare.js';
import { access, createTenant, fresh, postUpload, signToken, uploadResult, type Tenant } from './support/fixtures.js';
import { imageRow } from './support/seed-replay.js';

/**
 * Tags: the recorded examples replayed with the state they had, and what the records imply:
 * who may create, share, tag and untag, what each token sees, public pages, events, and that
 * nothing crosses organizations.
 */
const RECORDS = new URL('./records/', import.meta.url);
const record = (name: string) => JSON.parse(readFileSync(new URL(name, RECORDS), 'utf8')).requests[0];

describe.each(DIALECTS)('tags on %s', (dialect) => {
  let app: TestApp;
  let acme: Tenant;
  let other: Tenant;
  let admin: string;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    acme = await createTenant(app);
    other = await createTenant(app);
    admin = await acme.userToken({}, { admin: true });
  });
  afterAll(() => app?.close());

  const form = (fields: Record<string, string | string[]>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) params.append(Array.isArray(v) ? `${k}[]` : k, x);
    return params.toString();
  };
  const call = (method: string, path: string, token: string | null, body?: string) =>
    app.request({
      method,
      path: `/api/v1${path}`,
      headers: { ...(token ? authorization(token) : {}), ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
      rawBody: body,
    });

  // ---- Recorded examples -------------------------------------------------------------------

  async function replaySetup(name: string): Promise<{ organization: Organization; token: string; request: any; expected: any }> {
    const request = record(name);
    const { iat: _i, exp: _e, ...claims } = decodeJwt(/token="([^"]+)"/.exec(request.request_headers.Authorization ?? 'token="a.e30.c"')![1]!) as Record<string, any>;
    const organization = await app.albumkit.setup.createOrganization(`Tags ${name}`);
    if (claims.user_id) await app.albumkit.database.db.insertInto('users').values({ id: claims.user_id, organization_id: organization.id, sfid: null, email: null, name: null }).execute();
    return { organization, token: await signToken({ ...claims, ...fresh() }), request, expected: request.response_body ? JSON.parse(request.response_body) : undefined };
  }

  /** A tag as the recording had it. */
  async function arrangeTag(organizationId: string, tag: any): Promise<void> {
    await app.albumkit.database.db
      .insertInto('tags')
      .values({
        id: tag.id,
        organization_id: organizationId,
        name: tag.name,
        labels: tag.label ?? JSON.stringify({ en: tag.name, fr: tag.name }),
        public: tag.public,
        listed: tag.listed ?? true,
        visible: tag.visible ?? false,
        allow_download: tag.allow_download,
        color: tag.color,
        created_at: tag.created_at,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async function arrangeImage(organizationId: string, image: any): Promise<void> {
    await app.albumkit.repositories.albums.findOrCreate(organizationId, image.album_id);
    await app.albumkit.database.db
      .insertInto('images')
      .values({ ...imageRow(image, organizationId), upload_key: `${image.id}@1`, created_at: image.created_at })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async function arrangeLink(organizationId: string, link: any): Promise<void> {
    await arrangeTag(organizationId, link.tag);
    await arrangeImage(organizationId, link.image);
    await app.albumkit.database.db
      .insertInto('tag_images')
      .values({ id: link.id, organization_id: organizationId, tag_id: link.tag.id, image_id: link.image.id, user_id: link.user ?? null, created_at: link.created_at })
      .execute();
  }

  const send = (request: any, token: string | null) =>
    app.request({
      method: request.request_method,
      path: '/' + request.request_path.replace(/^\//, ''),
      headers: { ...(token ? authorization(token) : {}), ...(request.request_headers['Content-Type'] ? { 'Content-Type': request.request_headers['Content-Type'] } : {}) },
      rawBody: request.request_body ?? undefined,
    });

  /** Masked, without clocks, and without the colour a new tag draws at random. */
  function comparable(value: unknown): unknown {
    const strip = (v: any): any =>
      Array.isArray(v)
        ? v.map(strip)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).filter(([k]) => !['created_at', 'updated_at'].includes(k)).map(([k, x]) => [k, strip(x)]))
          : v;
    return strip(mask(value));
  }

  function expectRecorded(response: any, request: any, expected: any): void {
    expect(response.status).toBe(request.response_status);
    expect(Object.keys(response.headers).sort()).toEqual(Object.keys(request.response_headers).sort());
    expect(shapeOf(response.json)).toEqual(shapeOf(expected));
  }

  it('tag__create_the_tag: a new tag with its labels, flags, a palette colour and its contrast', async () => {
    const { token, request, expected } = await replaySetup('tag__create_the_tag.json');
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    const { color, color_contrast, ...rest } = response.json;
    const { color: _c, color_contrast: _cc, ...recorded } = expected;
    expect(comparable(rest)).toEqual(comparable(recorded));
    expect(TAG_PALETTE).toContain(color);
    expect(color_contrast).toBe(contrastColor(color));
    expect(response.json.url).toBe(`/public_tags/${response.json.id}`);
    // Created again: the same tag, not a second one.
    const again = await send(request, token);
    expect(again.json.id).toBe(response.json.id);
  });

  it('the contrast colour of every recorded tag is the one recorded', () => {
    const tagsIn = (value: any): any[] =>
      Array.isArray(value) ? value.flatMap(tagsIn) : value && typeof value === 'object' ? [...('color_contrast' in value ? [value] : []), ...Object.values(value).flatMap(tagsIn)] : [];
    const recorded = ['tag__create_the_tag.json', 'tag__update_public_tag_with_download_allowed.json', 'tags_token__retreive_tags_by_names.json', 'tag__retrieve_tags.json', 'tag__returns_autocomplete_tags.json', 'tag_image__create_tag_images_from_tag_id.json', 'tag_image__retrieve_tag_images.json']
      .flatMap((name) => tagsIn(JSON.parse(record(name).response_body)));
    expect(recorded.length).toBeGreaterThan(5);
    for (const tag of recorded) expect(contrastColor(tag.color), tag.color).toBe(tag.color_contrast);
  });

  it('tag__retrieve_tags: the organization’s tags', async () => {
    const { organization, token, request, expected } = await replaySetup('tag__retrieve_tags.json');
    for (const tag of expected) await arrangeTag(organization.id, tag);
    await arrangeTag((await createTenant(app)).organization.id, { ...expected[0], id: crypto.randomUUID() });
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(comparable(response.json)).toEqual(comparable(expected));
  });

  it('tag__returns_autocomplete_tags: a part of the name, any case, with the filters', async () => {
    const { organization, token, request, expected } = await replaySetup('tag__returns_autocomplete_tags.json');
    const base = { public: false, visible: false, allow_download: false, created_at: new Date().toISOString() };
    await arrangeTag(organization.id, { ...base, ...expected[0], listed: true });
    await arrangeTag(organization.id, { ...base, id: crypto.randomUUID(), name: 'SUPERB unlisted', color: '#F44336', listed: false });
    await arrangeTag(organization.id, { ...base, id: crypto.randomUUID(), name: 'other', color: '#F44336', listed: true });
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(comparable(response.json)).toEqual(comparable(expected));
    // Listed tags by default; the filters may ask for the others.
    expect((await call('GET', '/tags/autocomplete?q=UPER', token)).json.map((t: any) => t.name)).toEqual(['Super tag']);
    const unlisted = await call('GET', `/tags/autocomplete?q=UPER&filters=${encodeURIComponent('{"listed":false}')}`, token);
    expect(unlisted.json.map((t: any) => t.name)).toEqual(['SUPERB unlisted']);
  });

  it('tag__update_public_tag_with_download_allowed: `Access.share` may allow downloads of a public tag', async () => {
    const { organization, token, request, expected } = await replaySetup('tag__update_public_tag_with_download_allowed.json');
    await arrangeTag(organization.id, { ...expected, allow_download: false });
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(comparable(response.json)).toEqual(comparable(expected));
  });

  it('tag_image__create_tag_images_from_tag_id: links for each image, with the image and the tag', async () => {
    const { organization, token, request, expected } = await replaySetup('tag_image__create_tag_images_from_tag_id.json');
    await arrangeTag(organization.id, expected[0].tag);
    for (const id of new URLSearchParams(request.request_body).getAll('image_ids[]')) {
      await arrangeImage(organization.id, { ...expected.find((l: any) => l.image.id === id)?.image, ...expected[0].image, id });
    }
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    const ids = new URLSearchParams(request.request_body).getAll('image_ids[]');
    expect(response.json.map((l: any) => l.image.id)).toEqual(ids);
    const mine = expected.find((l: any) => l.image.id === ids[2]);
    expect(comparable({ ...response.json[2], id: mine.id })).toEqual(comparable(mine));
  });

  it('tag_image__retrieve_tag_images: the links of a tag in an album', async () => {
    const { organization, token, request, expected } = await replaySetup('tag_image__retrieve_tag_images.json');
    for (const link of expected) await arrangeLink(organization.id, link);
    // Another album's link, and a trashed image's: not listed.
    const elsewhere = { ...expected[0], id: crypto.randomUUID(), image: { ...expected[0].image, id: crypto.randomUUID(), album_id: 'elsewhere' } };
    await arrangeLink(organization.id, elsewhere);
    const trashed = { ...expected[0], id: crypto.randomUUID(), image: { ...expected[0].image, id: crypto.randomUUID() } };
    await arrangeLink(organization.id, trashed);
    await app.albumkit.database.db.updateTable('images').set({ deleted_at: new Date() }).where('id', '=', trashed.image.id).execute();
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    expect(comparable(response.json)).toEqual(comparable(expected));
  });

  it('tag_image__delete_a_tag_image: 204, and the link is gone', async () => {
    const { organization, token, request } = await replaySetup('tag_image__delete_a_tag_image.json');
    const template = JSON.parse(record('tag_image__retrieve_tag_images.json').response_body)[0];
    const linkId = /tag_images\/([0-9a-f-]{36})/.exec(request.request_path)![1];
    // The token's tag on an image of its album (ids of this test's own).
    const tag = { ...template.tag, id: crypto.randomUUID() };
    await arrangeLink(organization.id, { ...template, id: linkId, tag, image: { ...template.image, id: crypto.randomUUID() } });
    const response = await send(request, token);
    expect(response.status).toBe(204);
    expect(Object.keys(response.headers).sort()).toEqual(Object.keys(request.response_headers).sort());
    expect(await app.albumkit.database.db.selectFrom('tag_images').selectAll().where('id', '=', linkId!).execute()).toEqual([]);
    expect((await send(request, token)).status).toBe(404);
  });

  it('tags_token__retreive_tags_by_names: the tags the token names, created with its labels, in token order', async () => {
    const { token, request, expected } = await replaySetup('tags_token__retreive_tags_by_names.json');
    const response = await send(request, token);
    expectRecorded(response, request, expected);
    const labels = (list: any[]) => list.map((t) => [t.name, t.label, t.label_en, t.label_fr, t.public, t.listed]);
    expect(labels(response.json)).toEqual(labels(expected));
    const again = await send(request, token);
    expect(again.json.map((t: any) => t.id)).toEqual(response.json.map((t: any) => t.id));
  });

  it('public_tag__retrieve_public_image_from_tag: a public tag’s images for anyone, without signed URLs', async () => {
    const request = record('public_tag__retrieve_public_image_from_tag.json');
    const expected = JSON.parse(request.response_body);
    const organization = await app.albumkit.setup.createOrganization('Public tag');
    const template = JSON.parse(record('tag_image__retrieve_tag_images.json').response_body)[0].image;
    const link = expected[0];
    await arrangeTag(organization.id, { ...link.tag, listed: true, visible: false });
    await arrangeImage(organization.id, { ...template, ...link.image, metadatas: template.metadatas, exifs: template.exifs, gps: template.gps });
    await app.albumkit.database.db
      .insertInto('tag_images')
      .values({ id: link.id, organization_id: organization.id, tag_id: link.tag.id, image_id: link.image.id, user_id: null, created_at: link.created_at })
      .execute();
    const response = await send(request, null);
    expectRecorded(response, request, expected);
    expect(comparable(response.json)).toEqual(comparable(expected));
    expect(JSON.stringify(response.json)).not.toContain('cloudinary');
    // Not public: not found, whoever asks.
    await app.albumkit.database.db.updateTable('tags').set({ public: false }).where('id', '=', link.tag.id).execute();
    expect((await send(request, null)).status).toBe(404);
    expect((await call('GET', `/tags/${crypto.randomUUID()}/public_tags`, null)).status).toBe(404);
    expect((await call('GET', '/tags/not-a-uuid/public_tags', null)).status).toBe(404);
  });

  // ---- Rights ------------------------------------------------------------------------------

  async function upload(tenant: Tenant, album: string): Promise<string> {
    const response = await postUpload((req) => app.request(req), await tenant.userToken(), album, { cloudinary: uploadResult() });
    expect(response.status).toBe(200);
    return response.json.id;
  }
  const tagger = (tenant: Tenant, album: string, tags: Record<string, unknown>, ...abilities: string[]) =>
    tenant.userToken({ [album]: { ...access('see', ...abilities), Tags: tags } });

  it('tagging needs image_tag on the album and the tag in its Tags map, for every image, all or nothing', async () => {
    const a = await upload(acme, 'R1');
    const b = await upload(acme, 'R2');
    const ok = await tagger(acme, 'R1', { beach: { en: 'Beach', fr: 'Plage' } }, 'image_tag');
    const links = () => app.albumkit.database.db.selectFrom('tag_images').selectAll().where('image_id', 'in', [a, b]).execute();

    // By name: the token's Tags map names it, so it is created with the token's labels.
    const made = await call('POST', '/tags/beach/tag_images', ok, form({ image_ids: [a] }));
    expect(made.status).toBe(200);
    expect(made.json[0].tag).toMatchObject({ name: 'beach', label_en: 'Beach', label_fr: 'Plage' });
    expect(made.json[0].image.id).toBe(a);

    const refused: Array<[string, string, string[]]> = [
      ['no image_tag', await tagger(acme, 'R1', { beach: null }), [a]],
      ['tag not in the Tags map', await tagger(acme, 'R1', { sea: null }, 'image_tag'), [a]],
      ['no Tags map', await acme.userToken({ R1: access('image_tag') }), [a]],
      ['one image of an album without the right', ok, [a, b]],
      ['an image of another organization', ok, [a, await upload(other, 'R1')]],
      ['not an image id', ok, [a, 'nope']],
      ['a member without album rights', await acme.userToken(), [b]],
    ];
    for (const [why, token, ids] of refused) {
      const response = await call('POST', '/tags/beach/tag_images', token, form({ image_ids: ids }));
      expect(response.status, why).toBe(401);
      expect(response.headers['X-message'], why).toBe('Access denied');
    }
    expect((await links()).map((l) => l.image_id)).toEqual([a]);
    // An admin may use any tag, and a tag id works as well as its name.
    const beach = made.json[0].tag.id;
    expect((await call('POST', `/tags/${beach}/tag_images`, admin, form({ image_ids: [a, b] }))).status).toBe(200);
    expect((await links()).length).toBe(2);
    // A name nobody's token gives and no tag has: 404.
    expect((await call('POST', '/tags/unknown/tag_images', ok, form({ image_ids: [a] }))).status).toBe(404);
    // A trashed image cannot be tagged.
    expect((await call('DELETE', `/images/${a}`, admin)).status).toBe(204);
    expect((await call('POST', `/tags/${beach}/tag_images`, admin, form({ image_ids: [a] }))).status).toBe(401);
  });

  it('a tag named with spaces and accents, URL-encoded in the path', async () => {
    const a = await upload(acme, 'R3');
    const token = await tagger(acme, 'R3', { 'Été 2024 / plage': null }, 'image_tag');
    const response = await call('POST', `/tags/${encodeURIComponent('Été 2024 / plage')}/tag_images`, token, form({ image_ids: [a] }));
    expect(response.status).toBe(200);
    expect(response.json[0].tag.name).toBe('Été 2024 / plage');
    const listed = await call('GET', `/tag_images?tag_name=${encodeURIComponent('Été 2024 / plage')}&album_id=R3`, token);
    expect(listed.json.map((l: any) => l.image.id)).toEqual([a]);
  });

  it('untagging needs the same rights; another organization’s link is not found', async () => {
    const a = await upload(acme, 'U1');
    const token = await tagger(acme, 'U1', { keep: null }, 'image_tag');
    const [link] = (await call('POST', '/tags/keep/tag_images', token, form({ image_ids: [a] }))).json;
    expect((await call('DELETE', `/tag_images/${link.id}`, await tagger(acme, 'U1', { other: null }, 'image_tag'))).status).toBe(401);
    expect((await call('DELETE', `/tag_images/${link.id}`, await other.userToken({}, { admin: true }))).status).toBe(404);
    expect((await call('DELETE', `/tag_images/${link.id}`, token)).status).toBe(204);
    expect((await call('DELETE', `/tag_images/${link.id}`, token)).status).toBe(404);
    expect((await call('DELETE', '/tag_images/nope', token)).status).toBe(404);
  });

  it('creating and editing tags: members, admins or tags.create; public and downloads need share', async () => {
    const integrator = await acme.integratorToken({ abilities: { X1: access('see') } });
    expect((await call('POST', '/tags', integrator, form({ name: 'int' }))).status).toBe(401);
    const creator = await acme.integratorToken({ abilities: { tags: { create: true } } });
    const made = await call('POST', '/tags', creator, form({ name: 'by-integrator', label: '{"en":"By","fr":"Par"}', color: '#4CAF50' }));
    expect(made.status).toBe(200);
    expect(made.json).toMatchObject({ name: 'by-integrator', label_en: 'By', label_fr: 'Par', color: '#4CAF50', color_contrast: '#000000', public: false });
    // Sharing needs share, at creation and later.
    expect((await call('POST', '/tags', creator, form({ name: 'shared', public: 'true' }))).status).toBe(401);
    expect((await call('PUT', `/tags/${made.json.id}`, creator, form({ public: 'true' }))).status).toBe(401);
    const sharer = await acme.userToken({ S1: access('share') });
    const shared = await call('PUT', `/tags/${made.json.id}`, sharer, form({ public: 'true', allow_download: 'true' }));
    expect(shared.json).toMatchObject({ public: true, allow_download: true });
    // Renames keep names unique.
    await call('POST', '/tags', admin, form({ name: 'taken' }));
    expect((await call('PUT', `/tags/${made.json.id}`, admin, form({ name: 'taken' }))).status).toBe(400);
    expect((await call('PUT', `/tags/${made.json.id}`, admin, form({ name: 'renamed', label: 'Renommé' }))).json).toMatchObject({ name: 'renamed', label_en: 'Renommé', label_fr: 'Renommé' });
    // Another organization's admin: not found.
    expect((await call('PUT', `/tags/${made.json.id}`, await other.userToken({}, { admin: true }), form({ label: 'x' }))).status).toBe(404);
  });

  it('tag names are one tag in any case: created, named in a path or a token, renamed', async () => {
    const org = await createTenant(app);
    const adminOf = await org.userToken({}, { admin: true });
    const first = await call('POST', '/tags', adminOf, form({ name: 'Sunset Beach' }));
    const again = await call('POST', '/tags', adminOf, form({ name: 'sunset beach' }));
    expect(again.json.id).toBe(first.json.id);
    expect(again.json.name).toBe('Sunset Beach');
    const image = await upload(org, 'CASE');
    const tagged = await call('POST', `/tags/${encodeURIComponent('SUNSET BEACH')}/tag_images`, adminOf, form({ image_ids: [image] }));
    expect(tagged.json[0].tag.id).toBe(first.json.id);
    const caseToken = await org.userToken({ CASE: { ...access('image_tag', 'see'), Tags: { 'sunset BEACH': null } } });
    const fromToken = await call('GET', '/tags_token', caseToken);
    expect(fromToken.json.map((t: any) => t.id)).toEqual([first.json.id]);
    // The token's Tags map names it in another case: still that tag's right.
    const second = await upload(org, 'CASE');
    expect((await call('POST', `/tags/${first.json.id}/tag_images`, caseToken, form({ image_ids: [second] }))).status).toBe(200);
    expect((await call('GET', '/tag_images?tag_name=SUNSET%20BEACH', caseToken)).json.length).toBe(2);
    expect((await call('PUT', `/tags/${first.json.id}`, adminOf, form({ name: 'sunset beach' }))).json.name).toBe('sunset beach');
    const other = await call('POST', '/tags', adminOf, form({ name: 'Dawn' }));
    expect((await call('PUT', `/tags/${other.json.id}`, adminOf, form({ name: 'SUNSET beach' }))).status).toBe(400);
    expect((await call('GET', '/tags', adminOf)).json.map((t: any) => t.name)).toEqual(['sunset beach', 'Dawn']);
  });

  it('bad fields are 400s that name the field', async () => {
    const cases: Array<[string, string, string | undefined, string]> = [
      ['POST', '/tags', form({ name: '' }), 'name'],
      ['POST', '/tags', form({ name: 'x'.repeat(256) }), 'name'],
      ['POST', '/tags', form({ name: 'ok', color: 'red' }), 'color'],
      ['POST', '/tags', form({ name: 'ok', listed: 'maybe' }), 'listed'],
      ['POST', '/tags', form({ name: 'a\u0001b' }), 'name'],
      ['GET', '/tags/autocomplete?q=a&filters=%7Bnot%20json', undefined, 'filters'],
      ['GET', '/tags/autocomplete?q=a&filters=%7B%22color%22%3A%22red%22%7D', undefined, 'filters'],
      ['GET', '/tags/autocomplete?q=a&filters=%7B%22listed%22%3A%22yes%22%7D', undefined, 'filters'],
      ['GET', '/tags?visible=sometimes', undefined, 'visible'],
      ['GET', '/tags?cursor=bogus', undefined, 'cursor'],
      ['GET', '/tag_images?image_ids[]=nope', undefined, 'image_ids'],
      ['POST', `/tags/x/tag_images`, form({ image_ids: [] as string[] }).replace(/^$/, 'other=1'), 'image_ids'],
    ];
    for (const [method, path, body, field] of cases) {
      const response = await call(method, path, admin, body);
      expect(response.status, `${method} ${path} ${body}`).toBe(400);
      expect(response.json.message, `${method} ${path}`).toMatch(new RegExp(`^${field}`));
    }
  });

  it('what each token sees: members every tag of their organization, integrators the tags they name', async () => {
    const org = await createTenant(app);
    const adminOf = await org.userToken({}, { admin: true });
    for (const name of ['one', 'two', 'three']) expect((await call('POST', '/tags', adminOf, form({ name, visible: name === 'two' ? 'true' : 'false' }))).status).toBe(200);
    const names = async (token: string, query = '') => (await call('GET', `/tags${query}`, token)).json.map((t: any) => t.name);
    expect(await names(await org.userToken())).toEqual(['one', 'two', 'three']);
    expect(await names(await org.userToken(), '?visible=true')).toEqual(['two']);
    const named = await org.integratorToken({ abilities: { A: { Access: { see: true }, Tags: { three: null, nine: null } } } });
    expect(await names(named)).toEqual(['three']);
    expect((await call('GET', '/tags/autocomplete?q=o', named)).json).toEqual([]);
    // Never another organization's tags.
    expect(await names(admin)).not.toContain('two');
    // Paged.
    const first = await call('GET', '/tags?limit=2', adminOf);
    expect(first.json.map((t: any) => t.name)).toEqual(['one', 'two']);
    const rest = await call('GET', `/tags?limit=2&cursor=${first.headers['X-Next-Cursor']}`, adminOf);
    expect(rest.json.map((t: any) => t.name)).toEqual(['three']);
    expect(rest.headers['X-Next-Cursor']).toBeUndefined();
  });

  it('tag_names in image_syncs follow the links; tag_image and untag_image once per change', async () => {
    const a = await upload(acme, 'E1');
    const seen: string[] = [];
    const offs = [app.albumkit.on('tag_image', (e) => void seen.push(`+${e.tag_name}:${e.image_id}`)), app.albumkit.on('untag_image', (e) => void seen.push(`-${e.tag_name}:${e.image_id}`))];
    const token = await tagger(acme, 'E1', { zeta: null, alpha: null }, 'image_tag');
    const [zeta] = (await call('POST', '/tags/zeta/tag_images', token, form({ image_ids: [a] }))).json;
    await call('POST', '/tags/zeta/tag_images', token, form({ image_ids: [a] }));
    await call('POST', '/tags/alpha/tag_images', token, form({ image_ids: [a] }));
    expect((await call('GET', `/image_syncs?ids[]=${a}`, admin)).json[0].tag_names).toEqual(['alpha', 'zeta']);
    await call('DELETE', `/tag_images/${zeta.id}`, token);
    expect((await call('GET', `/image_syncs?ids[]=${a}`, admin)).json[0].tag_names).toEqual(['alpha']);
    for (const off of offs) off();
    expect(seen).toEqual([`+zeta:${a}`, `+alpha:${a}`, `-zeta:${a}`]);
    const events = (await app.albumkit.database.db.selectFrom('events').select(['type', 'payload']).where('organization_id', '=', acme.organization.id).where('type', 'in', ['tag_image', 'untag_image']).execute()).filter(
      (e) => (e.payload as { image_id: string }).image_id === a,
    );
    expect(events.map((e) => e.type).sort()).toEqual(['tag_image', 'tag_image', 'untag_image']);
  });

  it('a tag_images list shows only albums the token may see', async () => {
    const a = await upload(acme, 'V1');
    const b = await upload(acme, 'V2');
    await call('POST', '/tags/vis/tag_images', admin, form({ image_ids: [a, b] })).then(async (r) => {
      if (r.status === 404) {
        await call('POST', '/tags', admin, form({ name: 'vis' }));
        expect((await call('POST', '/tags/vis/tag_images', admin, form({ image_ids: [a, b] }))).status).toBe(200);
      }
    });
    const integrator = await acme.integratorToken({ abilities: { V1: { Access: { see: true }, Tags: { vis: null } } } });
    expect((await call('GET', '/tag_images?tag_name=vis', integrator)).json.map((l: any) => l.image.id)).toEqual([a]);
    expect((await call('GET', '/tag_images?tag_name=vis', admin)).json.map((l: any) => l.image.id).sort()).toEqual([a, b].sort());
    expect((await call('GET', `/tag_images?image_id=${b}`, integrator)).json).toEqual([]);
  });
});
