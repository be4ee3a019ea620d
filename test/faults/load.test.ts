import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, type TestApp } from '../../packages/core/test/support/app.js';
import { access, createTenant, uploadResult, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';
import { albumImages, EXIF, notificationPath, notificationRequest, silent, until } from './support.js';

const DISTINCT = 8_000;
const DUPLICATES = 2_000; // 20% of the 10,000 notifications are a second copy
const CLIENT_POSTS = 1_000; // the same uploads also posted by the client, concurrently
const BATCH = 100;

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * 10,000 notifications (8,000 uploads, 2,000 of them sent twice, random order) and 1,000 client
 * posts of the same uploads racing them, through the handler, BullMQ on the shared Redis and one
 * in-process worker: exactly 8,000 processed images, none doubled; memory does not keep growing.
 */
describe('load: 10,000 notifications with duplicates and racing client posts', () => {
  let app: TestApp;
  let tenant: Tenant;
  let worker: RunningWorker;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    app = await createTestApp('postgres', { jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }) });
    tenant = await createTenant(app);
    worker = startWorker({ albumkit: app.albumkit, redisUrl: REDIS_URL, prefix, logger: silent });
  });
  afterAll(async () => {
    await worker?.close(5000);
    await app?.close();
    // The queues of this run are left to expire (completed jobs are removed after an hour).
  });

  async function run(album: string, distinct: number, duplicates: number, clientPosts: number) {
    const path = await notificationPath(app.albumkit, tenant, album);
    const token = await tenant.userToken({ [album]: access('image_upload') });
    const uploads = Array.from({ length: distinct }, (_, i) => uploadResult({ public_id: `${album.toLowerCase()}-${i}`, image_metadata: EXIF }));
    const notifications = shuffle([...uploads, ...shuffle([...uploads]).slice(0, duplicates)]).map(notificationRequest);
    const posts = shuffle([...uploads]).slice(0, clientPosts);
    const started = performance.now();
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

    // The client posts run alongside the notifications, a few at a time.
    const clientSide = (async () => {
      for (let i = 0; i < posts.length; i += 20) {
        const answers = await Promise.all(
          posts.slice(i, i + 20).map((u) =>
            app.albumkit.handle({
              method: 'POST',
              path: `/api/v1/albums/${album}/images`,
              headers: { ...authorization(token), 'Content-Type': 'application/json' },
              rawBody: JSON.stringify({ cloudinary: u }),
            }),
          ),
        );
        for (const a of answers) count(a.status === 200 ? -200 : -a.status);
      }
    })();
    for (let i = 0; i < notifications.length; i += BATCH) {
      const answers = await Promise.all(
        notifications.slice(i, i + BATCH).map(({ body, headers }) => app.albumkit.handle({ method: 'POST', path, headers, rawBody: body })),
      );
      for (const a of answers) count(a.status);
    }
    await clientSide;
    const acceptedMs = performance.now() - started;
    // Every notification answered 201, every client post 200.
    expect(Object.fromEntries(statuses)).toEqual({ 201: notifications.length, ...(clientPosts ? { [-200]: clientPosts } : {}) });

    await until(
      async () => {
        const rows = await app.albumkit.database.db
          .selectFrom('images')
          .select((eb) => [eb.fn.countAll<string>().as('all'), eb.fn.count<string>('id').filterWhere('processed', '=', true).as('processed')])
          .where('organization_id', '=', tenant.organization.id)
          .where('album_id', '=', album)
          .executeTakeFirstOrThrow();
        return Number(rows.processed) === distinct && Number(rows.all) === distinct;
      },
      200_000,
      `${distinct} processed images`,
    );
    const totalMs = performance.now() - started;
    const images = await albumImages(app.albumkit, tenant.organization.id, album);
    expect(images).toHaveLength(distinct);
    expect(images.every((i) => i.processed)).toBe(true);
    expect(new Set(images.map((i) => i.upload_key)).size).toBe(distinct);
    expect(new Set(images.map((i) => i.cloudinary_public_id))).toEqual(new Set(uploads.map((u) => u.public_id)));
    const albumRow = await app.albumkit.repositories.albums.find(tenant.organization.id, album);
    expect(albumRow!.images_count).toBe(distinct);
    return { acceptedMs, totalMs, requests: notifications.length + clientPosts };
  }

  it(
    'exactly 8,000 processed images, none doubled, images_count 8,000, memory flat afterwards',
    async () => {
      const big = await run('LOAD10K', DISTINCT, DUPLICATES, CLIENT_POSTS);
      const heapAfterBig = process.memoryUsage().heapUsed;
      const small = await run('LOAD1K', 1_000, 250, 100);
      const heapAfterSmall = process.memoryUsage().heapUsed;
      const counts = await (app.albumkit.jobs as BullMqJobs).counts();
      expect(counts.notification.failed + counts.metadata.failed).toBe(0);
      const mb = (n: number) => Math.round(n / 1024 / 1024);
      console.log(
        `load: ${big.requests} requests accepted in ${(big.acceptedMs / 1000).toFixed(1)} s, ${DISTINCT} images processed after ${(big.totalMs / 1000).toFixed(1)} s ` +
          `(${Math.round((DISTINCT * 1000) / big.totalMs)} images/s); second run ${small.requests} requests in ${(small.totalMs / 1000).toFixed(1)} s; ` +
          `heap ${mb(heapAfterBig)} MB after the first run, ${mb(heapAfterSmall)} MB after the second`,
      );
      // Memory does not keep growing: a second, smaller run leaves the heap no bigger than the first
      // (generous bound: garbage collection is not forced, so some slack for uncollected garbage).
      expect(heapAfterSmall).toBeLessThan(heapAfterBig * 1.5 + 64 * 1024 * 1024);
    },
    240_000,
  );
});
