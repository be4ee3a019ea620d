import cloudinary from 'cloudinary';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../src/db/schema.js';
import { authorization, createTestApp, DIALECTS, TEST_CONFIG, type TestApp } from './support/app.js';
import { mask, shapeOf } from './support/compare.js';
import { arrangeSeed, expectRenewedToken, resignSeedToken, seedRequestBody } from './support/seed-replay.js';
import { loadSeeds, seedTokenClaims } from './support/seeds.js';

const seeds = loadSeeds();

describe.each(DIALECTS)('the five seed pages replayed on %s', (dialect) => {
  let app: TestApp;
  let organization: Organization;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    organization = await app.albumkit.setup.createOrganization('Seeds');
  });
  afterAll(() => app?.close());

  it.each(seeds.map((s) => [s.title, s] as const))('%s', async (_title, seed) => {
    await arrangeSeed(app.albumkit, organization.id, seed);
    const token = await resignSeedToken(seed);
    const body = seedRequestBody(seed);
    const response = await app.request({
      method: seed.method,
      path: seed.route,
      headers: { ...authorization(token), 'Content-Type': seed.requestHeaders['Content-Type'], Host: 'example.org' },
      rawBody: body,
    });

    expect(response.status).toBe(seed.status);
    expect(Object.keys(response.headers).sort()).toEqual(Object.keys(seed.responseHeaders).sort());
    expect(response.headers['Content-Type']).toBe(seed.responseHeaders['Content-Type']);
    expect(Number(response.headers['Content-Length'])).toBe(Buffer.byteLength(response.body));

    // Same keys in the same order, same types, same values once ids, clocks and secrets are masked.
    expect(shapeOf(response.json)).toEqual(shapeOf(seed.responseBody));
    expect(mask(response.json)).toEqual(mask(seed.responseBody));

    await expectRenewedToken(response.headers['X-token'], token);
  });

  it('signs the upload form exactly as Cloudinary checks it', async () => {
    const token = await resignSeedToken(seeds[0]!);
    const response = await app.request({ method: 'POST', path: '/api/v1/albums', headers: authorization(token) });
    const { signature, api_key: apiKey, ...signed } = response.json.upload_form.params;
    expect(apiKey).toBe(TEST_CONFIG.cloudinary.apiKey);
    expect(signature).toBe(cloudinary.v2.utils.api_sign_request(signed, TEST_CONFIG.cloudinary.apiSecret));
    expect(response.json.upload_form.expires_at).toBe(signed.timestamp);
    expect(signed.timestamp - Math.floor(Date.now() / 1000)).toBeGreaterThan(7 * 24 * 3600 - 60);
    const notification = decodeJwt(new URL(signed.notification_url).searchParams.get('token')!);
    expect(notification).toMatchObject({ album_id: response.json.id, organization_id: organization.id, user_id: seedTokenClaims(seeds[0]!).user_id });
  });
});
