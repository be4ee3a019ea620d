import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryUrlSigner, RENDITIONS } from '@albumkit/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloudinary, type LocalCloudinary } from '../src/index.js';
import { HeicDecodeError, MAX_HEIC_PIXELS, decodeHeic } from '../src/heic.js';
import { cloudinary, fixtureBytes, sdkOptions } from './helpers.js';

/**
 * HEIC renditions through a real local server: the iPhone fixture (4032x3024, an HEVC grid of
 * 512 px tiles) uploaded as albumkit uploads it, then every rendition albumkit's image JSON
 * hands out, with the transformations core signs (RENDITIONS) and its URL signer.
 */
const HEIC = fixtureBytes('heic-iphone7.heic');

let server: LocalCloudinary;
let dir: string;
/** The fixture, uploaded once for the tests that only read it. */
let landscape: Awaited<ReturnType<typeof upload>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'albumkit-heic-test-'));
  server = await startLocalCloudinary();
  landscape = await upload('landscape.heic', HEIC);
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Replaces bytes found once in the fixture (fails loudly when the fixture changes). */
function patched(source: Buffer, edits: { find: number[] | string; at: number; write: number[] }[]): Buffer {
  const out = Buffer.from(source);
  for (const { find, at, write } of edits) {
    const needle = typeof find === 'string' ? Buffer.from(find, 'latin1') : Buffer.from(find);
    const index = out.indexOf(needle);
    expect(index, `${needle.toString('hex')} in the fixture`).toBeGreaterThanOrEqual(0);
    expect(out.indexOf(needle, index + 1), `${needle.toString('hex')} once in the fixture`).toBe(-1);
    Buffer.from(write).copy(out, index + at);
  }
  return out;
}

/**
 * The fixture as an iPhone writes a photo taken in portrait: `irot` 3 (270° anticlockwise,
 * i.e. 90° clockwise) on the primary image, and EXIF Orientation 6 saying the same.
 */
const PORTRAIT = patched(HEIC, [
  { find: [0, 0, 0, 9, ...Buffer.from('irot')], at: 8, write: [3] },
  // IFD0 entry, big-endian: tag 0x0112 Orientation, SHORT, count 1, value 1.
  { find: [0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1], at: 8, write: [0, 6] },
]);

/** The fixture announcing a 20000x20000 grid (400 million pixels): the primary image's `ispe` and grid data. */
const HUGE = patched(HEIC, [
  { find: [0, 0, 0, 0x14, ...Buffer.from('ispe'), 0, 0, 0, 0, 0, 0, 0x0f, 0xc0, 0, 0, 0x0b, 0xd0], at: 12, write: [0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20] },
  { find: [...Buffer.from('idat'), 0, 0, 5, 7, 0x0f, 0xc0, 0x0b, 0xd0], at: 8, write: [0x4e, 0x20, 0x4e, 0x20] },
]);

async function upload(name: string, data: Buffer) {
  const path = join(dir, name);
  await writeFile(path, data);
  // As albumkit's upload form asks: authenticated, with metadata, colours and phash.
  return cloudinary.uploader.upload(path, { ...sdkOptions(server), type: 'authenticated', image_metadata: true, colors: true, phash: true });
}

function signer(): DeliveryUrlSigner {
  return new DeliveryUrlSigner({ cloudName: server.cloudName, apiSecret: server.apiSecret, deliveryPrefix: server.url });
}

function renditionUrl(result: { public_id: string; version: number }, transformation: string): string {
  return signer().url({ publicId: result.public_id, version: String(result.version), type: 'authenticated' }, transformation);
}

async function fetchImage(url: string) {
  const response = await fetch(url);
  const body = Buffer.from(await response.arrayBuffer());
  return { response, body, error: response.headers.get('x-cld-error') };
}

/** Every rendition of the image JSON: key(s) in the JSON, transformation, displayed size of a 4032x3024 original. */
const CASES: [string, string, [number, number]][] = [
  ['thumbnails.original', RENDITIONS.original, [4032, 3024]],
  ['original_url', RENDITIONS.download, [4032, 3024]],
  ['thumbnails.full, full_no_sharinpix', RENDITIONS.full, [1920, 1440]],
  ['thumbnails.large', RENDITIONS.large, [200, 200]],
  ['thumbnails.mini', RENDITIONS.mini, [100, 100]],
  ['external_urls.fill100', RENDITIONS.fit300, [300, 225]],
  ['external_urls.fit2000', RENDITIONS.fit2000, [2000, 1500]],
];

