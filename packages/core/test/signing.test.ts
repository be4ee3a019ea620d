import cloudinary from 'cloudinary';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  apiSignature,
  deliverySignature,
  signNotification,
  verifyNotificationSignature,
  verifyUploadResultSignature,
} from '../src/cloudinary/signing.js';
import { DeliveryUrlSigner, ProxyUrlSigner } from '../src/cloudinary/urls.js';
import { RENDITIONS } from '../src/serializers/image.js';

const cloud = { cloudName: 'demo-cloud', apiKey: '123123123123', apiSecret: 'a-cloudinary-secret' };
const sdk = (publicId: string, transformation: string, version: string, apiSecret = cloud.apiSecret) =>
  cloudinary.v2.url(publicId, {
    cloud_name: cloud.cloudName,
    api_key: cloud.apiKey,
    api_secret: apiSecret,
    secure: true,
    type: 'authenticated',
    sign_url: true,
    raw_transformation: transformation,
    version,
    format: 'jpg',
    urlAnalytics: false,
  });

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const publicIds = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
const component = fc.oneof(
  fc.constantFrom(...Object.values(RENDITIONS)),
  fc
    .record({ crop: fc.constantFrom('c_fit', 'c_fill', 'c_crop', 'c_limit'), w: fc.integer({ min: 1, max: 5000 }), h: fc.integer({ min: 1, max: 5000 }) })
    .map(({ crop, w, h }) => `${crop},h_${h},w_${w}`),
  fc.integer({ min: -360, max: 360 }).map((a) => `a_${a}`),
);
const transformations = fc.array(component, { minLength: 0, maxLength: 4 }).map((parts) => parts.join('/'));
const versions = fc.integer({ min: 1, max: 2_000_000_000 }).map(String);
const secrets = fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/);

