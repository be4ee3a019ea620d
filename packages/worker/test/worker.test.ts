import type { InProcessJobs } from '@albumkit/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, type TestApp } from '../../core/test/support/app.js';
import { access, createTenant, uploadResult, type Tenant } from '../../core/test/support/fixtures.js';
import { BullMqJobs } from '../src/bullmq-jobs.js';
import { inProcessJobs } from '../src/in-process.js';
import { startWorker, type RunningWorker } from '../src/worker.js';
import { albumImages, notificationPath, notify, until } from './support/notifications.js';
import { REDIS_URL, uniquePrefix } from './support/redis.js';

/** Cloudinary's own rendering of EXIF, as an upload result carries it with `image_metadata=1`. */
const CLOUDINARY_EXIF = {
  DateTimeOriginal: '2015:06:12 13:40:32',
  SubSecTimeOriginal: '41',
  GPSLatitude: "37 deg 44' 48.35\" N",
  GPSLongitude: "119 deg 31' 47.58\" W",
  Orientation: 'Horizontal (normal)',
};

describe('the BullMQ worker (real Redis and PostgreSQL)', () => {
  let app: TestApp;
  let tenant: Tenant;
  let worker: RunningWorker;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    app = await createTestApp('postgres', { jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }) });
    tenant = await createTenant(app);
    worker = startWorker({ albumkit: app.albumkit, redisUrl: REDIS_URL, prefix, logger: { error() {}, warn() {} } });
  });
  afterAll(async () => {
    await worker?.close(5000);
    await app?.close();
  });

  it('turns a notification into one processed image with its EXIF date and GPS', async () => {
    const url = await notificationPath(app.albumkit, tenant, 'W1');
    expect((await notify(app.albumkit, url, uploadResult({ image_metadata: CLOUDINARY_EXIF }))).status).toBe(201);
    await until(async () => (await albumImages(app.albumkit, tenant.organization.id, 'W1')).some((i) => i.processed));
    const [image] = await albumImages(app.albumkit, tenant.organization.id, 'W1');
    expect(image!.taken_at?.toISOString()).toBe('2015-06-12T13:40:32.410Z');
    expect(image!.gps_exifs).toEqual([expect.closeTo(37.746764, 5), expect.closeTo(-119.529883, 5)]);
    expect(image!.gps).toEqual(image!.gps_exifs);
    expect(image!.processing_error).toBeNull();
  });

  it('creates nothing for an error notification or a malformed one', async () => {
    const url = await notificationPath(app.albumkit, tenant, 'W2');
    expect((await notify(app.albumkit, url, { notification_type: 'error', error: { message: 'bad' } })).status).toBe(201);
    expect((await notify(app.albumkit, url, { public_id: '../etc', version: 1 })).status).toBe(400);
    await sleep(300);
    expect(await albumImages(app.albumkit, tenant.organization.id, 'W2')).toHaveLength(0);
  });

  it('1,000 notifications with 20% sent twice, racing client posts: exactly 800 images, all processed', async () => {
    const url = await notificationPath(app.albumkit, tenant, 'LOAD');
    const uploads = Array.from({ length: 800 }, (_, i) => uploadResult({ public_id: `load-${i}`, image_metadata: CLOUDINARY_EXIF }));
    const sends = [...uploads, ...uploads.slice(0, 200)].sort(() => Math.random() - 0.5);
    const token = await tenant.userToken({ LOAD: access('image_upload') });
    const clientPosts = uploads.slice(0, 50).map((u) =>
      app.request({
        method: 'POST',
        path: '/api/v1/albums/LOAD/images',
        headers: { ...authorization(token), 'Content-Type': 'application/json' },
        rawBody: JSON.stringify({ cloudinary: u }),
      }),
    );
    for (let i = 0; i < sends.length; i += 50) {
      const statuses = await Promise.all(sends.slice(i, i + 50).map((u) => notify(app.albumkit, url, u).then((r) => r.status)));
      expect(statuses.every((s) => s === 201)).toBe(true);
    }
    expect((await Promise.all(clientPosts)).every((r) => r.status === 200)).toBe(true);
    await until(async () => {
      const images = await albumImages(app.albumkit, tenant.organization.id, 'LOAD');
      return images.length === 800 && images.every((i) => i.processed);
    }, 120_000);
    const images = await albumImages(app.albumkit, tenant.organization.id, 'LOAD');
    expect(new Set(images.map((i) => i.upload_key)).size).toBe(800);
    const album = await app.albumkit.repositories.albums.find(tenant.organization.id, 'LOAD');
    expect(album!.images_count).toBe(800);
    const counts = await (app.albumkit.jobs as BullMqJobs).counts();
    expect(counts.notification.failed + counts.metadata.failed).toBe(0);
  });
});

describe('the same processors in-process (no Redis)', () => {
  it('processes a notification end to end on PGlite', async () => {
    let jobs: InProcessJobs | undefined;
    const app = await createTestApp('pglite', { jobs: (albumkit) => (jobs = inProcessJobs(albumkit)) });
    try {
      const tenant = await createTenant(app);
      const url = await notificationPath(app.albumkit, tenant, 'E1');
      expect((await notify(app.albumkit, url, uploadResult({ image_metadata: CLOUDINARY_EXIF }))).status).toBe(201);
      await jobs!.drain();
      const [image] = await albumImages(app.albumkit, tenant.organization.id, 'E1');
      expect(image).toMatchObject({ processed: true, processing_error: null });
      expect(image!.taken_at?.toISOString()).toBe('2015-06-12T13:40:32.410Z');
    } finally {
      await app.close();
    }
  });
});
