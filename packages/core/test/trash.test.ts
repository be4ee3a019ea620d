import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { access, createTenant, fresh, postUpload, uploadResult, type Tenant } from './support/fixtures.js';

/**
 * The trash: a deleted image is gone from everything a user sees (reads, listings, counts,
 * syncs) until it is restored; bulk deletes are all or nothing; each right is checked; each
 * change is one event, and concurrent deletes and restores count each image exactly once.
 */
describe.each(DIALECTS)('the trash on %s', (dialect) => {
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

  async function upload(tenant: Tenant, album: string, count = 1): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const response = await postUpload((req) => app.request(req), await tenant.userToken(), album, { cloudinary: uploadResult() });
      expect(response.status).toBe(200);
      ids.push(response.json.id);
    }
    return ids;
  }

  const count = async (album: string, token = admin) => (await call('GET', `/albums/${album}`, token)).json.images_count;
  const listed = async (album: string) => (await call('GET', `/albums/${album}/images`, admin)).json.map((i: { id: string }) => i.id);
  const liveRows = async (album: string) =>
    Number(
      (
        await app.albumkit.database.db
          .selectFrom('images')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('organization_id', '=', acme.organization.id)
          .where('album_id', '=', album)
          .where('deleted_at', 'is', null)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('a client posting again the upload of a trashed image gets a 409 that names it; the image stays in the trash, untouched', async () => {
    const cloudinary = uploadResult();
    const token = await acme.userToken();
    const first = await postUpload((req) => app.request(req), token, 'T-REPOST', { cloudinary, metadatas: { kept: 'yes' } });
    expect(first.status).toBe(200);
    expect((await call('DELETE', `/images/${first.json.id}`, admin)).status).toBe(204);
    const again = await postUpload((req) => app.request(req), token, 'T-REPOST', { cloudinary: { ...cloudinary, original_filename: 'renamed' }, metadatas: { kept: 'no' } });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: 'conflict' });
    expect(again.json.message).toContain(`/trashed_images/${first.json.id}`);
    const row = await app.albumkit.database.db.selectFrom('images').selectAll().where('id', '=', first.json.id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect(row.metadatas).toEqual({ kept: 'yes' });
    expect(row.filename).toBe('holiday');
    expect(await count('T-REPOST')).toBe(0);
    // Restored, the same post merges as usual.
    expect((await call('DELETE', `/trashed_images/${first.json.id}`, admin)).status).toBe(200);
    const merged = await postUpload((req) => app.request(req), token, 'T-REPOST', { cloudinary, metadatas: { kept: 'again' } });
    expect(merged.status).toBe(200);
    expect(merged.json.id).toBe(first.json.id);
    expect(await count('T-REPOST')).toBe(1);
  });

  it('a deleted image is gone from reads, listings, counts and syncs, and comes back when restored', async () => {
    const [a, b] = await upload(acme, 'T1', 2);
    expect(await count('T1')).toBe(2);
    // Read first, so that the image's JSON is in the cache.
    expect((await call('GET', `/images/${a}`, admin)).status).toBe(200);
    const deleted = await call('DELETE', `/images/${a}`, admin);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBe('');
    expect((await call('GET', `/images/${a}`, admin)).status).toBe(404);
    expect(await listed('T1')).toEqual([b]);
    expect(await count('T1')).toBe(1);
    expect((await call('GET', `/image_syncs?ids[]=${a}&ids[]=${b}`, admin)).json.map((i: { id: string }) => i.id)).toEqual([b]);
    expect((await call('PUT', `/images/${a}`, admin, 'title=x')).status).toBe(404);
    expect((await call('POST', `/images/${a}/duplicate`, admin)).status).toBe(404);
    expect((await call('DELETE', `/images/${a}`, admin)).status).toBe(404);

    const trash = await call('GET', '/trashed_images?album_id=T1', admin);
    expect(trash.status).toBe(200);
    expect(trash.json).toHaveLength(1);
    expect(trash.json[0].id).toBe(a);
    expect(Date.now() - Date.parse(trash.json[0].deleted_at)).toBeLessThan(60_000);
    expect(trash.json[0].thumbnail_url).toMatch(/c_fill,h_200,w_200/);

    const restored = await call('DELETE', `/trashed_images/${a}`, admin);
    expect(restored.status).toBe(200);
    expect(restored.json.id).toBe(a);
    expect((await call('GET', `/images/${a}`, admin)).status).toBe(200);
    expect(await count('T1')).toBe(2);
    expect((await call('GET', '/trashed_images?album_id=T1', admin)).json).toEqual([]);
    expect((await call('DELETE', `/trashed_images/${a}`, admin)).status).toBe(404);
  });

  it('bulk delete: the ids, newest first; all or nothing', async () => {
    const ids = await upload(acme, 'T2', 3);
    const [foreign] = await upload(other, 'T2');
    const refused = await call('DELETE', '/images', admin, [...ids, foreign].map((id) => `image_ids[]=${id}`).join('&'));
    expect(refused.status).toBe(401);
    expect(await count('T2')).toBe(3);
    // A token that may delete in one album only.
    const [elsewhere] = await upload(acme, 'T2-other');
    const narrow = await acme.integratorToken({ abilities: { T2: access('image_delete') }, ...fresh() });
    expect((await call('DELETE', '/images', narrow, [...ids, elsewhere].map((id) => `image_ids[]=${id}`).join('&'))).status).toBe(401);
    expect(await count('T2')).toBe(3);
    expect(await count('T2-other')).toBe(1);

    const done = await call('DELETE', '/images', narrow, ids.map((id) => `image_ids[]=${id}`).join('&'));
    expect(done.status).toBe(200);
    expect(done.json).toEqual([...ids].reverse());
    expect(await count('T2')).toBe(0);
    expect((await call('DELETE', '/images', admin, '')).status).toBe(400);
  });

  it('rights: image_delete to delete; members, admins or trash on the album to list and restore', async () => {
    const [id] = await upload(acme, 'T3');
    const reader = await acme.integratorToken({ abilities: { T3: access('image_list') }, ...fresh() });
    expect((await call('DELETE', `/images/${id}`, reader)).status).toBe(401);
    expect((await call('DELETE', `/images/${id}`, await other.userToken({}, { admin: true }))).status).toBe(404);
    expect((await call('DELETE', `/images/${id}`, await acme.integratorToken({ abilities: { T3: access('image_delete') }, ...fresh() }))).status).toBe(204);

    expect((await call('GET', '/trashed_images', reader)).status).toBe(401);
    expect((await call('GET', '/trashed_images?album_id=T3', reader)).status).toBe(401);
    const trashKeeper = await acme.integratorToken({ abilities: { T3: access('trash') }, ...fresh() });
    expect((await call('GET', '/trashed_images', trashKeeper)).status).toBe(401);
    expect((await call('GET', '/trashed_images?album_id=T3', trashKeeper)).json.map((i: { id: string }) => i.id)).toEqual([id]);
    // Another organization never sees it, even by id.
    expect((await call('GET', '/trashed_images', await other.userToken())).json.map((i: { id: string }) => i.id)).not.toContain(id);
    expect((await call('DELETE', `/trashed_images/${id}`, await other.userToken())).status).toBe(404);
    expect((await call('DELETE', `/trashed_images/${id}`, reader)).status).toBe(401);
    expect((await call('DELETE', `/trashed_images/${id}`, trashKeeper)).status).toBe(200);
  });

  it('the trash pages like the image list, latest deletion first', async () => {
    const ids = await upload(acme, 'T4', 5);
    for (const id of ids) expect((await call('DELETE', `/images/${id}`, admin)).status).toBe(204);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const page = await call('GET', `/trashed_images?album_id=T4&limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
      seen.push(...page.json.map((i: { id: string }) => i.id));
      cursor = page.headers['X-Next-Cursor'];
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].reverse());
    expect((await call('GET', '/trashed_images?cursor=bogus', admin)).status).toBe(400);
  });

  it('one delete_image and one restore_image event per change', async () => {
    const [id] = await upload(acme, 'T5');
    const seen: string[] = [];
    const offs = [app.albumkit.on('delete_image', (e) => void seen.push(`delete ${e.image_id}`)), app.albumkit.on('restore_image', (e) => void seen.push(`restore ${e.image_id}`))];
    await call('DELETE', `/images/${id}`, admin);
    await call('DELETE', `/images/${id}`, admin);
    await call('DELETE', `/trashed_images/${id}`, admin);
    await call('DELETE', `/trashed_images/${id}`, admin);
    for (const off of offs) off();
    expect(seen).toEqual([`delete ${id}`, `restore ${id}`]);
  });

  it('concurrent deletes and restores of the same images count each exactly once', async () => {
    const ids = await upload(acme, 'T6', 6);
    const events: string[] = [];
    const offs = [app.albumkit.on('delete_image', (e) => void events.push(`d${e.image_id}`)), app.albumkit.on('restore_image', (e) => void events.push(`r${e.image_id}`))];
    for (let round = 0; round < 4; round++) {
      // Every image deleted by several requests at once (singly and in bulk), then restored by several at once.
      await Promise.all([
        ...ids.map((id) => call('DELETE', `/images/${id}`, admin)),
        ...ids.map((id) => call('DELETE', `/images/${id}`, admin)),
        call('DELETE', '/images', admin, ids.slice(0, 3).map((id) => `image_ids[]=${id}`).join('&')),
      ]);
      expect(await liveRows('T6')).toBe(0);
      expect(await count('T6')).toBe(0);
      await Promise.all([...ids, ...ids].map((id) => call('DELETE', `/trashed_images/${id}`, admin)));
      expect(await liveRows('T6')).toBe(6);
      expect(await count('T6')).toBe(6);
    }
    for (const off of offs) off();
    expect(events.filter((e) => e.startsWith('d'))).toHaveLength(4 * 6);
    expect(events.filter((e) => e.startsWith('r'))).toHaveLength(4 * 6);
  });
});
