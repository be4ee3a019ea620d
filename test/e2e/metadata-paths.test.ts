import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiSignature, createAlbumkit, type Albumkit } from '@albumkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { albumkitNode } from '../../packages/http-adapter/src/node.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { extractMetadataFromUrl } from '../../packages/worker/src/metadata/index.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';

/**
 * The same photo must give the same image whichever way its metadata is read:
 * - "notification": the album's upload form (image_metadata: 1, notification_url); Cloudinary's
 *   notification carries image_metadata, and the image is created processed from it;
 * - "posted": the client posts an upload result that carries image_metadata; the metadata job
 *   reads it;
 * - "file": the client posts an upload result without image_metadata; the metadata job reads the
 *   original's head from the delivery host by Range requests.
 * Real services throughout: the local Cloudinary-compatible server, PostgreSQL, Redis/BullMQ,
 * the worker, the HTTP API. The image JSON clients read (GET /images/:id) is compared.
 */
const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
const facts = JSON.parse(readFileSync(new URL('facts.json', PHOTOS), 'utf8')) as Record<string, Record<string, any>>;
const FILES = Object.keys(facts).sort();
const PATHS = ['notification', 'posted', 'file'] as const;
type Path = (typeof PATHS)[number];

describe('metadata paths: image_metadata or the file itself, one answer (PostgreSQL, Redis, local Cloudinary)', () => {
  let cloud: LocalCloudinary;
  let server: Server;
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let tenant: Tenant;
  let base: string;
  let closeDb: () => Promise<void>;
  /** Per fixture: the image JSON of each path, and the upload results. */
  const images = new Map<string, Record<Path, Record<string, any>>>();
  const uploads = new Map<string, Record<Path, Record<string, any>>>();

  async function api(path: string, token: string, init: RequestInit = {}) {
    const response = await fetch(`${base}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
  }

  async function directUpload(file: string, params: Record<string, unknown>, url: string): Promise<Record<string, any>> {
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.append(k, String(v));
    form.append('file', new Blob([readFileSync(new URL(file, PHOTOS))]), file);
    const response = await fetch(url, { method: 'POST', body: form });
    expect(response.status, `${file} upload`).toBe(200);
    return (await response.json()) as Record<string, any>;
  }

  /** A signed upload of our own (no notification), with or without image_metadata. */
  function signedUpload(file: string, album: string, withMetadata: boolean) {
    const params: Record<string, string | number> = { tags: album, timestamp: Math.floor(Date.now() / 1000), type: 'authenticated' };
    if (withMetadata) params.image_metadata = 1;
    return directUpload(file, { ...params, signature: apiSignature(params, cloud.apiSecret), api_key: cloud.apiKey }, `${cloud.url}/v1_1/${cloud.cloudName}/auto/upload`);
  }

  async function processedImageId(result: Record<string, any>): Promise<string> {
    const key = `${result.public_id}@${result.version}`;
    for (let i = 0; i < 600; i++) {
      const rows = await albumkit.database.db.selectFrom('images').select(['id', 'processed']).where('upload_key', '=', key).execute();
      if (rows.length > 1) throw new Error('two images for one upload');
      if (rows[0]?.processed) return rows[0].id;
      await sleep(50);
    }
    throw new Error(`image of ${key} never processed`);
  }

  async function run(file: string, path: Path): Promise<{ upload: Record<string, any>; image: Record<string, any> }> {
    const album = `PATHS-${path}-${file}`;
    const token = await tenant.userToken({ [album]: access('image_upload', 'image_list') });
    let upload: Record<string, any>;
    if (path === 'notification') {
      const opened = await api(`/albums/${encodeURIComponent(album)}`, token);
      expect(opened.status).toBe(200);
      const { params, url } = opened.json.upload_form;
      expect(params.image_metadata).toBe(1);
      upload = await directUpload(file, params, url);
    } else {
      upload = await signedUpload(file, album, path === 'posted');
      const posted = await api(`/albums/${encodeURIComponent(album)}/images`, token, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ cloudinary: upload }),
      });
      expect(posted.status, `${file} ${path} post`).toBe(200);
    }
    expect(upload.image_metadata === undefined, `${file} ${path}: image_metadata in the upload result`).toBe(path === 'file');
    const id = await processedImageId(upload);
    const read = await api(`/images/${id}`, token);
    expect(read.status).toBe(200);
    return { upload, image: read.json };
  }

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

    // Every fixture through every path, concurrently: the worker takes them as they come.
    await Promise.all(
      FILES.flatMap((file) =>
        PATHS.map(async (path) => {
          const { upload, image } = await run(file, path);
          images.set(file, { ...images.get(file)!, [path]: image });
          uploads.set(file, { ...uploads.get(file)!, [path]: upload });
        }),
      ),
    );
  }, 120_000);

  afterAll(async () => {
    await worker?.close(5000);
    await cloud?.close();
    await new Promise((resolve) => server?.close(resolve));
    await albumkit?.close();
    await closeDb?.();
  });

  it('covers every photo of the fixtures', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(11);
    expect([...images.keys()].sort()).toEqual(FILES);
  });

  describe.each(FILES)('%s', (file) => {
    const fact = () => facts[file]!;
    const of = (path: Path) => images.get(file)![path];

    it('exifs: the same keys in the same order, every value a string, the same strings', () => {
      const reference = of('file').exifs as Record<string, unknown>;
      for (const path of PATHS) {
        const exifs = of(path).exifs as Record<string, unknown>;
        expect(Object.keys(exifs), `${path} keys`).toEqual(Object.keys(reference));
        for (const [key, value] of Object.entries(exifs)) expect(typeof value, `${path} ${key}`).toBe('string');
        expect(exifs, path).toEqual(reference);
      }
      // exifs is Cloudinary's image_metadata as received, on the paths that had one.
      expect(of('posted').exifs).toEqual(uploads.get(file)!.posted.image_metadata);
      expect(of('notification').exifs).toEqual(uploads.get(file)!.notification.image_metadata);
      if (fact().DateTimeOriginal) expect(reference.DateTimeOriginal).toBe(fact().DateTimeOriginal);
      if (fact().Orientation === 6) expect(reference.Orientation).toBe('Rotate 90 CW');
    });

    it('width/height and original_width/height: the displayed size, the same on every path', () => {
      const turned = (fact().Orientation ?? 1) >= 5;
      const displayed = turned ? [fact().ImageHeight, fact().ImageWidth] : [fact().ImageWidth, fact().ImageHeight];
      for (const path of PATHS) {
        const image = of(path);
        expect([image.width, image.height], `${path} width/height`).toEqual(displayed);
        expect([image.original_width, image.original_height], `${path} original_width/height`).toEqual(displayed);
        const upload = uploads.get(file)![path];
        expect([upload.width, upload.height], `${path} Cloudinary's width/height`).toEqual(displayed);
      }
    });

    it('reading the file alone gives the displayed size Cloudinary measured', async () => {
      // What the worker falls back to when an upload result has no size: the same as Cloudinary's.
      const upload = uploads.get(file)!.file;
      const { metadata } = await extractMetadataFromUrl(upload.secure_url, { allowedHosts: [new URL(cloud.url).host] });
      expect([metadata.width, metadata.height]).toEqual([upload.width, upload.height]);
      expect(metadata.exifs).toEqual(of('file').exifs);
    });

    it('taken_at, GPS and processing_error: the same on every path', () => {
      for (const path of PATHS) {
        const image = of(path);
        expect(image.taken_at === null ? null : new Date(image.taken_at).toISOString(), `${path} taken_at`).toBe(fact().expected_taken_at_utc ?? null);
        expect(image.taken_at, `${path} taken_at as written`).toBe(of('file').taken_at);
        expect(image.gps_exifs, `${path} gps_exifs`).toEqual(of('file').gps_exifs);
        // A photo without EXIF is processed without an error, as the API's records show.
        expect(image.processed, path).toBe(true);
        expect(image.processing_error, `${path} processing_error`).toBeNull();
      }
      if (fact().GPSLatitude === undefined) expect(of('file').gps_exifs).toBeNull();
      else {
        const [lat, lng] = of('file').gps_exifs as [number, number];
        expect(Math.abs(lat - fact().GPSLatitude)).toBeLessThan(1.4e-6);
        expect(Math.abs(lng - fact().GPSLongitude)).toBeLessThan(1.4e-6);
      }
    });
  });
});