describe('HEIC renditions', () => {
  it('reports an HEIC upload like a JPEG one: displayed size, colours, phash', async () => {
    const result = landscape;
    expect(result).toMatchObject({ format: 'heic', width: 4032, height: 3024, bytes: HEIC.length });
    expect(result.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(result.colors?.length).toBeGreaterThan(0);
    expect(result.predominant.google.length).toBeGreaterThan(0);
  });

  it.each(CASES)('serves %s (%s) as a decodable JPEG of the expected size', async (_key, transformation, [width, height]) => {
    const url = renditionUrl(landscape, transformation);
    expect(url).toMatch(/\.jpg$/);
    const { response, body, error } = await fetchImage(url);
    expect({ status: response.status, error }).toEqual({ status: 200, error: null });
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    // albumkit's thumbnails carry fl_attachment (a download when saved), its external URLs do not.
    const attachment = transformation.split('/').includes('fl_attachment');
    expect(response.headers.get('content-disposition') ?? '').toMatch(attachment ? /^attachment; filename=".+\.jpg"$/ : /^$/);
    const meta = await sharp(body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', width, height]);
    // Real pixels, not a blank canvas: a sea under a sky has contrast in every channel.
    const stats = await sharp(body).stats();
    for (const channel of stats.channels.slice(0, 3)) expect(channel.stdev).toBeGreaterThan(10);
  });

  it('applies the rotation of a portrait HEIC once (irot and EXIF Orientation both say 90°)', async () => {
    const portrait = await upload('portrait.heic', PORTRAIT);
    expect([portrait.width, portrait.height]).toEqual([3024, 4032]);

    const full = await fetchImage(renditionUrl(portrait, RENDITIONS.full));
    expect(full.response.status).toBe(200);
    const meta = await sharp(full.body).metadata();
    expect([meta.width, meta.height]).toEqual([1440, 1920]);

    // The portrait rendition is the landscape one turned 90° clockwise, not anticlockwise.
    const reference = (await fetchImage(renditionUrl(landscape, RENDITIONS.fit300))).body;
    const rotated = (await fetchImage(renditionUrl(portrait, RENDITIONS.fit300))).body;
    expect((await sharp(rotated).metadata()).width).toBe(300);
    const pixels = (input: Buffer, angle = 0) => sharp(input).rotate(angle).resize(60, 80, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    const difference = (a: Buffer, b: Buffer) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]!), 0) / a.length;
    const served = await pixels(rotated);
    const clockwise = difference(served, await pixels(reference, 90));
    const anticlockwise = difference(served, await pixels(reference, 270));
    expect(clockwise).toBeLessThan(8);
    expect(anticlockwise).toBeGreaterThan(3 * clockwise);
  });

  it('refuses to decode an HEIC above the pixel limit, and still serves its original', async () => {
    await expect(decodeHeic(HUGE)).rejects.toMatchObject({
      reason: 'too-large',
      size: { width: 20000, height: 20000 },
    } satisfies Partial<HeicDecodeError>);

    const result = await upload('huge.heic', HUGE);
    expect(result).toMatchObject({ format: 'heic', width: 20000, height: 20000, colors: [] });
    expect(result.phash).toBeUndefined();
    for (const transformation of [RENDITIONS.mini, RENDITIONS.original]) {
      const { response, error } = await fetchImage(renditionUrl(result, transformation));
      expect(response.status).toBe(400);
      expect(error).toContain(`20000x20000 is more than ${MAX_HEIC_PIXELS} pixels`);
    }
    const original = await fetchImage(result.url);
    expect(original.response.status).toBe(200);
    expect(original.body.equals(HUGE)).toBe(true);
  });

  it('refuses a file that only starts like an HEIC', async () => {
    const broken = Buffer.concat([HEIC.subarray(0, 40), Buffer.alloc(5000, 7)]);
    await expect(decodeHeic(broken)).rejects.toMatchObject({ reason: 'invalid' });
    await expect(upload('broken.heic', broken)).rejects.toMatchObject({ message: 'Invalid image file', http_code: 400 });
  });
});
