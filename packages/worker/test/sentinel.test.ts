import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { apiSignature, configFromEnv, createAlbumkit, JOB_NAMES, type Albumkit, type RedisSentinelSettings } from '@albumkit/core';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../core/test/support/fixtures.js';
import { createTestDatabase } from '../../core/test/support/postgres.js';
import { albumkitNode } from '../../http-adapter/src/node.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../testing/src/index.js';
import { BullMqJobs } from '../src/bullmq-jobs.js';
import { queueName } from '../src/queues.js';
import { startWorker, type RunningWorker } from '../src/worker.js';
import { uniquePrefix } from './support/redis.js';
import { clientNames, eventually, MASTER_NAME, roleOf, sentinelMaster, startRedis, startSentinel, type RedisProcess } from './support/sentinel.js';

/**
 * Redis behind Sentinel: a private master, its replica and three sentinels (quorum 2), each a
 * redis-server of its own. albumkit's producer (BullMqJobs) and worker (startWorker) are given the
 * sentinels' addresses only, read from REDIS_SENTINELS / REDIS_SENTINEL_NAME as the command and the
 * example hosts read them; never the master's. Photos go through the local Cloudinary server (its
 * notifications to albumkit's HTTP API, and client posts whose metadata job reads the file back),
 * through a forced failover and a crash of the master. What was accepted ends as exactly one
 * processed image, and both sides end on the master of the moment.
 */