describe('Cloudinary signing, byte-identical to the cloudinary package', () => {
  it('signs delivery URLs like cloudinary.url() on 1,000 generated inputs', () => {
    fc.assert(
      fc.property(publicIds, transformations, versions, secrets, (publicId, transformation, version, apiSecret) => {
        const signer = new DeliveryUrlSigner({ ...cloud, apiSecret, deliveryPrefix: 'https://res.cloudinary.com' });
        expect(signer.url({ publicId, version, type: 'authenticated' }, transformation)).toBe(sdk(publicId, transformation, version, apiSecret));
      }),
      { numRuns: 1000 },
    );
  });

  it('signs API requests like utils.api_sign_request() on 1,000 generated inputs', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer({ min: 0, max: 10_000_000_000 }),
      fc.array(fc.stringMatching(/^[\w&=.-]{1,8}$/), { maxLength: 4 }),
      fc.constant(''),
    );
    const params = fc.dictionary(fc.stringMatching(/^[a-z_]{1,16}$/), value, { maxKeys: 10 });
    fc.assert(
      fc.property(params, secrets, (p, secret) => {
        expect(apiSignature(p, secret)).toBe(cloudinary.v2.utils.api_sign_request({ ...p }, secret));
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves file, api_key, cloud_name, resource_type and signature out of the signature', () => {
    const base = { timestamp: 1555349928, tags: 'album' };
    const extra = { ...base, file: 'x', api_key: 'k', cloud_name: 'c', resource_type: 'image', signature: 's' };
    expect(apiSignature(extra, 'secret')).toBe(apiSignature(base, 'secret'));
    expect(apiSignature({ ...base, type: 'authenticated' }, 'secret')).not.toBe(apiSignature(base, 'secret'));
  });

  it('checks the signature of an upload result', () => {
    const result = { public_id: 'abc', version: 1484586860 };
    const signature = cloudinary.v2.utils.api_sign_request(result, cloud.apiSecret);
    expect(verifyUploadResultSignature({ ...result, signature }, cloud.apiSecret)).toBe(true);
    expect(verifyUploadResultSignature({ ...result, version: 1484586861, signature }, cloud.apiSecret)).toBe(false);
    expect(verifyUploadResultSignature({ ...result, signature }, 'another-secret')).toBe(false);
  });

  it('does not sign the version', () => {
    // The signature covers "<transformation>/<public_id>.<format>" and not the version.
    const signer = new DeliveryUrlSigner({ ...cloud, deliveryPrefix: 'https://res.cloudinary.com' });
    const a = signer.url({ publicId: 'p', version: '1', type: 'authenticated' }, 'c_fit,w_300');
    const b = signer.url({ publicId: 'p', version: '2', type: 'authenticated' }, 'c_fit,w_300');
    expect(a.replace('/v1/', '/v2/')).toBe(b);
    expect(a).toContain(`s--${deliverySignature('c_fit,w_300/p.jpg', cloud.apiSecret)}--`);
  });
});

describe('notification signatures', () => {
  const body = Buffer.from(JSON.stringify({ public_id: 'abc', version: 1, notification_type: 'upload' }));
  const now = 1_700_000_000;
  const check = (overrides: Partial<Parameters<typeof verifyNotificationSignature>[0]>) => {
    const headers = signNotification(body, cloud.apiSecret, now);
    return verifyNotificationSignature({
      rawBody: body,
      timestamp: headers['X-Cld-Timestamp'],
      signature: headers['X-Cld-Signature'],
      apiSecret: cloud.apiSecret,
      maxAgeSeconds: 7200,
      now,
      ...overrides,
    });
  };

  it('accepts a genuine notification', () => {
    expect(check({})).toEqual({ ok: true });
  });

  it('refuses an altered body, a wrong secret, a missing or malformed signature', () => {
    expect(check({ rawBody: Buffer.from(body.toString().replace('abc', 'abd')) }).ok).toBe(false);
    expect(check({ apiSecret: 'other' }).ok).toBe(false);
    expect(check({ signature: undefined }).ok).toBe(false);
    expect(check({ signature: 'zz' }).ok).toBe(false);
    expect(check({ timestamp: 'x' }).ok).toBe(false);
  });

  it('refuses stale and future timestamps, even when correctly signed', () => {
    const stale = signNotification(body, cloud.apiSecret, now - 7201);
    expect(check({ timestamp: stale['X-Cld-Timestamp'], signature: stale['X-Cld-Signature'] })).toEqual({ ok: false, reason: 'stale notification' });
    const future = signNotification(body, cloud.apiSecret, now + 3600);
    expect(check({ timestamp: future['X-Cld-Timestamp'], signature: future['X-Cld-Signature'] }).ok).toBe(false);
  });
});

describe('proxy URLs', () => {
  const proxy = new ProxyUrlSigner('https://proxy.example.com', 'app.example.com', 'proxy-key-0123456789');
  const url = proxy.url('Super Image', 'png', '/images/0b7e/thumbnails/mini-b7f270247ab.jpg');

  it('name the file after the image and sign the target with a short HMAC', () => {
    expect(url).toMatch(/^https:\/\/proxy\.example\.com\/super-image\.png\?s=[0-9a-f]{7}&url=app\.example\.com\/images\/0b7e\/thumbnails\/mini-b7f270247ab\.jpg$/);
    expect(proxy.verify(url)).toBe(true);
  });

  it('rejects any altered URL', () => {
    expect(proxy.verify(url.replace('mini-', 'full-'))).toBe(false);
    expect(proxy.verify(url.replace(/s=[0-9a-f]{7}/, 's=0000000'))).toBe(false);
    expect(proxy.verify(url.replace('app.example.com', 'evil.example.com'))).toBe(false);
    expect(proxy.verify(url.replace('https://proxy.example.com', 'https://other.example.com'))).toBe(false);
    expect(proxy.verify(`${url}x`)).toBe(false);
    expect(proxy.verify('not a url')).toBe(false);
    expect(new ProxyUrlSigner('https://proxy.example.com', 'app.example.com', 'another-key-0123456789').verify(url)).toBe(false);
  });
});
