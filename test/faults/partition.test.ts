import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAlbumkit, jobId, type Albumkit } from '@albumkit/core';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTenant, uploadResult, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';
import { albumImages, asPostgres, EXIF, freePort, notificationPath, notificationRequest, postgresBin, privateRedis, serve, silent, timed, until, type PrivateRedis, type TimedResponse } from './support.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * Network partitions: the dependency keeps running, the network between it and albumkit fails.
 * A TCP proxy (tcp-proxy.ts) sits between them; `cut()` resets every connection and refuses new
 * ones, `blackhole()` keeps them open and forwards nothing (the half-open case: only timeouts can
 * tell), `restore()` heals. Requests during the partition must answer in bounded time (asserted
 * with a client timeout, not as a speed), and nothing accepted may be lost or done twice after.
 */

/** Longest a request may take during a partition before the test counts it as hung. */
const CLIENT_TIMEOUT_MS = 10_000;

const PHOTO = readFileSync(new URL('../fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));

const maxMs = (responses: TimedResponse[]) => Math.round(Math.max(...responses.map((r) => r.ms)));

describe('partition between albumkit (API and worker) and Redis', () => {
  let dir: string;
  let redis: PrivateRedis;
  let proxy: TcpProxy;
  let cloud: LocalCloudinary;
  let source: Server;
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let http: Awaited<ReturnType<typeof serve>>;
  let tenant: Tenant;
  let closeDb: () => Promise<void>;
  let databaseUrl: string;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumkit-partition-redis-'));
    redis = privateRedis(await freePort(), dir);
    await redis.start();
    proxy = await startTcpProxy({ port: redis.port });
    const redisUrl = `redis://${proxy.host}:${proxy.port}`;
    // An import (POST /imports) needs Redis at once; its file comes from this server, and is stored in the local Cloudinary.
    cloud = await startLocalCloudinary({ ...TEST_CONFIG.cloudinary });
    source = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(PHOTO));
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
    const database = await createTestDatabase();
    closeDb = database.close;
    databaseUrl = database.url;
    albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      cloudinary: { ...TEST_CONFIG.cloudinary, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      database,
      logger: silent,
      jobs: () => new BullMqJobs({ redisUrl, prefix, logger: silent, retry: { notification: { attempts: 8, backoffMs: 200 } } }),
    });
    worker = startWorker({
      albumkit,
      redisUrl,
      prefix,
      logger: silent,
      lockDurationMs: 5000,
      stalledIntervalMs: 2000,
      sweepAfterMs: 1000,
      imports: { allowPrivateHosts: [`127.0.0.1:${(source.address() as AddressInfo).port}`] },
    });
    http = await serve(albumkit);
    tenant = await createTenant({ albumkit } as never);
  }, 60_000);

  afterAll(async () => {
    proxy?.restore(); // a failed test may leave it silent
    await worker?.close(3000);
    await http?.close();
    await albumkit?.close();
    await closeDb?.();
    await proxy?.close();
    await redis?.kill();
    await cloud?.close();
    source?.closeAllConnections();
    await new Promise((resolve) => (source ? source.close(resolve) : resolve(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts notifications during a cut and a half-open period, refuses imports with 503, and processes everything exactly once after', async () => {
    const path = await notificationPath(albumkit, tenant, 'NET');
    const token = await tenant.userToken({ NET: { Access: { image_upload: true, image_list: true } }, NETIMPORT: { Access: { image_upload: true, image_list: true } } });
    const auth = { Authorization: `Token token="${token}"` };
    const post = (upload: Record<string, unknown>) => {
      const { body, headers } = notificationRequest(upload);
      return timed(`${http.base}${path}`, { method: 'POST', headers, body }, CLIENT_TIMEOUT_MS);
    };
    const uploads = (phase: string, n: number) => Array.from({ length: n }, (_, i) => uploadResult({ public_id: `net-${phase}-${i}`, image_metadata: EXIF }));
    const importBody = (name: string) =>
      JSON.stringify({ album_id: 'NETIMPORT', url: `http://127.0.0.1:${(source.address() as AddressInfo).port}/${name}.jpg`, filename: `${name}.jpg` });
    const postImport = (name: string) =>
      timed(`${http.base}/api/v1/imports`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: importBody(name) }, CLIENT_TIMEOUT_MS);
    const sent: Record<string, unknown>[] = [];
    const accept = async (batch: Record<string, unknown>[]) => {
      const answers = await Promise.all(batch.map(post));
      for (const answer of answers) expect(answer.status, JSON.stringify(answer.json)).toBe(201);
      sent.push(...batch);
      return answers;
    };

    // Connected through the proxy, working.
    await accept(uploads('before', 10));
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'NET')).filter((i) => i.processed).length === 10, 30_000, 'the first images');
    const [first] = await albumImages(albumkit, tenant.organization.id, 'NET');
    expect(proxy.stats().accepted).toBeGreaterThan(0);
    const read = () => timed(`${http.base}/api/v1/images/${first!.id}`, { headers: auth }, CLIENT_TIMEOUT_MS);

    // 1. Cut: connections reset, new ones refused.
    proxy.cut();
    const cutNotifications = await accept(uploads('cut', 10));
    const cutRead = await read();
    expect(cutRead.status).toBe(200);
    const cutImport = await postImport('cut');
    expect(cutImport.status, JSON.stringify(cutImport.json)).toBe(503);
    expect(Number(cutImport.headers.get('retry-after'))).toBeGreaterThan(0);
    console.log(`redis cut: notifications 201 in at most ${maxMs(cutNotifications)} ms, read 200 in ${Math.round(cutRead.ms)} ms, import 503 in ${Math.round(cutImport.ms)} ms`);

    let healed = performance.now();
    proxy.restore();
    await accept(uploads('between', 5));
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'NET')).filter((i) => i.processed).length === sent.length, 60_000, 'the images after the cut');
    console.log(`redis cut: every image processed ${Math.round(performance.now() - healed)} ms after restore`);
    const retriedImport = await postImport('cut');
    expect(retriedImport.status, JSON.stringify(retriedImport.json)).toBe(200);

    // 2. Half-open: connections stay open, nothing comes back. Jobs are running when it starts:
    // held on a lock of the albums table, they finish their database work once Redis is silent,
    // and cannot report it (nor renew their locks) until it heals.
    const locker = new pg.Client({ connectionString: databaseUrl });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table albums in exclusive mode');
    const writtenBefore = sent.length;
    await accept(uploads('running', 5));
    const waitingOnLock = async () =>
      (await locker.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0].n as number;
    await until(async () => (await waitingOnLock()) > 0, 20_000, 'a job blocked on the albums lock');
    proxy.blackhole();
    await locker.query('commit');
    await locker.end();
    // (Jobs still on their way from Redis to the worker when it went silent start only after the heal.)
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'NET')).length > writtenBefore, 20_000, 'a running job to write its image');
    const silentNotifications = await accept(uploads('silent', 10));
    const silentRead = await read();
    expect(silentRead.status).toBe(200);
    const silentImport = await postImport('silent');
    expect(silentImport.status, JSON.stringify(silentImport.json)).toBe(503);
    expect(Number(silentImport.headers.get('retry-after'))).toBeGreaterThan(0);
    console.log(`redis half-open: notifications 201 in at most ${maxMs(silentNotifications)} ms, read 200 in ${Math.round(silentRead.ms)} ms, import 503 in ${Math.round(silentImport.ms)} ms`);
    // Longer than the worker's lock: the jobs that were running count as stalled once Redis answers again.
    await sleep(6000);

    healed = performance.now();
    proxy.restore();
    await accept(uploads('after', 5));
    expect((await postImport('silent')).status).toBe(200);

    const expected = sent.length;
    await until(
      async () => {
        const images = await albumImages(albumkit, tenant.organization.id, 'NET');
        return images.length === expected && images.every((i) => i.processed);
      },
      90_000,
      'every image processed',
    );
    console.log(`redis half-open: every image processed ${Math.round(performance.now() - healed)} ms after restore`);
    // The jobs that were running when Redis went silent finish too (as stalled jobs run again, or late): the queues drain.
    await until(
      async () => {
        const c = await (albumkit.jobs as BullMqJobs).counts();
        return [c.notification, c.metadata, c.import].every((q) => q.active + q.waiting + q.delayed === 0);
      },
      60_000,
      'the queues to drain',
    );
    console.log(`redis half-open: queues drained ${Math.round(performance.now() - healed)} ms after restore`);
    const images = await albumImages(albumkit, tenant.organization.id, 'NET');
    expect(new Set(images.map((i) => i.upload_key)).size).toBe(expected);
    expect(new Set(images.map((i) => i.cloudinary_public_id))).toEqual(new Set(sent.map((u) => u.public_id)));
    const album = await albumkit.repositories.albums.find(tenant.organization.id, 'NET');
    expect(album!.images_count).toBe(expected);
    const processedEvents = await sql<{ image_id: string; n: number }>`
      select payload->>'image_id' as image_id, count(*)::int as n from events
      where organization_id = ${tenant.organization.id} and album_id = 'NET' and type = 'processed_image' group by 1`.execute(albumkit.database.db);
    expect(processedEvents.rows).toHaveLength(expected);
    expect(processedEvents.rows.every((row) => row.n === 1)).toBe(true);

    // The two imports refused with 503 and posted again: one image each.
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'NETIMPORT')).length === 2, 60_000, 'the imported images');
    const imported = await albumImages(albumkit, tenant.organization.id, 'NETIMPORT');
    expect(imported.map((i) => i.filename).sort()).toEqual(['cut', 'silent']);

    const counts = await (albumkit.jobs as BullMqJobs).counts();
    expect(counts.notification.failed + counts.metadata.failed + counts.import.failed).toBe(0);
    expect(worker.isRunning()).toBe(true);
  }, 180_000);
});

