import type { Albumkit } from '@albumkit/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../packages/core/test/support/app.js';
import { access, createTenant, postUpload, uploadResult, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { inProcessJobs } from '../../packages/worker/src/in-process.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { notificationPath, notify, until } from '../../packages/worker/test/support/notifications.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';

/**
 * One upload reaches albumkit twice: Cloudinary's notification and the client's post of the
 * upload result. Whichever comes first, and however often each comes, there is one image, the
 * client's metadatas are kept, and its events fire once.
 */
const setups = [
  { name: 'PostgreSQL + Redis (BullMQ worker)', dialect: 'postgres' as const, redis: true },
  { name: 'PGlite + in-process jobs', dialect: 'pglite' as const, redis: false },
];

/** An upload result as Cloudinary gives it, EXIF included (the notification then creates the image processed). */
function upload(album: string) {
  return uploadResult({
    tags: [album],
    image_metadata: { DateTimeOriginal: '2021:06:01 10:20:30', Orientation: 'Horizontal (normal)' },
  });
}

describe.each(setups)('an upload posted and notified, in any order ($name)', ({ dialect, redis }) => {
  let app: TestApp;
  let albumkit: Albumkit;
  let worker: RunningWorker | undefined;
  let tenant: Tenant;
  let token: string;
  const album = 'RACE-ALBUM';
  let notifyPath: string;

  beforeAll(async () => {
    const prefix = uniquePrefix();
    app = await createTestApp(dialect, {
      jobs: redis ? () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }) : (ak) => inProcessJobs(ak),
    });
    albumkit = app.albumkit;
    if (redis) worker = startWorker({ albumkit, redisUrl: REDIS_URL, prefix, logger: { error() {}, warn() {} } });
    tenant = await createTenant(app);
    token = await tenant.userToken({ [album]: access('image_upload', 'image_list') });
    notifyPath = await notificationPath(albumkit, tenant, album);
  });

  afterAll(async () => {
    await worker?.close(5000);
    await app?.close();
  });

  const post = (result: Record<string, unknown>, metadatas: Record<string, unknown>) =>
    postUpload((req) => app.request(req), token, album, { cloudinary: result, metadatas });

  async function imagesOf(result: Record<string, unknown>) {
    return albumkit.database.db
      .selectFrom('images')
      .selectAll()
      .where('upload_key', '=', `${result.public_id}@${result.version}`)
      .execute();
  }

  async function eventCounts(imageId: string): Promise<Record<string, number>> {
    const rows = await albumkit.database.db
      .selectFrom('events')
      .select(['type', sql<number>`count(*)::int`.as('n')])
      .where(sql<string>`payload->>'image_id'`, '=', imageId)
      .groupBy('type')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.type, Number(r.n)]));
  }

  /** The upload's one image once it is processed, with everything said of it checked. */
  async function settled(result: Record<string, unknown>, metadatas: Record<string, unknown>) {
    await until(async () => (await imagesOf(result)).some((i) => i.processed), 30_000, 'processed image');
    const rows = await imagesOf(result);
    expect(rows).toHaveLength(1);
    const image = rows[0]!;
    expect(image.metadatas).toEqual(metadatas);
    expect(image.album_id).toBe(album);
    expect(image.taken_at?.toISOString()).toBe('2021-06-01T10:20:30.000Z');
    expect(await eventCounts(image.id)).toEqual({ new_image: 1, processed_image: 1 });
    return image;
  }

  it('notification first, then the post: the post merges its metadatas and answers the merged image', async () => {
    const result = upload(album);
    expect((await notify(albumkit, notifyPath, result)).status).toBe(201);
    await until(async () => (await imagesOf(result)).length === 1, 30_000, 'notified image');
    const metadatas = { from: 'client', n: 1 };
    const posted = await post(result, metadatas);
    expect(posted.status).toBe(200);
    expect(posted.json.metadatas).toEqual(metadatas);
    const image = await settled(result, metadatas);
    expect(posted.json.id).toBe(image.id);
    // The notification again (Cloudinary retries) changes nothing the client owns.
    expect((await notify(albumkit, notifyPath, result)).status).toBe(201);
    await until(async () => (await albumkit.database.db.selectFrom('notifications').select('done_at').where('upload_key', '=', image.upload_key!).executeTakeFirst())?.done_at != null, 30_000, 'notification done');
    await settled(result, metadatas);
  });

  it('the post first, then the notification: the notification never overwrites what the client posted', async () => {
    const result = upload(album);
    const metadatas = { from: 'client', n: 2 };
    const posted = await post(result, metadatas);
    expect(posted.status).toBe(200);
    expect((await notify(albumkit, notifyPath, result)).status).toBe(201);
    expect((await notify(albumkit, notifyPath, result)).status).toBe(201);
    const image = await settled(result, metadatas);
    expect(image.id).toBe(posted.json.id);
  });

  it('posts and notifications, duplicated, all at once, for many uploads: one image each, metadatas kept, events once', async () => {
    const uploads = Array.from({ length: 12 }, (_, i) => ({ result: upload(album), metadatas: { from: 'client', i } }));
    const answers = await Promise.all(
      uploads.flatMap(({ result, metadatas }, i) => {
        const notification = () => notify(albumkit, notifyPath, result);
        const client = () => post(result, metadatas);
        // Both orders of starting, each path twice.
        return i % 2 === 0 ? [notification(), client(), notification(), client()] : [client(), notification(), client(), notification()];
      }),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([...Array(24).fill(200), ...Array(24).fill(201)].sort());
    for (const { result, metadatas } of uploads) {
      const image = await settled(result, metadatas);
      const clientAnswers = answers.filter((a) => a.status === 200).map((a) => JSON.parse(a.body)).filter((json) => json.id === image.id);
      expect(clientAnswers).toHaveLength(2);
      for (const json of clientAnswers) expect(json.metadatas).toEqual(metadatas);
    }
    const album_ = await app.request({ method: 'GET', path: `/api/v1/albums/${album}`, headers: { Authorization: `Bearer ${token}` } });
    expect(album_.json.images_count).toBe((await albumkit.database.db.selectFrom('images').select('id').where('album_id', '=', album).execute()).length);
  });
});
