import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { signNotification } from '@albumkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorization, createTestApp, TEST_CONFIG, type TestApp } from '../../core/test/support/app.js';
import { access, createTenant, uploadResult } from '../../core/test/support/fixtures.js';
import { BullMqJobs } from '../src/bullmq-jobs.js';
import { REDIS_URL, uniquePrefix } from './support/redis.js';

// The command as users run it (npm test builds before testing).
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const { cloudName, apiKey, apiSecret } = TEST_CONFIG.cloudinary;

describe('the albumkit-worker command', () => {
  let app: TestApp;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    app = await createTestApp('postgres', { jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }) });
  });
  afterAll(() => app?.close());

  const env = () => ({
    PATH: process.env.PATH!,
    DATABASE_URL: app.databaseUrl!,
    REDIS_URL,
    ALBUMKIT_SECRET: TEST_CONFIG.secret,
    CLOUDINARY_URL: `cloudinary://${apiKey}:${apiSecret}@${cloudName}`,
    ALBUMKIT_PUBLIC_URL: TEST_CONFIG.publicUrl,
    ALBUMKIT_QUEUE_PREFIX: prefix,
  });

  it('runs jobs from the environment and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const tenant = await createTenant(app);
      const token = await tenant.userToken({ CLI: access('image_upload') });
      const album = await app.request({ method: 'GET', path: '/api/v1/albums/CLI', headers: authorization(token) });
      const url = new URL(album.json.upload_form.params.notification_url);
      const body = JSON.stringify(uploadResult({ image_metadata: { DateTimeOriginal: '2021:02:03 04:05:06' } }));
      const response = await app.request({
        method: 'POST',
        path: url.pathname + url.search,
        headers: { 'Content-Type': 'application/json', ...signNotification(body, apiSecret) },
        rawBody: body,
      });
      expect(response.status).toBe(201);
      let image;
      for (let i = 0; i < 400 && !image?.processed; i++) {
        await sleep(50);
        image = await app.albumkit.database.db.selectFrom('images').selectAll().where('album_id', '=', 'CLI').executeTakeFirst();
      }
      expect(image?.processed).toBe(true);
      expect(image?.taken_at?.toISOString()).toBe('2021-02-03T04:05:06.000Z');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('albumkit worker started');
  });

  it('refuses to start without REDIS_URL, naming it', async () => {
    const { REDIS_URL: _r, ...withoutRedis } = env();
    const result = await promisify(execFile)(process.execPath, [CLI], { env: withoutRedis }).catch((e) => e);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('REDIS_URL');
  });
});
