import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloudinary, type LocalCloudinary } from '../src/index.js';
import { cloudinary, fixture, nowSeconds, postSigned, sdkOptions, urlOptions } from './helpers.js';

let server: LocalCloudinary;

beforeAll(async () => {
  server = await startLocalCloudinary();
});
afterAll(async () => {
  await server.close();
});

describe('destroy', () => {
  it("removes an asset through the cloudinary package's uploader.destroy; delivery then gives 404", async () => {
    const result = await cloudinary.uploader.upload(fixture('noexif.jpg'), { ...sdkOptions(server), type: 'authenticated' });
    const rendition = cloudinary.url(result.public_id, {
      ...urlOptions(server),
      type: 'authenticated',
      sign_url: true,
      transformation: [{ width: 20 }],
      format: 'png',
    });
    expect((await fetch(result.url)).status).toBe(200);
    expect((await fetch(rendition)).status).toBe(200);

    const destroyed = await cloudinary.uploader.destroy(result.public_id, { ...sdkOptions(server), type: 'authenticated', invalidate: true });
    expect(destroyed).toEqual({ result: 'ok' });
    expect((await fetch(result.url)).status).toBe(404);
    expect((await fetch(rendition)).status).toBe(404);

    const again = await cloudinary.uploader.destroy(result.public_id, { ...sdkOptions(server), type: 'authenticated' });
    expect(again).toEqual({ result: 'not found' });
  });

  it('only destroys the asset of the given type', async () => {
    const result = await cloudinary.uploader.upload(fixture('noexif.jpg'), { ...sdkOptions(server), type: 'authenticated' });
    expect(await cloudinary.uploader.destroy(result.public_id, { ...sdkOptions(server), type: 'upload' })).toEqual({ result: 'not found' });
    expect((await fetch(result.url)).status).toBe(200);
  });

  it('refuses an unsigned or tampered destroy', async () => {
    const result = await cloudinary.uploader.upload(fixture('noexif.jpg'), { ...sdkOptions(server), type: 'authenticated' });
    const signed = { public_id: 'something-else', timestamp: String(nowSeconds()), type: 'authenticated' };
    const tampered = await postSigned(server, 'destroy', { ...signed, public_id: result.public_id }, { signWith: signed });
    expect(tampered.status).toBe(401);
    const unsigned = await postSigned(server, 'destroy', { public_id: result.public_id, type: 'authenticated', timestamp: signed.timestamp }, { signature: '' });
    expect(unsigned.status).toBe(401);
    expect((await fetch(result.url)).status).toBe(200);
  });
});
