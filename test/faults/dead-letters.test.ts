import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiSignature, createAlbumkit, signNotification, type Albumkit } from '@albumkit/core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { authorization, TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { freePort, notificationPath, privateRedis, silent, until, type PrivateRedis } from './support.js';

const run = promisify(execFile);
const CLI = new URL('../../packages/worker/dist/cli.js', import.meta.url).pathname;
const PHOTO = readFileSync(new URL('../fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));
const PREFIX = 'albumkit-dead';
// A small retry budget: three attempts, 50 ms apart then 100 ms (with jitter), well under the outages below.
const BUDGET = { attempts: 3, backoffMs: 50 };

/**
 * Outages longer than the retry budget. Cloudinary (originals to read EXIF from) and the webhook
 * receiver are down, so metadata and webhook jobs run out of attempts; then Redis itself is killed
 * (no persistence: BullMQ's failed set goes with it) for longer than the budget while clients go on
 * uploading. Every job that failed for good is kept in PostgreSQL as a dead letter with its reason;
 * once everything is back, `albumkit-worker replay` (the CLI, a process of its own) runs each once.
 */
describe('dead letters: outages longer than the retry budget, then albumkit-worker replay', () => {
  let dir: string;
  let redis: PrivateRedis;
  let cloud: LocalCloudinary;
  let cloudPort: number;
  let receiverPort: number;
  let receiver: Server | undefined;
  const received: Array<{ event: string; delivery: string }> = [];
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let tenant: Tenant;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  const cloudOptions = () => ({ port: cloudPort, dir: join(dir, 'cloudinary') });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumkit-dead-'));
    redis = privateRedis(await freePort(), dir);
    await redis.start();
    cloudPort = await freePort();
    cloud = await startLocalCloudinary(cloudOptions());
    receiverPort = await freePort();
    database = await createTestDatabase();
    albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      database,
      logger: silent,
      jobs: () => new BullMqJobs({ redisUrl: redis.url, prefix: PREFIX, retry: { metadata: BUDGET, webhook: BUDGET } }),
    });
    worker = startWorker({ albumkit, redisUrl: redis.url, prefix: PREFIX, logger: silent, lockDurationMs: 3000, stalledIntervalMs: 1000, sweepAfterMs: 500 });
    tenant = await createTenant({ albumkit } as never);
    await albumkit.setup.addWebhook(tenant.organization.id, `http://127.0.0.1:${receiverPort}/hook`, ['new_image', 'processed_image']);
  });

  afterAll(async () => {
    await worker?.close(3000);
    await albumkit?.close();
    await database?.close();
    await redis?.kill();
    await cloud?.close();
    receiver?.closeAllConnections();
    receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A photo stored on the (local) Cloudinary: its upload result, without the EXIF Cloudinary could add, so the metadata job reads the file. */
  async function store(n: number): Promise<Record<string, unknown>> {
    const params = { timestamp: Math.floor(Date.now() / 1000), public_id: `dead-${n}`, type: 'authenticated' };
    const form = new FormData();
    for (const [k, v] of Object.entries({ ...params, signature: apiSignature(params, cloud.apiSecret), api_key: cloud.apiKey })) form.append(k, String(v));
    form.append('file', new Blob([PHOTO]), `dead-${n}.jpg`);
    const response = await fetch(`${cloud.url}/v1_1/${cloud.cloudName}/image/upload`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const { image_metadata: _none, ...result } = (await response.json()) as Record<string, unknown>;
    return result;
  }

  const deadLetters = () => albumkit.database.db.selectFrom('dead_letters').selectAll().execute();
  const images = () => albumkit.database.db.selectFrom('images').selectAll().where('organization_id', '=', tenant.organization.id).execute();

  it('keeps every job that ran out of attempts, across a Redis wipe, and replays each once', async () => {
    const uploads = await Promise.all(Array.from({ length: 10 }, (_, n) => store(n)));
    const path = await notificationPath(albumkit, tenant, 'DEAD');
    const token = await tenant.userToken({ DEAD: access('image_upload') });

    // 1. Cloudinary and the receiver down; five uploads notified.
    await cloud.close();
    for (const upload of uploads.slice(0, 5)) {
      const body = JSON.stringify({ notification_type: 'upload', ...upload });
      const response = await albumkit.handle({ method: 'POST', path, headers: { 'Content-Type': 'application/json', ...signNotification(body, cloud.apiSecret) }, rawBody: body });
      expect(response.status).toBe(201);
    }
    // Each image's metadata job and its new_image delivery run out of attempts: ten dead letters.
    await until(async () => (await deadLetters()).length === 10, 30_000, 'ten dead letters');
    const first = await deadLetters();
    expect(first.map((l) => l.queue).sort()).toEqual([...Array(5).fill('metadata'), ...Array(5).fill('webhook')]);
    for (const letter of first) {
      expect(letter).toMatchObject({ attempts: BUDGET.attempts, retryable: true, replayed_at: null });
      expect(letter.reason).toMatch(letter.queue === 'webhook' ? /ECONNREFUSED/ : /network error|ECONNREFUSED/);
    }

    // 2. Redis killed, and away for longer than the retry budget, while the client posts five more uploads.
    await redis.kill();
    for (const upload of uploads.slice(5)) {
      const response = await albumkit.handle({
        method: 'POST',
        path: '/api/v1/albums/DEAD/images',
        headers: { ...authorization(token), 'Content-Type': 'application/json' },
        rawBody: JSON.stringify({ cloudinary: upload }),
      });
      // Made in PostgreSQL; its metadata job and its webhook deliveries wait in the outbox.
      expect(response.status).toBe(200);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const pending = await albumkit.database.db.selectFrom('events').select('id').where('webhooks_pending', '=', true).execute();
    expect(pending).toHaveLength(5);

    // 3. Redis back, empty: the first failures are gone from BullMQ, not from PostgreSQL. The sweep
    // enqueues the new images' processing and their deliveries, which run out of attempts in turn.
    await redis.start();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      const failed = new Queue(`${PREFIX}-metadata`, { connection });
      expect(await failed.getFailedCount()).toBe(0);
      await until(async () => (await deadLetters()).length === 20, 30_000, 'twenty dead letters');
      expect(await failed.getFailedCount()).toBe(5);
      await failed.close();
    } finally {
      connection.disconnect();
    }
    expect(await albumkit.database.db.selectFrom('events').select('id').where('webhooks_pending', '=', true).execute()).toEqual([]);
    expect((await images()).filter((i) => i.processed)).toEqual([]);

    // 4. Everything back; the operator replays, from a process of its own.
    cloud = await startLocalCloudinary(cloudOptions());
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push({ event: String(req.headers['x-albumkit-event']), delivery: String(req.headers['x-albumkit-delivery']) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(receiverPort, '127.0.0.1', resolve));
    const env = {
      ...process.env,
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      ALBUMKIT_SECRET: TEST_CONFIG.secret,
      CLOUDINARY_URL: cloud.cloudinaryUrl,
      ALBUMKIT_PUBLIC_URL: TEST_CONFIG.publicUrl,
      ALBUMKIT_QUEUE_PREFIX: PREFIX,
      LOG_LEVEL: 'silent',
    };
    const dry = await run(process.execPath, [CLI, 'replay', '--dry-run'], { env });
    expect(dry.stdout).toContain('would replay 20 jobs (metadata 10, webhook 10)');
    const replay = await run(process.execPath, [CLI, 'replay'], { env });
    expect(replay.stdout).toContain('replayed 20 jobs (metadata 10, webhook 10)');

    await until(async () => (await images()).every((i) => i.processed), 30_000, 'every image processed');
    // Ten new_image deliveries replayed, ten processed_image ones new: each event once.
    await until(() => received.length >= 20, 30_000, 'twenty deliveries');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // nothing more arrives
    const all = await images();
    expect(all).toHaveLength(10);
    expect(all.every((i) => i.processing_error === null && i.width === 1012)).toBe(true);
    const eventIds = received.map((r) => r.delivery.split('/')[0]);
    expect(new Set(eventIds).size).toBe(20);
    expect(received.filter((r) => r.event === 'new_image')).toHaveLength(10);
    expect(received.filter((r) => r.event === 'processed_image')).toHaveLength(10);
    expect((await deadLetters()).every((l) => l.replayed_at !== null && l.replays === 1)).toBe(true);

    // Replaying again does nothing: nothing is left.
    const again = await run(process.execPath, [CLI, 'replay'], { env });
    expect(again.stdout).toContain('replayed 0 jobs');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received).toHaveLength(20);
  });
});
