import cloudinary from 'cloudinary';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { expect } from 'vitest';
import type { Albumkit } from '../../src/albumkit.js';
import { TEST_CONFIG } from './app.js';
import { seedTokenClaims, type Seed } from './seeds.js';

/**
 * Replaying a recorded seed page: what the recorded request assumed to exist, its token and
 * upload signature re-signed with test keys, and the check of the renewed `X-token`.
 */
const key = new TextEncoder().encode(TEST_CONFIG.secret);

/** The seed's token claims, re-signed with the test key and a fresh lifetime. */
export async function resignSeedToken(seed: Seed): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...seedTokenClaims(seed), iat: now, exp: now + 4 * 3600 }).setProtectedHeader({ typ: 'JWT', alg: 'HS256' }).sign(key);
}

/** The seed's request body; an upload result's Cloudinary signature recomputed for the test account. */
export function seedRequestBody(seed: Seed): string | undefined {
  const body = seed.requestBody;
  return body === undefined || !body.includes('cloudinary[signature]=') ? body : resignUploadBody(body);
}

/** A form-encoded upload result with `cloudinary[signature]` recomputed for the test account. */
export function resignUploadBody(body: string): string {
  const params = new URLSearchParams(body);
  const signature = cloudinary.v2.utils.api_sign_request(
    { public_id: params.get('cloudinary[public_id]')!, version: params.get('cloudinary[version]')! },
    TEST_CONFIG.cloudinary.apiSecret,
  );
  return body.replace(/cloudinary\[signature\]=[0-9a-f]+/, `cloudinary[signature]=${signature}`);
}

/** An image row as a factory would have made the seed's images, from their recorded JSON. */
export function imageRow(json: any, organizationId: string) {
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

/** What existed before the recorded request: the token's user, and the factory-made images with their tags. */
export async function arrangeSeed(albumkit: Albumkit, organizationId: string, seed: Seed): Promise<void> {
  const { db } = albumkit.database;
  const userId = seedTokenClaims(seed).user_id as string;
  await db
    .insertInto('users')
    .values({ id: userId, organization_id: organizationId, sfid: null, email: null, name: null })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const expected = seed.responseBody as any;
  const images = seed.route.includes('/duplicate')
    ? [{ ...expected, id: /images\/([^/]+)\/duplicate/.exec(seed.route)![1] }]
    : seed.route.includes('image_syncs')
      ? expected
      : [];
  for (const image of images) {
    await albumkit.repositories.albums.findOrCreate(organizationId, image.album_id);
    await db.insertInto('images').values(imageRow(image, organizationId)).execute();
    await albumkit.repositories.images.addTags(image.id, image.tag_names ?? []);
  }
}

/** `X-token`: the same claims as the token sent, renewed for four hours from now, signed with the same key. */
export async function expectRenewedToken(xToken: string | undefined, sent: string): Promise<void> {
  const renewed = await jwtVerify(xToken!, key, { algorithms: ['HS256'] });
  const { iat, exp, ...claims } = renewed.payload;
  const { iat: _i, exp: _e, ...sentClaims } = decodeJwt(sent);
  expect(claims).toEqual(sentClaims);
  expect(exp! - iat!).toBe(4 * 3600);
  expect(Math.abs(iat! - Date.now() / 1000)).toBeLessThan(5);
}
