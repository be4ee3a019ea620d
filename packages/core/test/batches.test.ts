import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Batches } from '../src/db/batches.js';
import { authorization, createTestApp, DIALECTS, type TestApp } from './support/app.js';
import { access, createTenant, postUpload, uploadResult, type Tenant } from './support/fixtures.js';

describe('Batches', () => {
  const policy = { maxWaiting: 100, retryOneByOne: (error: unknown) => (error as Error).message !== 'database away', overloaded: () => new Error('overloaded') };
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('runs an item at once when nothing is in flight, and groups the items that arrive meanwhile', async () => {
    const batches: number[][] = [];
    const gate = deferred();
    const b = new Batches<number, number>(
      async (items) => {
        batches.push(items);
        return items.map((i) => i * 10);
      },
      async (item) => {
        batches.push([item]);
        await gate.promise;
        return item * 10;
      },
      { maxBatch: 3, maxInFlight: 1, ...policy },
    );
    const first = b.submit(1);
    const rest = [2, 3, 4, 5, 6].map((i) => b.submit(i));
    expect(batches).toEqual([[1]]);
    gate.resolve();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40, 50, 60]);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('runs the items of a failed batch one by one, so that only the bad one fails', async () => {
    const b = new Batches<number, number>(
      async () => {
        throw new Error('batch refused');
      },
      async (item) => {
        if (item === 3) throw new Error('bad item');
        return item;
      },
      { maxBatch: 10, maxInFlight: 1, ...policy },
    );
    const results = await Promise.allSettled([1, 2, 3, 4].map((i) => b.submit(i)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe('bad item');
  });

  it('fails every item of a batch at once when the database is away, and refuses items beyond maxWaiting', async () => {
    let singles = 0;
    const gate = deferred();
    const b = new Batches<number, number>(
      async () => {
        await gate.promise;
        throw new Error('database away');
      },
      async (item) => {
        singles++;
        await gate.promise;
        throw new Error(item === 0 ? 'database away' : 'should not run');
      },
      { maxBatch: 50, maxInFlight: 1, ...policy, maxWaiting: 5 },
    );
    const first = b.submit(0);
    const queued = [1, 2, 3, 4, 5].map((i) => b.submit(i));
    await expect(b.submit(6)).rejects.toThrow('overloaded');
    gate.resolve();
    await expect(first).rejects.toThrow('database away');
    const results = await Promise.allSettled(queued);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'database away')).toBe(true);
    expect(singles).toBe(1);
  });

  it('fails the items waiting behind a run that found the database away, with it: their waits do not add up (a half-open connection)', async () => {
    const runs: number[][] = [];
    const gate = deferred();
    let down = true;
    const run = async (items: number[]) => {
      runs.push(items);
      await gate.promise;
      if (down) throw new Error('database away');
      return items;
    };
    const b = new Batches<number, number>(run, async (item) => (await run([item]))[0]!, { maxBatch: 2, maxInFlight: 1, ...policy });
    const submitted = [0, 1, 2, 3, 4, 5].map((i) => b.submit(i));
    gate.resolve();
    const results = await Promise.allSettled(submitted);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'database away')).toBe(true);
    // Without it: [0], then [1, 2], [3, 4], [5], one after another, each as long as a timeout.
    expect(runs).toEqual([[0]]);
    // The database back, the next item runs.
    down = false;
    expect(await b.submit(7)).toBe(7);
  });
});

describe.each(DIALECTS)('uploads written together on %s', (dialect) => {
  let app: TestApp;
  let tenant: Tenant;
  let token: string;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    tenant = await createTenant(app);
    token = await tenant.userToken({ X: access('image_upload', 'image_list'), Y: access('image_upload', 'image_list') });
  });
  afterAll(() => app?.close());

  it('writes several uploads in one statement: the new ones, not the ones already there nor a second of the same upload', async () => {
    const repo = app.albumkit.repositories.images;
    const org = tenant.organization.id;
    const row = (publicId: string, album: string) => {
      const id = randomUUID();
      return {
        image: {
          id, organization_id: org, album_id: album, user_id: tenant.user.id, upload_key: `${publicId}@1`, cloudinary_public_id: publicId,
          cloudinary_version: '1', cloudinary_type: 'authenticated', infos: '{"b":1,"a":2}', exifs: '{}', metadatas: '{}', gps: null, gps_html: null,
          gps_exifs: null, gps_ip: null, taken_at: null, width: 1, height: 1, original_width: 1, original_height: 1, filename: null, format: 'jpg',
          title: null, description: null, group_id: null, processing_error: null, reported_at: null,
        },
        events: [{ id: randomUUID(), type: 'new_image', payload: JSON.stringify({ image_id: id }) }],
      };
    };
    const existing = row(`many-${dialect}-0`, 'Z1');
    expect(await repo.insertUploads([existing])).toHaveLength(1);
    const fresh = [row(`many-${dialect}-1`, 'Z1'), row(`many-${dialect}-2`, 'Z2')];
    const again = row(`many-${dialect}-0`, 'Z1');
    const twin = row(`many-${dialect}-1`, 'Z1');
    const results = await repo.insertUploads([fresh[0]!, again, fresh[1]!, twin]);
    expect(results.map((r) => r?.id)).toEqual([fresh[0]!.image.id, undefined, fresh[1]!.image.id, undefined]);
    expect(results[0]!.infos).toEqual({ b: 1, a: 2 });
    const counts = await sql<{ album_id: string; n: string }>`select album_id, sum(count) as n from album_image_counts where organization_id = ${org} and album_id in ('Z1', 'Z2') group by album_id order by album_id`.execute(app.database.db);
    expect(counts.rows.map((r) => [r.album_id, Number(r.n)])).toEqual([['Z1', 2], ['Z2', 1]]);
    const events = await sql<{ id: string }>`select id from events where id in (${sql.join([existing, ...fresh, again, twin].map((r) => r.events[0]!.id))}) order by id`.execute(app.database.db);
    expect(events.rows.map((r) => r.id).sort()).toEqual([existing, ...fresh].map((r) => r.events[0]!.id).sort());
  });

  it('many at once, some of the same upload, into new albums: one image per upload, counted, with its event', async () => {
    const events: string[] = [];
    const stop = app.albumkit.on('new_image', (e) => void events.push(e.image_id));
    const uploads = Array.from({ length: 40 }, (_, i) => uploadResult({ public_id: `batch-${dialect}-${i}` }));
    // Every fourth upload is posted twice; albums X and Y do not exist yet.
    const posts = uploads.flatMap((upload, i) => {
      const album = i % 2 === 0 ? 'X' : 'Y';
      const post = () => postUpload(app.request, token, album, { cloudinary: upload });
      return i % 4 === 0 ? [post(), post()] : [post()];
    });
    const responses = await Promise.all(posts);
    stop();
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const ids = new Set(responses.map((r) => r.json.id));
    expect(ids.size).toBe(40);
    for (const album of ['X', 'Y']) {
      const json = (await app.request({ method: 'GET', path: `/api/v1/albums/${album}`, headers: authorization(token) })).json;
      expect(json.images_count).toBe(20);
    }
    expect(new Set(events)).toEqual(ids);
    expect(events).toHaveLength(40);
    const { rows } = await sql<{ n: string }>`select count(*) as n from events where organization_id = ${tenant.organization.id} and album_id in ('X', 'Y') and type = 'new_image'`.execute(app.database.db);
    expect(Number(rows[0]!.n)).toBe(40);
  });
});
