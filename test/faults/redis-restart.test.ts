import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlbumkit, type Albumkit } from '@albumkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTenant, uploadResult, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { albumImages, EXIF, freePort, notificationPath, notificationRequest, privateRedis, serve, silent, timed, until, type PrivateRedis } from './support.js';

/**
 * Redis crashes (SIGKILL) while albumkit and its BullMQ worker run, and comes back on the same
 * port EMPTY (no persistence, as the shared Redis here): jobs waiting at the crash are gone.
 * Every notification is recorded in PostgreSQL before its 201, so the ones accepted before and
 * during the outage are re-enqueued by the worker's sweep once Redis is back: nothing is lost.
 */
describe('Redis restart (private redis-server, SIGKILL, same port)', () => {
  let dir: string;
  let redis: PrivateRedis;
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let http: Awaited<ReturnType<typeof serve>>;
  let tenant: Tenant;
  let closeDb: () => Promise<void>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumkit-redis-'));
    redis = privateRedis(await freePort(), dir);
    await redis.start();
    const database = await createTestDatabase();
    closeDb = database.close;
    albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      database,
      logger: silent,
      jobs: () => new BullMqJobs({ redisUrl: redis.url, prefix: 'albumkit-fault', retry: { notification: { attempts: 8, backoffMs: 200 } } }),
    });
    worker = startWorker({
      albumkit,
      redisUrl: redis.url,
      prefix: 'albumkit-fault',
      logger: silent,
      lockDurationMs: 5000,
      stalledIntervalMs: 2000,
      // Notifications and images left unhandled for a second are enqueued again.
      sweepAfterMs: 1000,
    });
    http = await serve(albumkit);
    tenant = await createTenant({ albumkit } as never);
  });

  afterAll(async () => {
    await worker?.close(3000);
    await http?.close();
    await albumkit?.close();
    await closeDb?.();
    await redis?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps accepting notifications (recorded) and serving reads during the outage, and loses nothing after', async () => {
    const path = await notificationPath(albumkit, tenant, 'REDIS');
    const post = (upload: Record<string, unknown>) => {
      const { body, headers } = notificationRequest(upload);
      return timed(`${http.base}${path}`, { method: 'POST', headers, body });
    };
    const before = Array.from({ length: 30 }, (_, i) => uploadResult({ public_id: `before-${i}`, image_metadata: EXIF }));
    const during = Array.from({ length: 10 }, (_, i) => uploadResult({ public_id: `during-${i}`, image_metadata: EXIF }));
    const after = Array.from({ length: 10 }, (_, i) => uploadResult({ public_id: `after-${i}`, image_metadata: EXIF }));

    // Redis up: accepted.
    expect((await post(before[0]!)).status).toBe(201);
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'REDIS')).length === 1, 20_000, 'the first image');
    const [first] = await albumImages(albumkit, tenant.organization.id, 'REDIS');
    const rest = await Promise.all(before.slice(1).map(post));
    expect(rest.map((r) => r.status)).toEqual(rest.map(() => 201));

    // Crash: no shutdown, jobs possibly still waiting or running.
    await redis.kill();

    // Notifications are still accepted, at once: recorded in PostgreSQL, enqueued later.
    const accepted = [];
    for (const upload of during) accepted.push(await post(upload));
    for (const response of accepted) {
      expect(response.status).toBe(201);
      expect(response.ms).toBeLessThan(3000);
    }
    // Reads need no Redis.
    const token = await tenant.userToken({ REDIS: { Access: { image_list: true } } });
    const read = await timed(`${http.base}/api/v1/images/${first!.id}`, { headers: { Authorization: `Token token="${token}"` } });
    expect(read.status).toBe(200);
    expect(read.json.id).toBe(first!.id);
    expect(read.ms).toBeLessThan(3000);
    console.log(`redis outage: ${accepted.length} notifications accepted in at most ${Math.round(Math.max(...accepted.map((r) => r.ms)))} ms; read ${Math.round(read.ms)} ms`);

    // Redis comes back on the same port, empty; albumkit and the worker are not restarted.
    await redis.start();
    const later = await Promise.all(after.map(post));
    expect(later.map((r) => r.status)).toEqual(later.map(() => 201));

    // Every accepted upload ends as exactly one processed image, without restarting the worker.
    const expected = before.length + during.length + after.length;
    await until(
      async () => {
        const images = await albumImages(albumkit, tenant.organization.id, 'REDIS');
        return images.length === expected && images.every((i) => i.processed);
      },
      60_000,
      'every image processed',
    );
    const images = await albumImages(albumkit, tenant.organization.id, 'REDIS');
    expect(new Set(images.map((i) => i.upload_key)).size).toBe(expected);
    expect(new Set(images.map((i) => i.cloudinary_public_id))).toEqual(new Set([...before, ...during, ...after].map((u) => u.public_id)));
    const album = await albumkit.repositories.albums.find(tenant.organization.id, 'REDIS');
    expect(album!.images_count).toBe(expected);
    expect(worker.isRunning()).toBe(true);
    const counts = await (albumkit.jobs as BullMqJobs).counts();
    expect(counts.notification.failed).toBe(0);
  }, 120_000);
});
