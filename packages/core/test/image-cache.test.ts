import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbumkit, type Albumkit } from '../src/albumkit.js';
import { ImageJsonCache } from '../src/cache/image-json.js';
import { connectDatabase, type DatabaseHandle } from '../src/db/connect.js';
import { authorization, createTestApp, DIALECTS, TEST_CONFIG, type TestApp } from './support/app.js';
import { access, createTenant, postUpload, uploadResult, type Tenant } from './support/fixtures.js';

/** Waits until `check` stops throwing (a change announced by another connection arrives asynchronously). */
async function eventually(check: () => Promise<void> | void, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe('ImageJsonCache', () => {
  const entry = (body = '{}') => ({ organizationId: 'o', albumId: 'a', userId: null, body });
  const enabled = (options: Partial<ConstructorParameters<typeof ImageJsonCache>[0]> = {}) => {
    const cache = new ImageJsonCache({ maxEntries: 100, maxBytes: 1 << 20, ttlMs: 60_000, ...options });
    cache.enable();
    return cache;
  };
  const fill = (cache: ImageJsonCache, id: string, body = '{}') => {
    const f = cache.begin(id);
    cache.set(f, entry(body));
    cache.end(f);
  };

  it('stores nothing until the change feed is live, and nothing while it is lost', () => {
    const cache = new ImageJsonCache({ maxEntries: 100, maxBytes: 1 << 20, ttlMs: 60_000 });
    fill(cache, 'x');
    expect(cache.get('x')).toBeUndefined();
    cache.enable();
    fill(cache, 'x');
    expect(cache.get('x')?.body).toBe('{}');
    cache.disable();
    expect(cache.get('x')).toBeUndefined();
    fill(cache, 'x');
    expect(cache.get('x')).toBeUndefined();
  });

  it('drops what a read found when its image changed while it was reading', () => {
    const cache = enabled();
    const slow = cache.begin('x');
    cache.invalidate('x');
    cache.set(slow, entry('old'));
    cache.end(slow);
    expect(cache.get('x')).toBeUndefined();
    // A read that starts after the change is cached.
    fill(cache, 'x', 'new');
    expect(cache.get('x')?.body).toBe('new');
  });

  it('keeps what a read found when only another image changed, and drops reads older than a reset', () => {
    const cache = enabled();
    const read = cache.begin('x');
    cache.invalidate('y');
    cache.set(read, entry('x'));
    cache.end(read);
    expect(cache.get('x')?.body).toBe('x');
    const beforeReset = cache.begin('z');
    cache.clear();
    cache.set(beforeReset, entry('z'));
    cache.end(beforeReset);
    expect(cache.get('z')).toBeUndefined();
  });

  it('is bounded in entries and bytes, least recently used out first, and expires entries', () => {
    let now = 0;
    const cache = enabled({ maxEntries: 3, maxBytes: 10_000, ttlMs: 1000, now: () => now });
    for (const id of ['a', 'b', 'c']) fill(cache, id);
    cache.get('a');
    fill(cache, 'd');
    expect(cache.size).toBe(3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    fill(cache, 'big', 'x'.repeat(6000));
    expect(cache.get('big')).toBeUndefined();
    now = 1000;
    expect(cache.get('a')).toBeUndefined();
  });
});

describe.each(DIALECTS)('GET /images/:id with the image cache on %s', (dialect) => {
  let app: TestApp;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    tenant = await createTenant(app);
    token = await tenant.userToken({ A: access('see', 'image_list', 'image_upload') });
  });
  afterAll(() => app?.close());

  const createImage = async () => {
    const response = await postUpload(app.request, token, 'A');
    expect(response.status).toBe(200);
    return response.json.id as string;
  };
  const getImage = (id: string, as = token) => app.request({ method: 'GET', path: `/api/v1/images/${id}`, headers: authorization(as) });
  /** Reads the image until it is cached (the change feed starts on first use). */
  const cached = async (id: string) => {
    await eventually(async () => {
      expect((await getImage(id)).status).toBe(200);
      expect(app.albumkit.imageCache.get(id)).toBeDefined();
    });
  };

  it('serves the same JSON from the cache as from the database', async () => {
    const id = await createImage();
    const first = await getImage(id);
    await cached(id);
    const again = await getImage(id);
    expect(again.status).toBe(200);
    expect(again.body).toBe(first.body);
    expect(again.headers['X-token']).toBeTruthy();
  });

  it('shows a change made with plain SQL, outside albumkit, once it commits', async () => {
    const id = await createImage();
    await cached(id);
    await sql`UPDATE images SET title = 'Renamed outside' WHERE id = ${id}`.execute(app.database.db);
    await eventually(async () => expect((await getImage(id)).json.title).toBe('Renamed outside'));
  });

  it('shows an image processed in this process at once', async () => {
    const id = await createImage();
    await cached(id);
    expect((await getImage(id)).json.processed).toBe(false);
    await app.albumkit.images.markProcessed(tenant.organization.id, id, { width: 10, height: 20 });
    const after = await getImage(id);
    expect(after.json.processed).toBe(true);
    expect(after.json.width).toBe(10);
  });

  it('answers 404 once the image is deleted', async () => {
    const id = await createImage();
    await cached(id);
    await sql`DELETE FROM images WHERE id = ${id}`.execute(app.database.db);
    await eventually(async () => expect((await getImage(id)).status).toBe(404));
  });

  it('never serves a cached image to another organization, or to a token without image_list', async () => {
    const id = await createImage();
    await cached(id);
    const other = await createTenant(app);
    const outsider = await getImage(id, await other.userToken({}));
    expect(outsider.status).toBe(404);
    expect(outsider.body).not.toContain(id);
    const integrator = await getImage(id, await other.integratorToken({ abilities: { A: access('image_list') } }));
    expect(integrator.status).toBe(401);
    const noList = await tenant.integratorToken({ abilities: { A: access('see') } });
    expect((await getImage(id, noList)).status).toBe(401);
    const withList = await tenant.integratorToken({ abilities: { A: access('image_list') } });
    expect((await getImage(id, withList)).status).toBe(200);
  });

  const syncs = (ids: string[], as = token) =>
    app.request({ method: 'GET', path: `/api/v1/image_syncs?${ids.map((i) => `ids[]=${i}`).join('&')}`, headers: authorization(as) });

  it('image_syncs from cached images: the same JSON, with tags and uploader read afresh', async () => {
    const [a, b, c] = [await createImage(), await createImage(), await createImage()];
    await app.albumkit.repositories.images.addTags(a, ['zebra', 'apple']);
    const cold = await syncs([c, a, b]);
    expect(cold.status).toBe(200);
    expect(cold.json.map((x: { id: string }) => x.id)).toEqual([c, a, b]);
    expect(cold.json[1].tag_names).toEqual(['apple', 'zebra']);
    expect(cold.json[1].user_sfid).toBe(tenant.user.sfid);
    // Each sync payload is the image JSON plus the two sync fields, `thumbnails` last.
    const single = (await getImage(a)).json;
    expect(Object.keys(cold.json[1])).toEqual([...Object.keys(single).filter((k) => k !== 'thumbnails'), 'tag_names', 'user_sfid', 'thumbnails']);
    await eventually(() => expect([a, b, c].every((id) => app.albumkit.imageCache.get(id))).toBe(true));
    const warm = await syncs([c, a, b]);
    expect(warm.body).toBe(cold.body);
    await app.albumkit.repositories.images.addTags(b, ['new']);
    expect((await syncs([b])).json[0].tag_names).toEqual(['new']);
  });

  it('builds a sync payload from image JSON text exactly as from the image, whatever its strings hold', async () => {
    const response = await postUpload(app.request, token, 'A', {
      cloudinary: uploadResult({ original_filename: '","thumbnails":{"x' }),
      metadatas: { note: ',"thumbnails":{}}' },
    });
    const row = (await app.albumkit.repositories.images.find(tenant.organization.id, response.json.id))!;
    const serializer = app.albumkit.serializers.image;
    for (const [tags, sfid] of [[[], null], [['a', 'b"c'], '005xyz']] as const) {
      expect(serializer.syncJson(JSON.stringify(serializer.serialize(row)), [...tags], sfid)).toBe(JSON.stringify(serializer.serializeSync(row, [...tags], sfid)));
    }
  });

  it('image_syncs from cached images keeps to what the token may see', async () => {
    const id = await createImage();
    await syncs([id]);
    await eventually(() => expect(app.albumkit.imageCache.get(id)).toBeDefined());
    const other = await createTenant(app);
    expect((await syncs([id], await other.userToken({}))).json).toEqual([]);
    expect((await syncs([id], await tenant.integratorToken({ abilities: { B: access('image_list') } }))).json).toEqual([]);
    const listed = await syncs([id], await tenant.integratorToken({ abilities: { A: access('see') } }));
    expect(listed.json.map((x: { id: string }) => x.id)).toEqual([id]);
  });
});

