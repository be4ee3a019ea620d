import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloudinary, type LocalCloudinary } from '../src/index.js';
import { cloudinary, fixture, fixtureBytes, sdkOptions, urlOptions } from './helpers.js';

let server: LocalCloudinary;
let dir: string;
let photo: { public_id: string; version: number; url: string };
const photoBytes = fixtureBytes('IMG_20180725_163423-tiny.jpg');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'albumkit-delivery-test-'));
  server = await startLocalCloudinary({ dir });
  photo = await cloudinary.uploader.upload(fixture('IMG_20180725_163423-tiny.jpg'), { ...sdkOptions(server), type: 'authenticated' });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function signedUrl(publicId: string, options: Record<string, unknown>): string {
  return cloudinary.url(publicId, { ...urlOptions(server), type: 'authenticated', sign_url: true, ...options });
}

async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

describe('delivery', () => {
  it("serves a rendition from the cloudinary package's signed URL (c_fill 200x200)", async () => {
    const url = signedUrl(photo.public_id, {
      transformation: [{ crop: 'fill', width: 200, height: 200 }],
      format: 'jpg',
      version: photo.version,
    });
    expect(url).toMatch(new RegExp(`^${server.url}/demo/image/authenticated/s--[A-Za-z0-9_-]{8}--/c_fill,h_200,w_200/v${photo.version}/${photo.public_id}\\.jpg$`));
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await response.arrayBuffer());
    expect(Number(response.headers.get('content-length'))).toBe(body.length);
    const meta = await sharp(body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 200, 200]);
  });

  it('applies fit, limit, rotation, dpr and output formats', async () => {
    const cases: [Record<string, unknown>[], string, [string, number, number]][] = [
      [[{ crop: 'fit', width: 300, height: 300 }], 'png', ['png', 300, 225]],
      [[{ crop: 'limit', width: 5000, height: 5000 }], 'webp', ['webp', 1012, 759]],
      [[{ crop: 'fill', width: 100, height: 50 }, { angle: 90 }], 'jpg', ['jpeg', 50, 100]],
      [[{ crop: 'scale', width: 100, dpr: 2 }], 'avif', ['heif', 200, 150]],
      [[{ width: 64, fetch_format: 'auto', quality: 'auto' }], 'jpg', ['jpeg', 64, 48]],
    ];
    for (const [transformation, format, expected] of cases) {
      const response = await fetch(signedUrl(photo.public_id, { transformation, format, version: photo.version }));
      expect(response.status).toBe(200);
      const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(expected);
    }
  });

  it('applies the EXIF orientation to renditions', async () => {
    const rotated = await cloudinary.uploader.upload(fixture('orientation-f6t.jpg'), { ...sdkOptions(server), type: 'authenticated' });
    const response = await fetch(signedUrl(rotated.public_id, { transformation: [{ width: 24 }], format: 'png' }));
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([24, 40]);
  });

  it('serves the original byte for byte, with and without the version segment', async () => {
    for (const url of [photo.url, signedUrl(photo.public_id, { format: 'jpg' })]) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
      expect(Buffer.from(await response.arrayBuffer()).equals(photoBytes)).toBe(true);
    }
  });

  it('caches a rendition on disk and serves it again without re-rendering', async () => {
    const url = signedUrl(photo.public_id, { transformation: [{ crop: 'fill', width: 120, height: 90 }], format: 'webp' });
    const before = new Set(await listFiles(dir));
    const first = Buffer.from(await (await fetch(url)).arrayBuffer());
    const created = (await listFiles(dir)).filter((file) => !before.has(file));
    expect(created).toHaveLength(1);
    expect(created[0]).toMatch(/renditions\/[0-9a-f]{40}\.webp$/);
    const { mtimeMs } = await stat(created[0]!);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await fetch(url);
    expect(Buffer.from(await second.arrayBuffer()).equals(first)).toBe(true);
    expect((await stat(created[0]!)).mtimeMs).toBe(mtimeMs);
    expect((await fetch(url, { headers: { 'If-None-Match': second.headers.get('etag')! } })).status).toBe(304);
  });

  it('answers Range requests with exactly the requested bytes', async () => {
    const size = photoBytes.length;
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=100-199', 100, 199],
      ['bytes=311000-', 311000, size - 1],
      ['bytes=-500', size - 500, size - 1],
      [`bytes=300000-${size + 1000}`, 300000, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const response = await fetch(photo.url, { headers: { Range: range } });
      expect(response.status).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      expect(Number(response.headers.get('content-length'))).toBe(end - start + 1);
      expect(Buffer.from(await response.arrayBuffer()).equals(photoBytes.subarray(start, end + 1))).toBe(true);
    }
    const unsatisfiable = await fetch(photo.url, { headers: { Range: `bytes=${size}-` } });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${size}`);
    // Several ranges are not supported: the whole file is served.
    const multiple = await fetch(photo.url, { headers: { Range: 'bytes=0-1,5-6' } });
    expect(multiple.status).toBe(200);
    expect(Buffer.from(await multiple.arrayBuffer()).length).toBe(size);
  });

  it('answers Range requests on a rendition too', async () => {
    const url = signedUrl(photo.public_id, { transformation: [{ width: 300 }], format: 'png' });
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const response = await fetch(url, { headers: { Range: 'bytes=10-49' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 10-49/${whole.length}`);
    expect(Buffer.from(await response.arrayBuffer()).equals(whole.subarray(10, 50))).toBe(true);
  });

  it('supports HEAD', async () => {
    const response = await fetch(photo.url, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(photoBytes.length));
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('sets Content-Disposition for fl_attachment', async () => {
    const response = await fetch(signedUrl(photo.public_id, { transformation: [{ width: 50, flags: 'attachment' }], format: 'jpg' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${photo.public_id}.jpg"`);
  });

  it('serves public upload-type assets without a signature', async () => {
    const result = await cloudinary.uploader.upload(fixture('noexif.jpg'), { ...sdkOptions(server), public_id: 'folder_a/public one' });
    expect(result.url).toBe(`${server.url}/demo/image/upload/v${result.version}/folder_a/public%20one.jpg`);
    const plain = cloudinary.url(result.public_id, { ...urlOptions(server), transformation: [{ width: 40 }], format: 'png' });
    const response = await fetch(plain);
    expect(response.status).toBe(200);
    expect((await sharp(Buffer.from(await response.arrayBuffer())).metadata()).width).toBe(40);
  });

  it('converts HEIC to JPEG, explicitly and with f_auto (libheif decodes it)', async () => {
    const heic = await cloudinary.uploader.upload(fixture('heic-iphone7.heic'), { ...sdkOptions(server), type: 'authenticated' });
    const toJpeg = await fetch(signedUrl(heic.public_id, { transformation: [{ width: 100 }], format: 'jpg' }));
    expect(toJpeg.status).toBe(200);
    const jpeg = await sharp(Buffer.from(await toJpeg.arrayBuffer())).metadata();
    expect([jpeg.format, jpeg.width, jpeg.height]).toEqual(['jpeg', 100, 75]);
    // f_auto without an extension: a format browsers show, not the stored HEIC.
    const autoFormat = await fetch(signedUrl(heic.public_id, { transformation: [{ fetch_format: 'auto' }] }));
    expect(autoFormat.status).toBe(200);
    expect(autoFormat.headers.get('content-type')).toBe('image/jpeg');
    const auto = await sharp(Buffer.from(await autoFormat.arrayBuffer())).metadata();
    expect([auto.format, auto.width, auto.height]).toEqual(['jpeg', 4032, 3024]);
    // The original stays the original.
    const original = await fetch(signedUrl(heic.public_id, { format: 'heic' }));
    expect(original.headers.get('content-type')).toBe('image/heic');
    expect(Buffer.from(await original.arrayBuffer()).equals(fixtureBytes('heic-iphone7.heic'))).toBe(true);
  });

  it('answers 404 for unknown assets, clouds and paths', async () => {
    const unknown = [
      signedUrl('no-such-photo', { format: 'jpg' }),
      `${server.url}/other/image/upload/v1/${photo.public_id}.jpg`,
      `${server.url}/demo/video/upload/v1/${photo.public_id}.mp4`,
      `${server.url}/demo/image/upload/v1/${photo.public_id}.jpg`, // exists, but as authenticated
      `${server.url}/`,
      `${server.url}/demo/image/authenticated/`,
    ];
    for (const url of unknown) {
      const response = await fetch(url);
      expect({ url, status: response.status }).toEqual({ url, status: 404 });
    }
    const long = await fetch(`${server.url}/demo/image/upload/${'a'.repeat(3000)}.jpg`);
    expect(long.status).toBe(414);
  });

  it('keeps assets between runs when given a folder', async () => {
    await server.close();
    server = await startLocalCloudinary({ dir });
    // Same credentials, same files: the old signed URL (host aside) still works.
    const url = signedUrl(photo.public_id, { format: 'jpg', version: photo.version });
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(photoBytes)).toBe(true);
  });
});
