import cloudinary from 'cloudinary';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Organization } from '../src/db/schema.js';
import { authorization, createTestApp, DIALECTS, TEST_CONFIG, type TestApp } from './support/app.js';
import { mask, shapeOf } from './support/compare.js';
import { loadSeeds, seedTokenClaims, type Seed } from './support/seeds.js';

const seeds = loadSeeds();
const key = new TextEncoder().encode(TEST_CONFIG.secret);

/** The seed's token claims, re-signed with the test key and a fresh lifetime. */
async function resign(seed: Seed): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...seedTokenClaims(seed), iat: now, exp: now + 4 * 3600 }).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(key);
}

/** The seed's form body with the Cloudinary upload signature recomputed for the test account. */
function resignUploadBody(body: string): string {
  const params = new URLSearchParams(body);
  const signature = cloudinary.v2.utils.api_sign_request(
    { public_id: params.get('cloudinary[public_id]')!, version: params.get('cloudinary[version]')! },
    TEST_CONFIG.cloudinary.apiSecret,
  );
  return body.replace(/cloudinary\[signature\]=[0-9a-f]+/, `cloudinary[signature]=${signature}`);
}

/** An image row as a factory would have made the seed's images, from their recorded JSON. */
function imageRow(json: any, organizationId: string) {
  const [, version, publicId] = /\/v(\d+)\/([^/]+)\.jpg$/.exec(json.original_url)!;
  const j = (v: unknown) => (v === null ? null : JSON.stringify(v));
  return {
    id: json.id,
    organization_id: organizationId,
    album_id: json.album_id,
    user_id: null,
    upload_key: `${publicId}@${version}`,
    cloudinary_public_id: publicId!,
    cloudinary_version: version!,
    cloudinary_type: 'authenticated',
    infos: JSON.stringify(json.infos),
    exifs: JSON.stringify(json.exifs),
    metadatas: JSON.stringify(json.metadatas),
    gps: j(json.gps),
    gps_ip: j(json.gps_ip),
    gps_exifs: j(json.gps_exifs),
    gps_html: j(json.gps_html),
    taken_at: json.taken_at,
    width: json.width,
    height: json.height,
    original_width: json.original_width,
    original_height: json.original_height,
    filename: json.filename,
    format: json.format,
    title: json.title,
    description: json.description,
    group_id: null,
    color: json.color,
    processing_error: null,
    reported_at: null,
  };
}

describe.each(DIALECTS)('the five seed pages replayed on %s', (dialect) => {
  let app: TestApp;
  let organization: Organization;

  beforeAll(async () => {
    app = await createTestApp(dialect);
    organization = await app.albumkit.setup.createOrganization('Seeds');
  });
  afterAll(() => app?.close());

  /** What existed before the recorded request: the token's user, and the factory-made images. */
  async function arrange(seed: Seed): Promise<void> {
    const { db } = app.albumkit.database;
    const userId = seedTokenClaims(seed).user_id as string;
    await db.insertInto('users').values({ id: userId, organization_id: organization.id, sfid: null, email: null, name: null }).execute();
    const expected = seed.responseBody as any;
    const images = seed.route.includes('/duplicate')
      ? [{ ...expected, id: /images\/([^/]+)\/duplicate/.exec(seed.route)![1] }]
      : seed.route.includes('image_syncs')
        ? expected
        : [];
    for (const image of images) {
      await app.albumkit.repositories.albums.findOrCreate(organization.id, image.album_id);
      await db.insertInto('images').values(imageRow(image, organization.id)).execute();
      await app.albumkit.repositories.images.addTags(image.id, image.tag_names ?? []);
    }
  }

  it.each(seeds.map((s) => [s.title, s] as const))('%s', async (_title, seed) => {
    await arrange(seed);
    const token = await resign(seed);
    const body = seed.requestBody === undefined ? undefined : seed.route.includes('/images') ? resignUploadBody(seed.requestBody) : seed.requestBody;
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

    // X-token: the same claims, renewed for four hours, signed with the same key.
    const renewed = await jwtVerify(response.headers['X-token']!, key, { algorithms: ['HS256'] });
    const { iat, exp, ...claims } = renewed.payload;
    const { iat: _i, exp: _e, ...sent } = decodeJwt(token);
    expect(claims).toEqual(sent);
    expect(exp! - iat!).toBe(4 * 3600);
    expect(Math.abs(iat! - Date.now() / 1000)).toBeLessThan(5);
  });

  it('signs the upload form exactly as Cloudinary checks it', async () => {
    const token = await resign(seeds[0]!);
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