const PHOTO = readFileSync(new URL('../../../test/fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));
const TAKEN_AT = '2018-07-25T16:34:23.935Z';
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const ms = (value: number) => `${(value / 1000).toFixed(1)} s`;

const REQUIRED_ENV = { ALBUMKIT_SECRET: TEST_CONFIG.secret, CLOUDINARY_URL: 'cloudinary://key:secret@demo' };

describe('REDIS_SENTINELS in the environment', () => {
  it('is read into ioredis Sentinel options, with the passwords', () => {
    const { redis, redisUrl } = configFromEnv({
      ...REQUIRED_ENV,
      REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380,sentinel-c,[::1]:5000',
      REDIS_SENTINEL_NAME: 'albums',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_PASSWORD: 'redis-secret',
    });
    expect(redisUrl).toBeUndefined();
    expect(redis).toEqual({
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: 'sentinel-b', port: 26380 },
        { host: 'sentinel-c', port: 26379 },
        { host: '::1', port: 5000 },
      ],
      name: 'albums',
      sentinelPassword: 'sentinel-secret',
      password: 'redis-secret',
    });
    expect(configFromEnv({ ...REQUIRED_ENV, REDIS_URL: 'redis://127.0.0.1:6379' }).redis).toBeUndefined();
  });

  it.each([
    [{ REDIS_SENTINELS: '127.0.0.1:26379' }, /REDIS_SENTINEL_NAME is required with REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: '127.0.0.1:26379,:1', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS: "127\.0\.0\.1:26379,:1" is not a list of host:port/],
    [{ REDIS_SENTINELS: '127.0.0.1:70000', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: '127.0.0.1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_URL: 'redis://127.0.0.1:6379' }, /REDIS_URL and REDIS_SENTINELS are both set/],
    [{ REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINEL_NAME is read only with REDIS_SENTINELS/],
    [{ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PASSWORD: 'x' }, /REDIS_PASSWORD is read only with REDIS_SENTINELS \(with REDIS_URL, the password goes in the URL/],
  ])('fails at start-up naming what is wrong (%#)', (values, message) => {
    expect(() => configFromEnv({ ...REQUIRED_ENV, ...values })).toThrow(message);
  });

  it('BullMqJobs needs redisUrl or redis', () => {
    expect(() => new BullMqJobs({})).toThrow(/redisUrl .* or redis/);
  });
});

describe('BullMQ through Redis Sentinel (private master, replica and 3 sentinels; failover and crash)', () => {
  let dir: string;
  let first: RedisProcess; // the master at the start
  let second: RedisProcess; // its replica, master after the forced failover
  let sentinels: RedisProcess[] = [];
  let cloud: LocalCloudinary;
  let server: Server;
  let base: string;
  let albumkit: Albumkit;
  let worker: RunningWorker | undefined;
  let tenant: Tenant;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let redis: RedisSentinelSettings;
  let cli: ChildProcess | undefined;
  const prefix = uniquePrefix();
  /** What albumkit logged: shown when a wait times out. */
  const logs: string[] = [];
  const logger = {
    error: (object: unknown, message?: string) => void logs.push(`error ${message ?? ''} ${String((object as { err?: unknown })?.err ?? '')}`),
    warn: (object: unknown, message?: string) => void logs.push(`warn ${message ?? ''} ${String((object as { err?: unknown })?.err ?? '')}`),
  };

  const running = () => sentinels.filter((s) => s.isRunning());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumkit-sentinel-'));
    first = await startRedis(dir);
    second = await startRedis(dir, first.port);
    await eventually(async () => /master_link_status:up/.test(await second.client.info('replication')), 20_000, 'the replica to sync');
    for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(dir, first.port, 2));
    // Each sentinel has reached the master, found the replica and the two other sentinels.
    await eventually(
      async () => {
        const views = await Promise.all(sentinels.map((s) => sentinelMaster(s.client)));
        return views.every((v) => v.flags === 'master' && v.port === String(first.port) && v['num-slaves'] === '1' && v['num-other-sentinels'] === '2');
      },
      30_000,
      'the sentinels to know the master, its replica and each other',
    );

    cloud = await startLocalCloudinary({ notificationRetryDelaysMs: [200, 1000, 3000] });
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    database = await createTestDatabase();

    // The settings as albumkit-worker and the example hosts read them: the sentinels only.
    const env = configFromEnv({
      ...REQUIRED_ENV,
      REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      REDIS_SENTINEL_NAME: MASTER_NAME,
    });
    expect(env.redisUrl).toBeUndefined();
    redis = env.redis!;
    albumkit = await createAlbumkit({
      secret: TEST_CONFIG.secret,
      cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      publicUrl: `${base}/api/v1`,
      database,
      logger,
      jobs: () => new BullMqJobs({ redis, prefix, logger }),
    });
    server.on('request', albumkitNode(albumkit));
    // Notifications and images left unhandled for a second (a job lost in a failover) are enqueued again.
    worker = startWorker({ albumkit, redis, prefix, logger, sweepAfterMs: 1000, lockDurationMs: 5000, stalledIntervalMs: 2000 });
    tenant = await createTenant({ albumkit } as never);
  }, 120_000);

  afterAll(async () => {
    // Every process started here is killed, whatever happened before.
    const steps: Array<() => Promise<unknown> | unknown> = [
      () => cli && cli.exitCode === null && cli.signalCode === null && cli.kill('SIGKILL'),
      () => worker?.close(3000),
      () => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined))),
      () => albumkit?.close(),
      () => database?.close(),
      () => cloud?.close(),
      ...sentinels.map((s) => () => s.kill()),
      () => second?.kill(),
      () => first?.kill(),
    ];
    for (const step of steps) await Promise.resolve().then(step).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function api(path: string, token: string, init: RequestInit = {}) {
    const response = await fetch(`${base}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
  }

  async function upload(params: Record<string, unknown>, url: string): Promise<Record<string, any>> {
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.append(k, String(v));
    form.append('file', new Blob([PHOTO]), 'photo.jpg');
    const response = await fetch(url, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, any>;
  }

  /**
   * Photos, one after the other (`count` of them, or for as long as `more()` says, a pause
   * between two), half through the album's upload form (Cloudinary notifies albumkit, which
   * records the notification and enqueues it) and half posted by the client without
   * image_metadata (the image is created, and its metadata job reads the file back).
   */
  async function photos(album: string, count: number | (() => boolean), pauseMs = 0): Promise<Record<string, any>[]> {
    const token = await tenant.userToken({ [album]: access('image_upload', 'image_list') });
    const opened = await api(`/albums/${album}`, token);
    expect(opened.status).toBe(200);
    const { url, params } = opened.json.upload_form;
    const results = [];
    for (let i = 0; typeof count === 'number' ? i < count : i < 2 || count(); i++) {
      if (pauseMs && i > 0) await sleep(pauseMs);
      if (i % 2 === 0) {
        results.push(await upload(params, url));
        continue;
      }
      const own = { tags: album, timestamp: Math.floor(Date.now() / 1000), type: 'authenticated' };
      const result = await upload({ ...own, signature: apiSignature(own, cloud.apiSecret), api_key: cloud.apiKey }, `${cloud.url}/v1_1/${cloud.cloudName}/auto/upload`);
      const posted = await api(`/albums/${album}/images`, token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ cloudinary: result }) });
      expect(posted.status).toBe(200);
      results.push(result);
    }
    return results;
  }

  /** Each upload is exactly one image, processed (its EXIF date read), with one processed_image event. */
  async function expectProcessedOnce(uploads: Record<string, any>[]): Promise<void> {
    const keys = uploads.map((u) => `${u.public_id}@${u.version}`);
    const rows = () => albumkit.database.db.selectFrom('images').selectAll().where('organization_id', '=', tenant.organization.id).where('upload_key', 'in', keys).execute();
    await eventually(
      async () => {
        const images = await rows();
        return images.length >= keys.length && images.every((i) => i.processed);
      },
      90_000,
      `${keys.length} images processed (albumkit logged: ${logs.slice(-5).join(' | ')})`,
    );
    const images = await rows();
    expect(images).toHaveLength(keys.length);
    expect(new Set(images.map((i) => i.upload_key))).toEqual(new Set(keys));
    for (const image of images) {
      expect(image.processed).toBe(true);
      expect(image.processing_error).toBeNull();
      expect(image.taken_at?.toISOString()).toBe(TAKEN_AT);
    }
    const events = await albumkit.database.db
      .selectFrom('events')
      .select(sql<string>`payload->>'image_id'`.as('image_id'))
      .where('organization_id', '=', tenant.organization.id)
      .where('type', '=', 'processed_image')
      .where(
        sql<string>`payload->>'image_id'`,
        'in',
        images.map((i) => i.id),
      )
      .execute();
    expect(events.map((e) => e.image_id).sort()).toEqual(images.map((i) => i.id).sort());
    // Every notification Cloudinary sent for these uploads was accepted (201) on its first try.
    const notified = uploads.filter((u) => u.image_metadata !== undefined).map((u) => u.public_id as string);
    for (const publicId of notified) {
      const attempts = cloud.notifications.filter((n) => JSON.parse(n.body).public_id === publicId);
      expect(attempts.map((a) => [a.attempt, a.status]), publicId).toEqual([[1, 201]]);
    }
  }

  /** How many of these uploads' notifications were handled more than a second after receipt: enqueued again by the sweep (a figure, not asserted). */
  async function late(uploads: Record<string, any>[]): Promise<number> {
    const keys = uploads.map((u) => `${u.public_id}@${u.version}`);
    const rows = await albumkit.database.db
      .selectFrom('notifications')
      .select(['received_at', 'done_at'])
      .where('organization_id', '=', tenant.organization.id)
      .where('upload_key', 'in', keys)
      .execute();
    return rows.filter((r) => r.done_at && r.done_at.getTime() - new Date(r.received_at).getTime() > 1000).length;
  }

  /**
   * albumkit's connections are on `master` (the producer's and the worker's, named by
   * createRedisConnection, and the BullMQ workers' blocking ones, one per queue), none on `old`.
   */
  async function expectOn(master: RedisProcess, old?: RedisProcess): Promise<void> {
    const queues = JOB_NAMES.map((name) => new Queue(queueName(prefix, name), { connection: master.client }));
    queues.forEach((q) => q.on('error', () => {}));
    try {
      await eventually(
        async () => {
          const names = await clientNames(master.client);
          const oldNames = old?.isRunning() ? await clientNames(old.client) : [];
          const counts = await Promise.all(queues.map((q) => q.getWorkersCount()));
          return (
            names.includes('albumkit-producer') &&
            names.includes('albumkit-worker') &&
            counts.every((c) => c >= 1) &&
            !oldNames.some((n) => n.startsWith('albumkit-') || n.startsWith('bull:'))
          );
        },
        30_000,
        `albumkit's connections on the master at ${master.port}`,
      );
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  }

  it('runs notifications and metadata jobs to processed images, connected through the sentinels only', async () => {
    expect(await roleOf(first.client)).toBe('master');
    await expectOn(first, second);
    const uploads = await photos('SENTINEL', 6);
    await expectProcessedOnce(uploads);
  }, 120_000);

  it('follows a forced failover (SENTINEL FAILOVER): work posted during and after it is processed once', async () => {
    // Photos keep coming while the sentinels fail over from the first master to its replica, and
    // until albumkit is on the new master: some go to the old master after the switch, before it
    // is made a replica (its data then replaced by the new master's).
    let moved = false;
    const during = photos('FAILOVER', () => !moved, 200);
    const sent = cloud.notifications.length;
    await eventually(() => cloud.notifications.length >= sent + 2, 30_000, 'photos under way');
    const started = performance.now();
    expect(await sentinels[0]!.client.call('SENTINEL', 'FAILOVER', MASTER_NAME)).toBe('OK');
    await eventually(
      async () => (await Promise.all(sentinels.map((s) => sentinelMaster(s.client)))).every((v) => v.port === String(second.port)),
      30_000,
      'every sentinel to name the replica as the master',
    );
    const switched = performance.now();
    await eventually(async () => (await roleOf(second.client)) === 'master' && (await roleOf(first.client)) === 'slave', 30_000, 'the roles to swap');
    const demoted = performance.now();
    await expectOn(second, first);
    const followed = performance.now();
    moved = true;
    const before = await during;
    const after = await photos('AFTER-FAILOVER', 6);
    await expectProcessedOnce([...before, ...after]);
    console.log(
      `forced failover: sentinels switched after ${ms(switched - started)}, old master a replica after ${ms(demoted - started)}, ` +
        `albumkit's connections all on the new master after ${ms(followed - started)}; ${before.length + after.length} photos processed once (${await late([...before, ...after])} notifications handled over a second after receipt), ${ms(performance.now() - started)} in all`,
    );
  }, 150_000);

  it('follows the master crashing (SIGKILL), with the first sentinel of the list down too: nothing accepted is lost', async () => {
    // The clients go through the list in order: its first sentinel refuses from now on.
    await sentinels[0]!.kill();
    // Photos keep coming through the crash, the outage and the promotion.
    let moved = false;
    const during = photos('CRASH', () => !moved, 200);
    const sent = cloud.notifications.length;
    await eventually(() => cloud.notifications.length >= sent + 2, 30_000, 'photos under way');
    // The master of the moment dies with jobs waiting and running; its replica (the first master) is promoted.
    const started = performance.now();
    await second.kill();
    await eventually(
      async () => (await Promise.all(running().map((s) => sentinelMaster(s.client)))).every((v) => v.port === String(first.port) && v.flags === 'master'),
      60_000,
      'the sentinels to promote the first master again',
    );
    const switched = performance.now();
    await eventually(async () => (await roleOf(first.client)) === 'master', 30_000, 'the first master to be master');
    await expectOn(first);
    const followed = performance.now();
    moved = true;
    const before = await during;
    const after = await photos('AFTER-CRASH', 6);
    await expectProcessedOnce([...before, ...after]);
    console.log(
      `master crash: sentinels switched after ${ms(switched - started)}, albumkit's connections all on the new master after ${ms(followed - started)}; ` +
        `${before.length + after.length} photos processed once (${await late([...before, ...after])} notifications handled over a second after receipt), ${ms(performance.now() - started)} in all`,
    );
    expect(worker!.isRunning()).toBe(true);
    const counts = await (albumkit.jobs as BullMqJobs).counts();
    expect(counts.notification.failed + counts.metadata.failed).toBe(0);
  }, 150_000);

  it('albumkit-worker takes REDIS_SENTINELS from the environment', async () => {
    await worker!.close(5000);
    worker = undefined;
    cli = spawn(process.execPath, [CLI], {
      env: {
        PATH: process.env.PATH!,
        DATABASE_URL: database.url,
        REDIS_SENTINELS: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
        REDIS_SENTINEL_NAME: MASTER_NAME,
        ALBUMKIT_SECRET: TEST_CONFIG.secret,
        CLOUDINARY_URL: cloud.cloudinaryUrl,
        ALBUMKIT_PUBLIC_URL: `${base}/api/v1`,
        ALBUMKIT_QUEUE_PREFIX: prefix,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    cli.stdout!.on('data', (c) => (output += c));
    cli.stderr!.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => cli!.on('exit', resolve));
    await eventually(() => output.includes('albumkit worker started') || cli!.exitCode !== null, 30_000, 'albumkit-worker to start');
    expect(output).toContain('albumkit worker started');
    const uploads = await photos('CLI', 4);
    await expectProcessedOnce(uploads);
    cli.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
