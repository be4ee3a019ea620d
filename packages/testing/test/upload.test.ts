import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloudinary, type LocalCloudinary } from '../src/index.js';
import { cloudinary, fixture, fixtureBytes, nowSeconds, postSigned, sdkOptions } from './helpers.js';

let server: LocalCloudinary;

beforeAll(async () => {
  server = await startLocalCloudinary();
});
afterAll(async () => {
  await server.close();
});

describe('upload API', () => {
  it("accepts the cloudinary package's signed upload and answers Cloudinary's result", async () => {
    const result = await cloudinary.uploader.upload(fixture('IMG_20180725_163423-tiny.jpg'), {
      ...sdkOptions(server),
      type: 'authenticated',
      tags: ['album', 'holiday'],
      image_metadata: true,
      colors: true,
      phash: true,
      faces: true,
    });
    expect(Object.keys(result)).toEqual([
      'asset_id', 'public_id', 'version', 'version_id', 'signature', 'width', 'height', 'format', 'resource_type',
      'created_at', 'tags', 'bytes', 'type', 'etag', 'placeholder', 'url', 'secure_url', 'original_filename',
      'image_metadata', 'colors', 'predominant', 'phash', 'faces',
    ]);
    expect(result.public_id).toMatch(/^[a-z0-9]{20}$/);
    expect(result).toMatchObject({
      width: 1012,
      height: 759,
      format: 'jpg',
      resource_type: 'image',
      tags: ['album', 'holiday'],
      bytes: 311406,
      type: 'authenticated',
      placeholder: false,
      original_filename: 'IMG_20180725_163423-tiny',
      faces: [],
    });
    expect(Number.isInteger(result.version)).toBe(true);
    expect(Math.abs(result.version - nowSeconds())).toBeLessThan(5);
    expect(result.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(result.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(result.signature).toBe(cloudinary.utils.api_sign_request({ public_id: result.public_id, version: result.version }, server.apiSecret));
    expect(result.url).toMatch(new RegExp(`^${server.url}/demo/image/authenticated/s--[A-Za-z0-9_-]{8}--/v${result.version}/${result.public_id}\\.jpg$`));
    expect(result.secure_url).toBe(result.url);
    expect(result.phash).toMatch(/^[0-9a-f]{16}$/);
    const colors = result.colors ?? [];
    expect(colors.length).toBeGreaterThan(0);
    for (const [hex, percent] of colors) {
      expect(hex).toMatch(/^#[0-9A-F]{6}$/);
      expect(percent).toBeGreaterThan(0);
    }
    expect(result.predominant.google[0][0]).toMatch(/^[a-z]+$/);

    // The original is served byte for byte at the returned URL.
    const original = await fetch(result.url);
    expect(original.status).toBe(200);
    expect(original.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await original.arrayBuffer()).equals(fixtureBytes('IMG_20180725_163423-tiny.jpg'))).toBe(true);
  });

  it('reads EXIF into image_metadata as strings', async () => {
    const result = await cloudinary.uploader.upload(fixture('IMG_20180725_163423-tiny.jpg'), {
      ...sdkOptions(server),
      type: 'authenticated',
      image_metadata: true,
    });
    expect(result.image_metadata).toMatchObject({
      Make: 'Google',
      Model: 'Pixel',
      Orientation: 'Horizontal (normal)',
      DateTimeOriginal: '2018:07:25 16:34:23',
      SubSecTimeOriginal: '935476',
      // EXIF's own tags as ExifTool prints them; the hemisphere is in the Ref tags.
      GPSLatitude: `50 deg 17' 58.57"`,
      GPSLatitudeRef: 'North',
      GPSLongitude: `14 deg 49' 13.06"`,
      GPSLongitudeRef: 'East',
    });
    for (const value of Object.values(result.image_metadata)) expect(typeof value).toBe('string');
  });

  it('uses public_id and folder when given, and the displayed size of a rotated photo', async () => {
    const result = await cloudinary.uploader.upload(fixture('orientation-f6t.jpg'), {
      ...sdkOptions(server),
      type: 'authenticated',
      folder: 'albums/2024',
      public_id: 'rotated',
    });
    expect(result.public_id).toBe('albums/2024/rotated');
    // Orientation 6: stored 80x48, displayed 48x80.
    expect([result.width, result.height]).toEqual([48, 80]);
  });

  it('stores an HEIC, decoded with libheif: its size, colours and phash', async () => {
    const result = await cloudinary.uploader.upload(fixture('heic-iphone7.heic'), {
      ...sdkOptions(server),
      type: 'authenticated',
      image_metadata: true,
      colors: true,
      phash: true,
    });
    expect(result).toMatchObject({ format: 'heic', width: 4032, height: 3024, bytes: 1764955 });
    expect(result.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(result.colors?.length).toBeGreaterThan(0);
    expect(result.image_metadata.OffsetTimeOriginal).toBe('+02:00');
    expect(result.url).toMatch(/\.heic$/);
    const original = await fetch(result.url);
    expect(original.headers.get('content-type')).toBe('image/heic');
    expect(Buffer.from(await original.arrayBuffer()).equals(fixtureBytes('heic-iphone7.heic'))).toBe(true);
  });

  it('reads EXIF from a PNG eXIf chunk', async () => {
    const result = await cloudinary.uploader.upload(fixture('png-png_with_exif_and_gps.png'), {
      ...sdkOptions(server),
      image_metadata: true,
    });
    expect(result).toMatchObject({ format: 'png', width: 1, height: 1, type: 'upload' });
    expect(result.image_metadata.DateTimeOriginal).toBe('2003:12:14 12:01:44');
    expect(result.url).toBe(`${server.url}/demo/image/upload/v${result.version}/${result.public_id}.png`);
  });

  it('accepts a url-encoded upload with a data: URI', async () => {
    const params = { timestamp: String(nowSeconds()), public_id: 'from-data-uri', type: 'authenticated' };
    const body = new URLSearchParams({
      ...params,
      file: `data:image/jpeg;base64,${fixtureBytes('noexif.jpg').toString('base64')}`,
      api_key: server.apiKey,
      signature: cloudinary.utils.api_sign_request(params, server.apiSecret),
    });
    const response = await fetch(`${server.url}/v1_1/demo/auto/upload`, { method: 'POST', body });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ public_id: 'from-data-uri', width: 250, height: 188, format: 'jpg', original_filename: 'file' });
  });

  it('refuses a file that is no image with 400 "Invalid image file"', async () => {
    const upload = (data: Buffer) =>
      postSigned(server, 'upload', { timestamp: String(nowSeconds()), type: 'authenticated' }, { file: data });
    for (const data of [Buffer.from('this is not an image, just some text'), Buffer.alloc(0), Buffer.from([0xff, 0xd8, 0xff])]) {
      expect(await upload(data)).toEqual({ status: 400, body: { error: { message: 'Invalid image file' } } });
    }
    await expect(
      cloudinary.uploader.upload(`data:text/plain;base64,${Buffer.from('hello').toString('base64')}`, sdkOptions(server)),
    ).rejects.toMatchObject({ http_code: 400, message: 'Invalid image file' });
  });

  it('refuses a missing file, bad public_id, bad type and bad notification_url with 400', async () => {
    const timestamp = String(nowSeconds());
    const file = fixtureBytes('noexif.jpg');
    expect((await postSigned(server, 'upload', { timestamp })).body.error.message).toBe('Missing required parameter - file');
    const invalid: Record<string, string>[] = [
      { timestamp, public_id: '../escape' },
      { timestamp, public_id: 'a//b' },
      { timestamp, type: 'secret' },
      { timestamp, notification_url: 'file:///etc/passwd' },
    ];
    for (const params of invalid) {
      const { status, body } = await postSigned(server, 'upload', params, { file });
      expect(status).toBe(400);
      expect(body.error.message).toMatch(/^Invalid/);
    }
  });

  it('caps the number and length of parameters', async () => {
    const many: Record<string, string> = { timestamp: String(nowSeconds()) };
    for (let i = 0; i < 150; i++) many[`p${i}`] = 'x';
    expect((await postSigned(server, 'upload', many)).status).toBe(400);
    const long = await postSigned(server, 'upload', { timestamp: String(nowSeconds()), context: 'x'.repeat(20000) });
    expect(long.status).toBe(400);
    expect(long.body.error.message).toMatch(/too long/);
  });

  it('answers an unknown route with 404 and a wrong method with 405, never 5xx', async () => {
    expect((await fetch(`${server.url}/v1_1/demo/image/rename`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${server.url}/v1_1/demo/image/upload`)).status).toBe(405);
    const garbled = await fetch(`${server.url}/v1_1/demo/image/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="timestamp"\r\n\r\n1\r\n--xy',
    });
    expect(garbled.status).toBe(400);
    const json = await fetch(`${server.url}/v1_1/demo/image/upload`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
    expect(json.status).toBe(400);
  });
});
