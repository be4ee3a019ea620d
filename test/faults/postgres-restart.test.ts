import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAlbumkit, type Albumkit } from '@albumkit/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTenant, uploadResult, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';
import { albumImages, asPostgres, EXIF, freePort, notificationPath, notificationRequest, postgresBin, serve, silent, timed, until } from './support.js';

/**
 * PostgreSQL crashes (`pg_ctl stop -m immediate`: no checkpoint, clients cut) while albumkit, its
 * API and its BullMQ worker (shared Redis, own prefix) run, then starts again on the same port.
 * The cluster is private (initdb in a temp folder, a free port) so that the shared server is never touched.
 */
describe('PostgreSQL restart (private cluster, immediate stop, same port)', () => {
  const bin = postgresBin();
  let dir: string;
  let port: number;
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let http: Awaited<ReturnType<typeof serve>>;
  let tenant: Tenant;
  const prefix = uniquePrefix();

  const pgCtl = (...args: string[]) => {
    const result = asPostgres(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), ...args]);
    if (result.status !== 0) throw new Error(`pg_ctl ${args.join(' ')}: ${result.output}`);
  };
  const start = () => pgCtl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumkit-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const init = asPostgres(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync']);
    if (init.status !== 0) throw new Error(`initdb: ${init.output}`);
    port = await freePort();
    start();
    albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      // Migrations run at start, on the empty private database.
      databaseUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      logger: silent,
      jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix, retry: { notification: { attempts: 10, backoffMs: 300 } } }),
    });
    worker = startWorker({ albumkit, redisUrl: REDIS_URL, prefix, logger: silent });
    http = await serve(albumkit);
    tenant = await createTenant({ albumkit } as never);
  }, 90_000);

  afterAll(async () => {
    await worker?.close(3000);
    await http?.close();
    await albumkit?.close();
    try {
      if (dir) pgCtl('-m', 'immediate', 'stop');
    } catch {
      // already stopped
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 quickly while it is down, recovers without a restart, and every accepted upload is processed once', async () => {
    const path = await notificationPath(albumkit, tenant, 'PG');
    const post = (upload: Record<string, unknown>) => {
      const { body, headers } = notificationRequest(upload);
      return timed(`${http.base}${path}`, { method: 'POST', headers, body });
    };
    const token = await tenant.userToken({ PG: { Access: { image_upload: true, image_list: true } } });
    const auth = { Authorization: `Token token="${token}"` };
    const before = Array.from({ length: 20 }, (_, i) => uploadResult({ public_id: `pg-before-${i}`, image_metadata: EXIF }));
    const during = Array.from({ length: 10 }, (_, i) => uploadResult({ public_id: `pg-during-${i}`, image_metadata: EXIF }));
    const after = Array.from({ length: 10 }, (_, i) => uploadResult({ public_id: `pg-after-${i}`, image_metadata: EXIF }));
    const clientPosted = uploadResult({ public_id: 'pg-client-during', image_metadata: EXIF });

    expect((await post(before[0]!)).status).toBe(201);
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'PG')).length === 1, 20_000, 'the first image');
    const [first] = await albumImages(albumkit, tenant.organization.id, 'PG');
    const rest = await Promise.all(before.slice(1).map(post));
    expect(rest.map((r) => r.status)).toEqual(rest.map(() => 201));

    // A query in flight on a checked-out client when the server dies (always, not only when the
    // crash happens to hit a running job): it must fail, not hang, and must not crash the process.
    const inFlight = sql`select pg_sleep(30)`.execute(albumkit.database.db).then(
      () => 'finished',
      (error: Error) => error.message,
    );
    await until(
      async () => (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep(30)%'`.execute(albumkit.database.db)).rows[0]!.n > 0,
      5000,
      'the long query to start',
    );
    pgCtl('-m', 'immediate', 'stop');
    expect(await inFlight).toMatch(/terminat|connection/i);

    // Requests that need the database: a clear 503 with Retry-After, quickly (the pool's connect timeout is 5 s).
    const reads = await Promise.all([
      timed(`${http.base}/api/v1/images/${first!.id}`, { headers: auth }),
      timed(`${http.base}/api/v1/albums/PG/images`, { headers: auth }),
      timed(`${http.base}/api/v1/albums/PG/images`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ cloudinary: clientPosted }),
      }),
      timed(`${http.base}/api/v1/albums/PG`, { headers: auth }),
    ]);
    for (const response of reads) {
      expect(response.status, JSON.stringify(response.json)).toBe(503);
      expect(response.json).toMatchObject({ error: 'service_unavailable' });
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(response.ms).toBeLessThan(7000);
    }
    // Notifications only need Redis: accepted (201) and processed once PostgreSQL is back;
    // a 503 would be fine too (Cloudinary retries), but never a 500 or a hang.
    const duringAnswers = await Promise.all(during.map(post));
    for (const response of duringAnswers) {
      expect([201, 503]).toContain(response.status);
      expect(response.ms).toBeLessThan(7000);
    }

    console.log(`postgres outage: reads/writes 503 in at most ${Math.round(Math.max(...reads.map((r) => r.ms)))} ms; notifications ${duringAnswers.map((r) => r.status).join(',')} in at most ${Math.round(Math.max(...duringAnswers.map((r) => r.ms)))} ms`);
    start();

    // The same albumkit instance recovers: reads answer again.
    await until(async () => (await timed(`${http.base}/api/v1/images/${first!.id}`, { headers: auth })).status === 200, 20_000, 'reads to work again');
    // Cloudinary retries what was refused; the client retries its post.
    const refused = during.filter((_, i) => duringAnswers[i]!.status !== 201);
    const retried = await Promise.all(refused.map(post));
    expect(retried.map((r) => r.status)).toEqual(retried.map(() => 201));
    const clientRetry = await timed(`${http.base}/api/v1/albums/PG/images`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ cloudinary: clientPosted }),
    });
    expect(clientRetry.status).toBe(200);
    const later = await Promise.all(after.map(post));
    expect(later.map((r) => r.status)).toEqual(later.map(() => 201));

    const expected = before.length + during.length + after.length + 1;
    await until(
      async () => {
        const images = await albumImages(albumkit, tenant.organization.id, 'PG');
        return images.length === expected && images.every((i) => i.processed);
      },
      90_000,
      'every image processed',
    );
    const images = await albumImages(albumkit, tenant.organization.id, 'PG');
    expect(new Set(images.map((i) => i.upload_key)).size).toBe(expected);
    const album = await albumkit.repositories.albums.find(tenant.organization.id, 'PG');
    expect(album!.images_count).toBe(expected);
    const counts = await (albumkit.jobs as BullMqJobs).counts();
    expect(counts.notification.failed + counts.metadata.failed).toBe(0);
    expect(worker.isRunning()).toBe(true);
  }, 150_000);
});
