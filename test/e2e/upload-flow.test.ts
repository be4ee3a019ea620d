import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiSignature, createAlbumkit, type Albumkit, type Image } from '@albumkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { albumkitNode } from '../../packages/http-adapter/src/node.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';

/**
 * The whole path on real services: album → signed direct upload to the local Cloudinary-compatible
 * server → its signed notification to albumkit over HTTP → BullMQ → worker → processed image.
 */
const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
const facts = JSON.parse(readFileSync(new URL('facts.json', PHOTOS), 'utf8')) as Record<string, Record<string, any>>;

describe('upload flow end to end (PostgreSQL, Redis, local Cloudinary)', () => {
  let cloud: LocalCloudinary;
  let server: Server;
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let tenant: Tenant;
  let base: string;
  let closeDb: () => Promise<void>;

  beforeAll(async () => {
    cloud = await startLocalCloudinary({ notificationRetryDelaysMs: [50, 200, 500] });
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const database = await createTestDatabase();
    closeDb = database.close;
    const prefix = uniquePrefix();
    albumkit = await createAlbumkit({
      secret: TEST_CONFIG.secret,
      cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      publicUrl: `${base}/api/v1`,
      database,
      logger: { error() {}, warn() {} },
      jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }),
    });
    server.on('request', albumkitNode(albumkit));
    worker = startWorker({ albumkit, redisUrl: REDIS_URL, prefix, logger: { error() {}, warn() {} } });
    tenant = await createTenant({ albumkit } as never);
  });

  afterAll(async () => {
    await worker?.close(5000);
    await cloud?.close();
    await new Promise((resolve) => server?.close(resolve));
    await albumkit?.close();
    await closeDb?.();
  });

  async function api(path: string, token: string, init: RequestInit = {}) {
    const response = await fetch(`${base}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
  }

  /** What a browser does: POST the file and every upload_form param straight to Cloudinary. */
  async function directUpload(file: string, params: Record<string, unknown>, url: string): Promise<Record<string, any>> {
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.append(k, String(v));
    form.append('file', new Blob([readFileSync(new URL(file, PHOTOS))]), file);
    const response = await fetch(url, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, any>;
  }

  async function processedImage(result: Record<string, any>): Promise<Image> {
    const key = `${result.public_id}@${result.version}`;
    for (let i = 0; i < 600; i++) {
      const rows = await albumkit.database.db.selectFrom('images').selectAll().where('upload_key', '=', key).execute();
      if (rows.length > 1) throw new Error('two images for one upload');
      if (rows[0]?.processed) return rows[0];
      await sleep(50);
    }
    throw new Error(`image of ${key} never processed`);
  }

  async function uploadForm(album: string) {
    const token = await tenant.userToken({ [album]: access('image_upload', 'image_list') });
    const response = await api(`/albums/${album}`, token);
    expect(response.status).toBe(200);
    return { token, form: response.json.upload_form };
  }

  const cases = [
    ['IMG_20180725_163423-tiny.jpg', 'northern/eastern GPS, sub-seconds'],
    ['issue-exifr-36.jpg', 'southern latitude'],
    ['issue-exifr-59.jpg', 'western longitude'],
    ['heic-iphone7.heic', 'HEIC with a +02:00 offset'],
    ['png-png_with_exif_and_gps.png', 'PNG eXIf chunk'],
    ['issue-exif-js-124.tiff', 'TIFF with GPS'],
    ['canon-dslr.jpg', 'DSLR JPEG, no GPS'],
    ['orientation-f6t.jpg', 'rotated 90 degrees'],
    ['noexif.jpg', 'no EXIF at all'],
    ['RangeError_Offset_outside_bounds.jpg', 'damaged metadata segments'],
  ] as const;

  it.each(cases)('%s (%s): the notification becomes one processed image with the file’s facts', async (file) => {
    const fact = facts[file]!;
    const { form } = await uploadForm(`E2E-${file}`);
    const result = await directUpload(file, form.params, form.url);
    const image = await processedImage(result);
    const rotated = fact.Orientation >= 5;
    expect([image.width, image.height]).toEqual(rotated ? [fact.ImageHeight, fact.ImageWidth] : [fact.ImageWidth, fact.ImageHeight]);
    if (fact.expected_taken_at_utc) expect(image.taken_at?.toISOString()).toBe(fact.expected_taken_at_utc);
    else expect(image.taken_at).toBeNull();
    if (fact.GPSLatitude !== undefined) {
      const [lat, lng] = image.gps as [number, number];
      expect(lat).toBeCloseTo(fact.GPSLatitude, 4);
      expect(lng).toBeCloseTo(fact.GPSLongitude, 4);
      expect(image.gps_exifs).toEqual(image.gps);
    } else {
      expect(image.gps).toBeNull();
    }
    // Files without any EXIF are processed all the same, and that is no error (the record shows null).
    expect(image.processing_error).toBeNull();
  });

  it('the client posting the upload result races the notification: one image', async () => {
    const { token, form } = await uploadForm('RACE');
    for (const file of ['issue-exifr-59.jpg', 'noexif.jpg', 'png-png_with_exif_and_gps.png']) {
      const result = await directUpload(file, form.params, form.url);
      const posted = await api('/albums/RACE/images', token, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ cloudinary: result, metadatas: { from: 'client' } }),
      });
      expect(posted.status).toBe(200);
      const image = await processedImage(result);
      expect(image.id).toBe(posted.json.id);
    }
    const album = await api('/albums/RACE', token);
    expect(album.json.images_count).toBe(3);
    const list = await api('/albums/RACE/images', token);
    expect(list.json.every((i: any) => i.processed && !i.thumbnails.large.includes('#'))).toBe(true);
  });

  it('without Cloudinary’s image_metadata, the worker reads the original’s head by Range requests', async () => {
    // An upload signed without image_metadata (and without a notification): the client posts the result.
    const timestamp = Math.floor(Date.now() / 1000);
    const params = { tags: 'RANGE', timestamp, type: 'authenticated' };
    const signed = { ...params, signature: apiSignature(params, cloud.apiSecret), api_key: cloud.apiKey };
    const result = await directUpload('heic-iphone7.heic', signed, `${cloud.url}/v1_1/${cloud.cloudName}/auto/upload`);
    expect(result.image_metadata).toBeUndefined();
    const token = await tenant.userToken({ RANGE: access('image_upload') });
    expect((await api('/albums/RANGE/images', token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ cloudinary: result }) })).status).toBe(200);
    const image = await processedImage(result);
    expect(image.taken_at?.toISOString()).toBe(facts['heic-iphone7.heic']!.expected_taken_at_utc);
    expect((image.gps as number[])[0]).toBeCloseTo(38.0466417, 5);
    expect(Object.keys(image.exifs as object).length).toBeGreaterThan(5);
  });

  it('an original that is gone is a processed image with the reason, not an endlessly retried job', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const params = { tags: 'GONE', timestamp, type: 'authenticated' };
    const result = await directUpload(
      'issue-exifr-36.jpg',
      { ...params, signature: apiSignature(params, cloud.apiSecret), api_key: cloud.apiKey },
      `${cloud.url}/v1_1/${cloud.cloudName}/auto/upload`,
    );
    const destroy = { public_id: result.public_id, type: 'authenticated', timestamp };
    const form = new URLSearchParams({ ...destroy, timestamp: String(timestamp), signature: apiSignature(destroy, cloud.apiSecret), api_key: cloud.apiKey });
    expect(await (await fetch(`${cloud.url}/v1_1/${cloud.cloudName}/image/destroy`, { method: 'POST', body: form })).json()).toEqual({ result: 'ok' });
    const token = await tenant.userToken({ GONE: access('image_upload') });
    const posted = await api('/albums/GONE/images', token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ cloudinary: result }) });
    expect(posted.status).toBe(200);
    const image = await processedImage(result);
    expect(image.processing_error).toMatch(/404/);
    expect(image.taken_at).toBeNull();
  });
});
