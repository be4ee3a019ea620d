import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, TEST_CONFIG, type TestApp } from '../../core/test/support/app.js';
import { access, createTenant, uploadResult, type Tenant } from '../../core/test/support/fixtures.js';
import { signNotification } from '@albumkit/core';
import { BullMqJobs } from '../src/bullmq-jobs.js';
import { startWorker } from '../src/worker.js';
import { REDIS_URL, uniquePrefix } from './support/redis.js';

const SLOW_WORKER = fileURLToPath(new URL('./support/slow-worker.mjs', import.meta.url));

describe('a worker killed with SIGKILL mid-job', () => {
  let app: TestApp;
  let tenant: Tenant;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    app = await createTestApp('postgres', { jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }) });
    tenant = await createTenant(app);
  });
  afterAll(() => app?.close());

  it('loses nothing: its jobs run again on another worker and each image is processed once', async () => {
    const child = spawn(process.execPath, [SLOW_WORKER], {
      env: {
        ...process.env,
        DATABASE_URL: app.databaseUrl,
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        PAUSE_MS: '60000',
        ALBUMKIT_TEST_CONFIG: JSON.stringify(TEST_CONFIG),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const started = new Set<string>();
    let ready = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line === 'ready') ready = true;
        if (line.startsWith('started ')) started.add(line.slice(8));
      }
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));

    const token = await tenant.userToken({ K: access('image_upload') });
    const album = await app.request({ method: 'GET', path: '/api/v1/albums/K', headers: authorization(token) });
    const url = new URL(album.json.upload_form.params.notification_url);
    for (let i = 0; i < 10; i++) {
      const body = JSON.stringify(uploadResult({ public_id: `killed-${i}`, image_metadata: { DateTimeOriginal: '2020:01:01 00:00:00' } }));
      const response = await app.request({
        method: 'POST',
        path: url.pathname + url.search,
        headers: { 'Content-Type': 'application/json', ...signNotification(body, TEST_CONFIG.cloudinary.apiSecret) },
        rawBody: body,
      });
      expect(response.status).toBe(201);
    }
    const deadline = Date.now() + 30_000;
    while ((!ready || started.size === 0) && Date.now() < deadline) await sleep(50);
    expect(started.size).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await exited;

    const processedEvents: string[] = [];
    app.albumkit.on('processed_image', (e) => void processedEvents.push(e.image_id));
    const worker = startWorker({ albumkit: app.albumkit, redisUrl: REDIS_URL, prefix, lockDurationMs: 2000, stalledIntervalMs: 1000, logger: { error() {}, warn() {} } });
    try {
      const images = () => app.albumkit.database.db.selectFrom('images').selectAll().where('organization_id', '=', tenant.organization.id).execute();
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        const rows = await images();
        if (rows.length === 10 && rows.every((r) => r.processed)) break;
        await sleep(200);
      }
      const rows = await images();
      expect(rows).toHaveLength(10);
      expect(rows.every((r) => r.processed && r.taken_at?.toISOString() === '2020-01-01T00:00:00.000Z')).toBe(true);
      // Each image processed exactly once, including those the killed worker had started.
      expect(processedEvents.sort()).toEqual(rows.map((r) => r.id).sort());
      expect([...started].every((key) => rows.some((r) => r.cloudinary_public_id === key || r.id === key))).toBe(true);
    } finally {
      await worker.close(5000);
    }
  }, 120_000);
});