describe('partition between albumkit (API and worker) and PostgreSQL', () => {
  const bin = postgresBin();
  let dir: string;
  let pgPort: number;
  let proxy: TcpProxy;
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let http: Awaited<ReturnType<typeof serve>>;
  let tenant: Tenant;
  const prefix = uniquePrefix();

  const pgCtl = (...args: string[]) => {
    const result = asPostgres(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), ...args]);
    if (result.status !== 0) throw new Error(`pg_ctl ${args.join(' ')}: ${result.output}`);
  };

  beforeAll(async () => {
    // A private cluster, so that the shared server is never behind a broken network.
    dir = mkdtempSync(join(tmpdir(), 'albumkit-partition-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const init = asPostgres(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync']);
    if (init.status !== 0) throw new Error(`initdb: ${init.output}`);
    pgPort = await freePort();
    pgCtl('-o', `-p ${pgPort} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start');
    proxy = await startTcpProxy({ port: pgPort });
    albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      databaseUrl: `postgres://postgres@${proxy.host}:${proxy.port}/postgres`,
      // A statement whose answer does not come within 2 s fails (its connection is dropped): 503.
      databaseQueryTimeoutMs: 2000,
      logger: silent,
      jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix, logger: silent, retry: { notification: { attempts: 12, backoffMs: 300 } } }),
    });
    worker = startWorker({ albumkit, redisUrl: REDIS_URL, prefix, logger: silent, sweepAfterMs: 1000 });
    http = await serve(albumkit);
    tenant = await createTenant({ albumkit } as never);
  }, 90_000);

  afterAll(async () => {
    proxy?.restore(); // a failed test may leave it silent
    await worker?.close(3000);
    await http?.close();
    await albumkit?.close();
    await proxy?.close();
    try {
      if (dir) pgCtl('-m', 'immediate', 'stop');
    } catch {
      // not started
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After during a cut and a half-open period, recovers without a restart, and loses or doubles nothing', async () => {
    const path = await notificationPath(albumkit, tenant, 'PGNET');
    const token = await tenant.userToken({ PGNET: { Access: { image_upload: true, image_list: true } } });
    const auth = { Authorization: `Token token="${token}"` };
    const post = (upload: Record<string, unknown>) => {
      const { body, headers } = notificationRequest(upload);
      return timed(`${http.base}${path}`, { method: 'POST', headers, body }, CLIENT_TIMEOUT_MS);
    };
    const uploads = (phase: string, n: number) => Array.from({ length: n }, (_, i) => uploadResult({ public_id: `pgnet-${phase}-${i}`, image_metadata: EXIF }));
    const sent: Record<string, unknown>[] = [];
    const clientPost = (upload: Record<string, unknown>) =>
      timed(`${http.base}/api/v1/albums/PGNET/images`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ cloudinary: upload }) }, CLIENT_TIMEOUT_MS);

    const before = uploads('before', 10);
    const accepted = await Promise.all(before.map(post));
    expect(accepted.map((r) => r.status)).toEqual(before.map(() => 201));
    sent.push(...before);
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'PGNET')).filter((i) => i.processed).length === 10, 30_000, 'the first images');
    const [first] = await albumImages(albumkit, tenant.organization.id, 'PGNET');
    expect(proxy.stats().accepted).toBeGreaterThan(0);
    const reads = (upload: Record<string, unknown>) =>
      Promise.all([
        timed(`${http.base}/api/v1/images/${first!.id}`, { headers: auth }, CLIENT_TIMEOUT_MS),
        timed(`${http.base}/api/v1/albums/PGNET/images`, { headers: auth }, CLIENT_TIMEOUT_MS),
        clientPost(upload),
        timed(`${http.base}/api/v1/albums/PGNET`, { headers: auth }, CLIENT_TIMEOUT_MS),
      ]);
    const unavailable = (responses: TimedResponse[]) => {
      for (const response of responses) {
        expect(response.status, JSON.stringify(response.json)).toBe(503);
        expect(response.json).toMatchObject({ error: 'service_unavailable' });
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    };
    /** After restore: the same instance answers reads again (timed from the restore), then the refused work is sent again. */
    const recover = async (label: string, refusedUploads: Record<string, unknown>[], clientUpload: Record<string, unknown>) => {
      const healed = performance.now();
      proxy.restore();
      await until(async () => (await timed(`${http.base}/api/v1/images/${first!.id}`, { headers: auth }, CLIENT_TIMEOUT_MS)).status === 200, 30_000, 'reads to work again');
      const recoveredMs = Math.round(performance.now() - healed);
      // Cloudinary sends a refused notification again; the client posts its upload again, twice even.
      const again = await Promise.all(refusedUploads.map(post));
      expect(again.map((r) => r.status)).toEqual(refusedUploads.map(() => 201));
      const retried = await clientPost(clientUpload);
      expect(retried.status, JSON.stringify(retried.json)).toBe(200);
      expect((await clientPost(clientUpload)).json.id).toBe(retried.json.id);
      sent.push(...refusedUploads, clientUpload);
      console.log(`postgres ${label}: reads 200 again ${recoveredMs} ms after restore`);
    };

    // 1. Cut.
    proxy.cut();
    const cutClient = uploadResult({ public_id: 'pgnet-client-cut', image_metadata: EXIF });
    const cutReads = await reads(cutClient);
    unavailable(cutReads);
    const cutUploads = uploads('cut', 5);
    const cutNotifications = await Promise.all(cutUploads.map(post));
    for (const response of cutNotifications) expect(response.status).toBe(503);
    console.log(`postgres cut: API 503 in at most ${maxMs(cutReads)} ms, notifications 503 in at most ${maxMs(cutNotifications)} ms`);
    await recover('cut', cutUploads, cutClient);

    // 2. Half-open, with jobs running: enqueued straight to the job port (as the sweep does), they
    // meet a database that does not answer.
    proxy.blackhole();
    const silentJobs = uploads('silent-job', 5);
    const silentJobData = silentJobs.map((upload) => ({ organizationId: tenant.organization.id, albumId: 'PGNET', userId: tenant.user.id, upload: { notification_type: 'upload', ...upload } }));
    for (const data of silentJobData) await albumkit.jobs.enqueue('notification', data);
    sent.push(...silentJobs);
    const silentClient = uploadResult({ public_id: 'pgnet-client-silent', image_metadata: EXIF });
    const silentReads = await reads(silentClient);
    unavailable(silentReads);
    const silentUploads = uploads('silent', 5);
    const silentNotifications = await Promise.all(silentUploads.map(post));
    for (const response of silentNotifications) expect(response.status).toBe(503);
    console.log(`postgres half-open: API 503 in at most ${maxMs(silentReads)} ms, notifications 503 in at most ${maxMs(silentNotifications)} ms`);
    await sleep(3000);
    await recover('half-open', silentUploads, silentClient);

    const after = uploads('after', 5);
    expect((await Promise.all(after.map(post))).map((r) => r.status)).toEqual(after.map(() => 201));
    sent.push(...after);

    const expected = sent.length;
    await until(
      async () => {
        const images = await albumImages(albumkit, tenant.organization.id, 'PGNET');
        return images.length === expected && images.every((i) => i.processed);
      },
      90_000,
      'every image processed',
    );
    const images = await albumImages(albumkit, tenant.organization.id, 'PGNET');
    expect(new Set(images.map((i) => i.upload_key)).size).toBe(expected);
    expect(new Set(images.map((i) => i.cloudinary_public_id))).toEqual(new Set(sent.map((u) => u.public_id)));
    const album = await albumkit.repositories.albums.find(tenant.organization.id, 'PGNET');
    expect(album!.images_count).toBe(expected);
    const processedEvents = await sql<{ image_id: string; n: number }>`
      select payload->>'image_id' as image_id, count(*)::int as n from events
      where organization_id = ${tenant.organization.id} and album_id = 'PGNET' and type = 'processed_image' group by 1`.execute(albumkit.database.db);
    expect(processedEvents.rows).toHaveLength(expected);
    expect(processedEvents.rows.every((row) => row.n === 1)).toBe(true);
    // The jobs that ran while the database was silent failed (timed out) and were retried: done once, not lost.
    // (A job whose image is made may still wait for its retry, when a later step of it met the silence.)
    await until(
      async () => {
        const c = await (albumkit.jobs as BullMqJobs).counts();
        return [c.notification, c.metadata].every((q) => q.active + q.waiting + q.delayed === 0);
      },
      90_000,
      'the queues to drain',
    );
    for (const data of silentJobData) {
      const job = await (albumkit.jobs as BullMqJobs).queue('notification').getJob(jobId('notification', data));
      expect(job?.finishedOn).toBeDefined();
      expect(job!.attemptsStarted).toBeGreaterThan(1);
      expect(await job!.isCompleted()).toBe(true);
    }
    const counts = await (albumkit.jobs as BullMqJobs).counts();
    expect(counts.notification.failed + counts.metadata.failed).toBe(0);
    expect(worker.isRunning()).toBe(true);
  }, 180_000);
});
