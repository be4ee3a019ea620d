import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloudinary, type LocalCloudinary } from '../src/index.js';
import { cloudinary, fixture, fixtureBytes, nowSeconds, postSigned, sdkOptions, urlOptions } from './helpers.js';

let server: LocalCloudinary;
const file = fixtureBytes('noexif.jpg');

beforeAll(async () => {
  server = await startLocalCloudinary({ timestampToleranceSeconds: 600 });
});
afterAll(async () => {
  await server.close();
});

function uploadParams(): Record<string, string> {
  return {
    colors: '1',
    faces: '1',
    image_metadata: '1',
    notification_url: 'http://127.0.0.1:9/unused',
    phash: '1',
    public_id: 'signed-photo',
    tags: 'a,b',
    timestamp: String(nowSeconds()),
    type: 'authenticated',
  };
}

describe('signed upload requests', () => {
  it('accepts the untouched request', async () => {
    const params = { ...uploadParams(), notification_url: '' };
    const { status, body } = await postSigned(server, 'upload', params, { file });
    expect(status).toBe(200);
    expect(body.public_id).toBe('signed-photo');
  });

  it.each(['public_id', 'type', 'tags', 'notification_url', 'colors', 'timestamp'])('refuses a tampered %s with 401', async (key) => {
    const signed = uploadParams();
    const sent = { ...signed, [key]: key === 'timestamp' ? String(Number(signed.timestamp) - 1) : `${signed[key]}x` };
    const { status, body } = await postSigned(server, 'upload', sent, { file, signWith: signed });
    expect(status).toBe(401);
    expect(body.error.message).toMatch(/^Invalid Signature [0-9a-f]{40}\. String to sign - '.*'\.$/);
  });

  it('refuses an added parameter, a removed one and an altered signature', async () => {
    const signed = uploadParams();
    expect((await postSigned(server, 'upload', { ...signed, folder: 'elsewhere' }, { file, signWith: signed })).status).toBe(401);
    const { tags: _tags, ...withoutTags } = signed;
    expect((await postSigned(server, 'upload', withoutTags, { file, signWith: signed })).status).toBe(401);
    const good = cloudinary.utils.api_sign_request(signed, server.apiSecret);
    const flipped = good.slice(0, -1) + (good.endsWith('0') ? '1' : '0');
    expect((await postSigned(server, 'upload', signed, { file, signature: flipped })).status).toBe(401);
    expect((await postSigned(server, 'upload', signed, { file, signature: '' })).status).toBe(401);
  });

  it('refuses a request signed with another secret, an unknown api_key or another cloud', async () => {
    const params = uploadParams();
    const otherSecret = cloudinary.utils.api_sign_request(params, 'not-the-secret');
    expect((await postSigned(server, 'upload', params, { file, signature: otherSecret })).status).toBe(401);
    const wrongKey = await postSigned(server, 'upload', params, { file, apiKey: '999' });
    expect(wrongKey).toEqual({ status: 401, body: { error: { message: 'Unknown API key 999' } } });
    expect((await postSigned(server, 'upload', params, { file, cloud: 'other' })).status).toBe(401);
  });

  it('refuses a stale, far-future or missing timestamp with 400, even when correctly signed', async () => {
    const stale = await postSigned(server, 'upload', { ...uploadParams(), timestamp: String(nowSeconds() - 3600) }, { file });
    expect(stale.status).toBe(400);
    expect(stale.body.error.message).toMatch(/^Stale request - reported time is .* which is out of the allowed range/);
    const future = await postSigned(server, 'upload', { ...uploadParams(), timestamp: String(nowSeconds() + 40 * 24 * 3600) }, { file });
    expect(future.status).toBe(400);
    // albumkit's upload forms sign their expiry, a week ahead: accepted.
    const weekAhead = await postSigned(server, 'upload', { ...uploadParams(), timestamp: String(nowSeconds() + 7 * 24 * 3600) }, { file });
    expect(weekAhead.status).toBe(200);
    const { timestamp: _t, ...noTimestamp } = uploadParams();
    const missing = await postSigned(server, 'upload', noTimestamp, { file });
    expect(missing).toEqual({ status: 400, body: { error: { message: 'Missing required parameter - timestamp' } } });
  });
});

describe('signed delivery URLs', () => {
  let publicId: string;
  let version: number;

  beforeAll(async () => {
    const result = await cloudinary.uploader.upload(fixture('noexif.jpg'), { ...sdkOptions(server), type: 'authenticated' });
    publicId = result.public_id;
    version = result.version;
  });

  const signedUrl = (transformation: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
    cloudinary.url(publicId, {
      ...urlOptions(server),
      type: 'authenticated',
      sign_url: true,
      transformation,
      format: 'jpg',
      version,
      ...extra,
    });

  it('serves a correctly signed URL', async () => {
    expect((await fetch(signedUrl([{ crop: 'fill', width: 100, height: 100 }]))).status).toBe(200);
  });

  it('refuses an altered signature, transformation, public id or format with 403', async () => {
    const url = signedUrl([{ crop: 'fill', width: 100, height: 100 }]);
    const signature = /s--([A-Za-z0-9_-]{8})--/.exec(url)![1]!;
    const otherSignature = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
    const variants = [
      url.replace(signature, otherSignature),
      url.replace('w_100', 'w_101'),
      url.replace('c_fill', 'c_fit'),
      url.replace(`/${publicId}.jpg`, `/${publicId}x.jpg`),
      url.replace('.jpg', '.png'),
      url.replace(`s--${signature}--/`, ''),
      url.replace('c_fill,h_100,w_100/', ''),
      signedUrl([{ crop: 'fill', width: 100, height: 100 }], { api_secret: 'not-the-secret' }),
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(url);
      const response = await fetch(variant);
      expect({ variant, status: response.status }).toEqual({ variant, status: 403 });
    }
  });

  it('ignores the version segment, which is not signed', async () => {
    const url = signedUrl([{ crop: 'fill', width: 100, height: 100 }]);
    expect((await fetch(url.replace(`/v${version}/`, '/v1/'))).status).toBe(200);
    expect((await fetch(url.replace(`/v${version}/`, '/'))).status).toBe(200);
  });

  it('answers a signed but invalid transformation with 400, not 5xx', async () => {
    for (const transformation of [{ width: 99999, crop: 'scale' }, { crop: 'imagga_scale', width: 10 }, { effect: 'sepia' }]) {
      const response = await fetch(signedUrl([transformation]));
      expect(response.status).toBe(400);
      expect(response.headers.get('x-cld-error')).toBeTruthy();
    }
  });
});