describe('the image cache across processes (PostgreSQL)', () => {
  let app: TestApp;
  let worker: Albumkit;
  let workerDb: DatabaseHandle;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    app = await createTestApp('postgres');
    // A second albumkit on the same database, with its own pool: what a worker process is.
    workerDb = await connectDatabase({ url: app.databaseUrl! });
    worker = await createAlbumkit({ ...TEST_CONFIG, logger: { error() {}, warn() {} }, database: workerDb, migrate: false });
    tenant = await createTenant(app);
    token = await tenant.userToken({ A: access('see', 'image_list', 'image_upload') });
  });
  afterAll(async () => {
    await worker?.close();
    await workerDb?.close();
    await app?.close();
  });

  const createImage = async () => (await postUpload(app.request, token, 'A')).json.id as string;
  const getImage = (id: string) => app.request({ method: 'GET', path: `/api/v1/images/${id}`, headers: authorization(token) });
  const cached = (id: string) =>
    eventually(async () => {
      expect((await getImage(id)).status).toBe(200);
      expect(app.albumkit.imageCache.get(id)).toBeDefined();
    });
  const listenerPid = async (admin: pg.Client) => {
    const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'`);
    return rows.map((r) => r.pid as number);
  };

  it('shows an image processed by another process', async () => {
    const id = await createImage();
    await cached(id);
    await worker.images.markProcessed(tenant.organization.id, id, { width: 33, height: 44, takenAt: new Date('2020-01-02T03:04:05Z') });
    await eventually(async () => {
      const json = (await getImage(id)).json;
      expect(json.processed).toBe(true);
      expect(json.taken_at).toBe('2020-01-02T03:04:05.000+00:00');
    });
  });

  it('turns itself off when its LISTEN connection is killed, and back on after reconnecting', async () => {
    const admin = new pg.Client({ connectionString: app.databaseUrl });
    await admin.connect();
    try {
      const id = await createImage();
      await cached(id);
      const [pid] = await listenerPid(admin);
      expect(pid).toBeTypeOf('number');
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await eventually(() => expect(app.albumkit.imageCache.isEnabled).toBe(false));
      // Changed while nobody listens: not announced to this process, so it must read it afresh.
      await admin.query(`UPDATE images SET title = 'while deaf' WHERE id = $1`, [id]);
      expect((await getImage(id)).json.title).toBe('while deaf');
      // It reconnects on its own, and invalidation works again.
      await eventually(async () => expect((await listenerPid(admin)).filter((p) => p !== pid)).toHaveLength(1));
      await cached(id);
      await admin.query(`UPDATE images SET title = 'after reconnect' WHERE id = $1`, [id]);
      await eventually(async () => expect((await getImage(id)).json.title).toBe('after reconnect'));
    } finally {
      await admin.end();
    }
  });
});
