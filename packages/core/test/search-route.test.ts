import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { shapeOf } from './support/compare.js';
import { access, createTenant, postUpload, uploadResult, type Tenant } from './support/fixtures.js';

/**
 * `GET /search` and tokens bound to a query (claim `q`): such a token reads only the images that
 * match (an image, an album page, syncs, search) and, with `image_delete: true`, deletes exactly
 * those; nothing of another organization, whatever the query.
 */
const RECORDS = new URL('./records/', import.meta.url);
const record = (name: string) => JSON.parse(readFileSync(new URL(name, RECORDS), 'utf8')).requests[0];

describe.each(DIALECTS)('search on %s', (dialect) => {
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

  const call = (method: string, path: string, token: string, body?: string) =>
    app.request({ method, path: `/api/v1${path}`, headers: { ...authorization(token), ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) }, rawBody: body });
  const ids = (response: { json: Array<{ id: string }> }) => response.json.map((i) => i.id);

  async function upload(tenant: Tenant, album: string, cloudinary: Record<string, unknown> = {}): Promise<string> {
    const response = await postUpload((req) => app.request(req), await tenant.userToken(), album, { cloudinary: uploadResult(cloudinary) });
    expect(response.status).toBe(200);
    return response.json.id;
  }

  it('image_api__search_an_image_as_plain_query: `*` answers the organization’s images as image JSON', async () => {
    const request = record('image_api__search_an_image_as_plain_query.json');
    const org = await createTenant(app);
    const image = await upload(org, 'PLAIN');
    await upload(other, 'PLAIN');
    const response = await call('GET', '/search?q=*', await org.userToken());
    expect(response.status).toBe(200);
    expect(Object.keys(response.headers).sort()).toEqual(Object.keys(request.response_headers).sort());
    // The recorded shape is checked by the generic replay (openapi.test.ts); here, what is found.
    expect((shapeOf(response.json[0]) as Array<[string, unknown]>).map(([key]: any) => key)).toEqual(Object.keys(JSON.parse(request.response_body)[0]));
    expect(ids(response)).toEqual([image]);
  });

  it('image_api__image_delete_ability_inside_search_token: 204 for an image the query matches, 401 otherwise', async () => {
    const request = record('image_api__image_delete_ability_inside_search_token.json');
    const claims = decodeJwt(/token="([^"]+)"/.exec(request.request_headers.Authorization)![1]!) as Record<string, unknown>;
    const album = claims.q as string;
    const inside = await upload(acme, album);
    const outside = await upload(acme, `${album}-other`);
    const token = await acme.integratorToken({ q: album, image_delete: true });
    const refused = await call('DELETE', `/images/${outside}`, token);
    expect(refused.status).toBe(401);
    expect(refused.headers['X-message']).toBe('Access denied');
    const deleted = await call('DELETE', `/images/${inside}`, token);
    expect(deleted.status).toBe(204);
    expect(Object.keys(deleted.headers).sort()).toEqual(Object.keys(request.response_headers).sort());
    expect((await call('GET', `/images/${inside}`, admin)).status).toBe(404);
    expect((await call('GET', `/images/${outside}`, admin)).status).toBe(200);
    // Without `image_delete`, the query alone does not let it delete.
    const again = await upload(acme, album);
    expect((await call('DELETE', `/images/${again}`, await acme.integratorToken({ q: album }))).status).toBe(401);
    // An image of another organization in an album of that id: not this token's.
    const foreign = await upload(other, album);
    expect((await call('DELETE', `/images/${foreign}`, token)).status).toBe(401);
    expect((await call('GET', `/images/${foreign}`, await other.userToken({}, { admin: true }))).status).toBe(200);
    // Bulk: all or nothing, each image must match.
    const more = await upload(acme, album);
    expect((await call('DELETE', '/images', token, `image_ids[]=${more}&image_ids[]=${outside}`)).status).toBe(401);
    expect((await call('DELETE', '/images', token, `image_ids[]=${more}&image_ids[]=${again}`)).status).toBe(200);
  });

  it('a token bound to a query reads only what matches: image, album page, syncs, search', async () => {
    const album = 'BOUND';
    const red = await upload(acme, album, { original_filename: 'red-car' });
    const blue = await upload(acme, album, { original_filename: 'blue-car' });
    const elsewhere = await upload(acme, 'BOUND-2', { original_filename: 'red-bike' });
    const token = await acme.integratorToken({ q: 'filename:red' });
    expect((await call('GET', `/images/${red}`, token)).status).toBe(200);
    expect((await call('GET', `/images/${elsewhere}`, token)).status).toBe(200);
    // Read by an admin first, so that it is in the image cache: the query still decides.
    expect((await call('GET', `/images/${blue}`, admin)).status).toBe(200);
    expect((await call('GET', `/images/${blue}`, token)).status).toBe(401);
    expect(ids(await call('GET', `/albums/${album}/images`, token))).toEqual([red]);
    expect(ids(await call('GET', `/image_syncs?ids[]=${red}&ids[]=${blue}&ids[]=${elsewhere}`, token))).toEqual([red, elsewhere]);
    expect(ids(await call('GET', '/search?q=*', token)).sort()).toEqual([red, elsewhere].sort());
    // The URL's query narrows it further, never widens it.
    expect(ids(await call('GET', `/search?q=album_id:${album}`, token))).toEqual([red]);
    expect(ids(await call('GET', '/search?q=filename:blue', token))).toEqual([]);
    // A member's token bound to a query is narrowed too.
    const member = await acme.userToken({}, { q: 'filename:blue' });
    expect(ids(await call('GET', `/albums/${album}/images`, member))).toEqual([blue]);
    expect((await call('GET', `/images/${red}`, member)).status).toBe(401);
  });

  it('search scope: members search their organization; other tokens the albums they may list', async () => {
    const a = await upload(acme, 'SCOPE-A', { original_filename: 'scope-one' });
    const b = await upload(acme, 'SCOPE-B', { original_filename: 'scope-two' });
    const theirs = await upload(other, 'SCOPE-A', { original_filename: 'scope-three' });
    expect(ids(await call('GET', '/search?q=filename:scope', await acme.userToken())).sort()).toEqual([a, b].sort());
    expect(ids(await call('GET', '/search?q=filename:scope', await acme.integratorToken({ abilities: { 'SCOPE-A': access('image_list') } })))).toEqual([a]);
    expect(ids(await call('GET', '/search?q=filename:scope', await acme.integratorToken({ abilities: {} })))).toEqual([]);
    expect(ids(await call('GET', '/search?q=filename:scope', await other.userToken()))).toEqual([theirs]);
  });

  it('newest first, paged with X-Next-Cursor; `sort=created_at:asc` reverses', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await upload(acme, 'PAGED', { original_filename: `paged-${i}` }));
    const token = await acme.userToken();
    const first = await call('GET', '/search?q=album_id:PAGED&limit=2', token);
    expect(ids(first)).toEqual([made[4], made[3]]);
    const second = await call('GET', `/search?q=album_id:PAGED&limit=2&cursor=${first.headers['X-Next-Cursor']}`, token);
    expect(ids(second)).toEqual([made[2], made[1]]);
    const third = await call('GET', `/search?q=album_id:PAGED&limit=2&cursor=${second.headers['X-Next-Cursor']}`, token);
    expect(ids(third)).toEqual([made[0]]);
    expect(third.headers['X-Next-Cursor']).toBeUndefined();
    expect(ids(await call('GET', '/search?q=album_id:PAGED&sort=created_at:asc', token))).toEqual(made);
  });

  it('tags by name, any case, and by wildcard; a tag no image has finds nothing', async () => {
    const beach = await upload(acme, 'TAGS-S');
    const bench = await upload(acme, 'TAGS-S');
    await upload(acme, 'TAGS-S');
    await app.albumkit.repositories.images.addTags(beach, ['Beach-Day']);
    await app.albumkit.repositories.images.addTags(bench, ['bench']);
    const member = await acme.userToken();
    expect(ids(await call('GET', '/search?q=tags:beach-day', member))).toEqual([beach]);
    expect(ids(await call('GET', '/search?q=tags:be*%20AND%20album_id:TAGS-S', member)).sort()).toEqual([beach, bench].sort());
    expect(ids(await call('GET', '/search?q=tags:nothing-tagged', member))).toEqual([]);
    expect(ids(await call('GET', '/search?q=album_id:TAGS-S%20AND%20NOT%20tags:bench', member)).length).toBe(2);
  });

  it('a trashed image is not found by search', async () => {
    const gone = await upload(acme, 'TRASHED-SEARCH');
    expect((await call('DELETE', `/images/${gone}`, admin)).status).toBe(204);
    expect(ids(await call('GET', '/search?q=album_id:TRASHED-SEARCH', admin))).toEqual([]);
  });

  it('bad queries and parameters are 400s that say where', async () => {
    for (const q of ['(unbalanced', 'nofield:x', 'width:abc', 'created_at:[yesterday TO 2020-01-01]']) {
      const response = await call('GET', `/search?q=${encodeURIComponent(q)}`, admin);
      expect(response.status, q).toBe(400);
      expect(response.json.message, q).toMatch(/^q: .* at position \d+$/);
    }
    expect((await call('GET', `/search?q=${'a '.repeat(3000)}`, admin)).status).toBe(400);
    expect((await call('GET', '/search?sort=name', admin)).json.message).toMatch(/^sort:/);
    // A token carrying a query that does not parse: a 400 too, not a 500.
    expect((await call('GET', '/search?q=*', await acme.integratorToken({ q: '((' }))).status).toBe(400);
  });

  it('property: any URL query with any token query answers 200 or 400, only this organization’s images, only what both queries match', async () => {
    const made: string[] = [];
    const names = ['red-car', 'blue-car', 'facade nord', 'IMG_0001', 'holiday'];
    for (const [i, name] of names.entries()) {
      const id = await upload(acme, `PROP-${i % 2}`, { original_filename: name, format: i % 2 ? 'png' : 'jpg', width: 100 * (i + 1) });
      made.push(id);
      if (i % 2 === 0) await app.albumkit.repositories.images.addTags(id, ['prop-even']);
    }
    for (const name of names) await upload(other, 'PROP-0', { original_filename: name });
    const mine = new Set(made);
    const clause = fc.constantFrom(
      '*', 'car', 'filename:car', 'filename:fa*', 'tags:prop-even', 'album_id:PROP-0', 'album_id:PROP-1', 'format:png', 'width:>=300',
      'width:[100 TO 200]', '_exists_:title', 'created_at:[2000-01-01 TO now]', '"facade nord"', 'processed:false', 'metadatas.site:x',
      'nofield:x', '(', ')', 'AND', 'width:abc', '"', '*?',
    );
    const query = fc
      .array(fc.tuple(clause, fc.constantFrom(' AND ', ' OR ', ' ', ' NOT ', ' AND NOT ')), { minLength: 1, maxLength: 5 })
      .map((parts) => parts.map(([c, op], i) => (i === 0 ? c : op + c)).join(''))
      .chain((q) => fc.constantFrom(q, `(${q})`, `NOT (${q})`));
    const member = await acme.userToken();
    const found = async (token: string, q: string) => {
      const response = await call('GET', `/search?q=${encodeURIComponent(q)}&limit=100`, token);
      expect([200, 400], `${q}: ${response.status} ${response.body.slice(0, 200)}`).toContain(response.status);
      return response.status === 200 ? new Set(ids(response)) : undefined;
    };
    await fc.assert(
      fc.asyncProperty(query, query, async (urlQ, tokenQ) => {
        const bound = await acme.integratorToken({ q: tokenQ });
        const both = await found(bound, urlQ);
        const byUrl = await found(member, urlQ);
        const byToken = await found(member, tokenQ);
        if (!both) return;
        for (const id of both) {
          expect(mine.has(id) || (await app.albumkit.images.find(acme.organization.id, id)) !== undefined, `${id} is acme's`).toBe(true);
          expect(byUrl?.has(id), `${id} matches the URL's q ${urlQ}`).toBe(true);
          expect(byToken?.has(id), `${id} matches the token's q ${tokenQ}`).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});
