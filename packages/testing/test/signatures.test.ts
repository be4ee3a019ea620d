import { describe, expect, it } from 'vitest';
import { apiSignature, apiStringToSign, deliverySignature } from '../src/signatures.js';
import { parseRange } from '../src/range.js';
import { cloudinary } from './helpers.js';

const secret = 'local-secret';

describe('signatures agree with the cloudinary package', () => {
  it.each([
    { timestamp: 1700000000, type: 'authenticated', tags: 'a,b', colors: 1, phash: 1 },
    { timestamp: '1700000000', public_id: 'folder/photo', notification_url: 'https://example.test/hook?x=1&y=2' },
    { timestamp: 1, tags: ['one', 'two'], context: 'alt=A & B', empty: '', missing: undefined },
    { timestamp: 1, file: 'ignored', api_key: 'ignored', cloud_name: 'x', resource_type: 'image', signature: 'y', eager: 'c_fill,w_1' },
  ])('api signature of %o', (params) => {
    // The SDK signs whatever it is given; the server leaves these five out, as Cloudinary does.
    const { file: _f, api_key: _k, cloud_name: _c, resource_type: _r, signature: _s, ...signed } = params as Record<string, unknown>;
    expect(apiSignature(params as never, secret)).toBe(cloudinary.utils.api_sign_request(signed, secret));
  });

  it('writes the string to sign sorted, without unsigned or empty values', () => {
    expect(apiStringToSign({ type: 'authenticated', timestamp: '5', file: 'x', tags: ['a', 'b'], folder: '' })).toBe(
      'tags=a,b&timestamp=5&type=authenticated',
    );
  });

  it.each([
    ['photo', {}],
    ['photo', { transformation: [{ crop: 'fill', width: 200, height: 200 }] }],
    ['folder/photo', { transformation: [{ crop: 'fit', width: 2, height: 3 }, { angle: 90 }], version: 12 }],
  ])('delivery signature of %s %o', (publicId, options) => {
    const url = cloudinary.url(publicId, { type: 'authenticated', sign_url: true, format: 'jpg', api_secret: secret, cloud_name: 'demo', urlAnalytics: false, ...options });
    const [, signature, rest] = /\/s--([^/]+)--\/(.*)$/.exec(url)!;
    const signed = rest!.replace(/(^|\/)v\d+\//, '$1');
    expect(deliverySignature(signed, secret)).toBe(signature);
  });
});

describe('parseRange', () => {
  it.each([
    [undefined, { kind: 'full' }],
    ['bytes=0-9', { kind: 'partial', start: 0, end: 9 }],
    ['bytes=5-', { kind: 'partial', start: 5, end: 99 }],
    ['bytes=-10', { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-1000', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=90-1000', { kind: 'partial', start: 90, end: 99 }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=9-5', { kind: 'full' }],
    ['bytes=0-1,3-4', { kind: 'full' }],
    ['items=0-1', { kind: 'full' }],
    ['bytes=-', { kind: 'full' }],
  ])('%s of 100 bytes', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});
