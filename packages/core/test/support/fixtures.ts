import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { apiSignature } from '../../src/cloudinary/signing.js';
import type { Organization, User } from '../../src/db/schema.js';
import type { TestApp } from './app.js';
import { TEST_CONFIG } from './app.js';

/** A Cloudinary upload result, signed for the test account, as a client would post it. */
export function uploadResult(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const publicId = (overrides.public_id as string) ?? randomBytes(10).toString('hex');
  const version = (overrides.version as number) ?? 1700000000;
  return {
    public_id: publicId,
    version,
    signature: apiSignature({ public_id: publicId, version }, TEST_CONFIG.cloudinary.apiSecret),
    width: 640,
    height: 480,
    format: 'jpg',
    resource_type: 'image',
    created_at: '2024-01-01T10:00:00Z',
    tags: ['album'],
    bytes: 12345,
    type: 'authenticated',
    original_filename: 'holiday',
    ...overrides,
  };
}

export interface Tenant {
  organization: Organization;
  user: User;
  /** A server-issued token of the organization's user. */
  userToken(abilities?: Record<string, unknown>, extra?: Record<string, unknown>): Promise<string>;
  /** A token signed with one of the organization's secrets (an integrator's). */
  integratorToken(claims?: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  secretId: string;
}

export async function createTenant(app: TestApp, name = `org-${randomUUID().slice(0, 8)}`): Promise<Tenant> {
  const { setup } = app.albumkit;
  const organization = await setup.createOrganization(name);
  const user = await setup.createUser(organization.id, { sfid: `005${randomBytes(6).toString('hex')}` });
  const secret = await setup.createSecret(organization.id);
  return {
    organization,
    user,
    secretId: secret.id,
    userToken: (abilities = {}, extra = {}) => signToken({ user_id: user.id, abilities, ...fresh(), ...extra }),
    integratorToken: (claims = {}, header = { alg: 'HS256', cty: 'JWT' }) =>
      new SignJWT({ iss: secret.id, ...claims })
        .setProtectedHeader(header as { alg: string })
        .sign(new TextEncoder().encode(secret.secret)),
  };
}

export function fresh(): { iat: number; exp: number } {
  const now = Math.floor(Date.now() / 1000);
  return { iat: now, exp: now + 3600 };
}

export function signToken(claims: Record<string, unknown>, secret = TEST_CONFIG.secret, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) {
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(new TextEncoder().encode(secret));
}

export function access(...abilities: string[]) {
  return { Access: Object.fromEntries(abilities.map((a) => [a, true])) };
}

/** A client posting an upload result to an album as JSON, through `app.request` or `albumkit.handle`. */
export function postUpload<R>(
  request: (req: { method: string; path: string; headers: Record<string, string>; rawBody: string }) => Promise<R>,
  token: string,
  album: string,
  body: Record<string, unknown> = { cloudinary: uploadResult() },
): Promise<R> {
  return request({
    method: 'POST',
    path: `/api/v1/albums/${album}/images`,
    headers: { Authorization: `Token token="${token}"`, 'Content-Type': 'application/json' },
    rawBody: JSON.stringify(body),
  });
}
