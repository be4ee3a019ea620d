/**
 * The contract every adapter must meet, as one suite over a `Mount`: the five seed pages
 * replayed over real HTTP, refusals, bodies (form, JSON, too large, too deep, aborted), CORS,
 * Cloudinary notifications, host errors. Each case records a normalized snapshot so that the
 * adapters can be compared with each other at the end.
 */
import qs from 'qs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signNotification } from '../../../core/src/cloudinary/signing.js';
import type { Organization } from '../../../core/src/db/schema.js';
import { authorization, createTestApp, TEST_CONFIG, type TestApp } from '../../../core/test/support/app.js';
import { mask, shapeOf } from '../../../core/test/support/compare.js';
import { arrangeSeed, expectRenewedToken, resignSeedToken, resignUploadBody, seedRequestBody } from '../../../core/test/support/seed-replay.js';
import { loadSeeds } from '../../../core/test/support/seeds.js';
import { abortMidBody, headerNames, request, streamUntilAnswered, type HttpResult } from './http.js';
import type { Mount, Running } from './mounts.js';

export const seeds = loadSeeds();
export const ALLOWED_ORIGIN = 'https://app.example.com';
const MB = 1024 * 1024;

/** Snapshots per case, per mount: every adapter must produce the same. */
export const snapshots = new Map<string, Map<string, unknown>>();
/** Unexpected errors the adapters logged, per mount. */
export const adapterErrors = new Map<string, unknown[]>();

function record(mount: string, name: string, result: HttpResult): void {
  if (!snapshots.has(name)) snapshots.set(name, new Map());
  snapshots.get(name)!.set(mount, { status: result.status, headers: headerNames(result.headers), json: mask(result.json) });
}

/** `{"a":{"a":…}}` / `a[a][a]…=1`, `depth` levels deep. */
function deepJson(depth: number): string {
  return `{"cloudinary":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
}
function deepForm(depth: number): string {
  return `cloudinary${'[a]'.repeat(depth)}=1`;
}

export function adapterContract(mount: Mount): void {
  const label = `${mount.name}${mount.hostParsers ? '+parsers' : ''}`;
  let app: TestApp;
  let server: Running;
  let organization: Organization;
  let base: string;
  const logged: unknown[] = [];
  adapterErrors.set(label, logged);

  beforeAll(async () => {
    app = await createTestApp('postgres');
    organization = await app.albumkit.setup.createOrganization('Adapters');
    server = await mount.start(app.albumkit, {
      cors: { origins: [ALLOWED_ORIGIN] },
      logger: { error: (object) => logged.push(object), warn: () => {} },
    });
    base = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  it.each(seeds.map((s) => [s.title, s] as const))('replays the seed "%s"', async (_title, seed) => {
    await arrangeSeed(app.albumkit, organization.id, seed);
    const token = await resignSeedToken(seed);
    const body = seedRequestBody(seed);
    const contentType = seed.requestHeaders['Content-Type'];
    const response = await request(base + seed.route, {
      method: seed.method,
      headers: { ...authorization(token), ...(contentType ? { 'Content-Type': contentType } : {}) },
      ...(body === undefined ? {} : { body }),
    });

    expect(response.status).toBe(seed.status);
    expect(headerNames(response.headers)).toEqual(headerNames(seed.responseHeaders));
    expect(response.headers['content-type']).toBe(seed.responseHeaders['Content-Type']);
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.text));
    expect(shapeOf(response.json)).toEqual(shapeOf(seed.responseBody));
    expect(mask(response.json)).toEqual(mask(seed.responseBody));

    await expectRenewedToken(response.headers['x-token'], token);
    record(label, `seed ${seed.file}`, response);
  });

  it('refuses a request without a token: 401, empty body, X-message', async () => {
    const response = await request(`${base}/api/v1/images/4c4401c9-9cb1-4c50-b15e-b171de99af5e`);
    expect(response.status).toBe(401);
    expect(response.text).toBe('');
    expect(response.headers['x-message']).toBe('Access denied');
    expect(response.headers['x-request-id']).toBeTruthy();
    record(label, 'refusal', response);
  });

  it('keeps the caller X-Request-Id and answers 404 JSON for unknown albumkit paths', async () => {
    const response = await request(`${base}/api/v1/nothing/here`, { headers: { 'X-Request-Id': 'req-123' } });
    expect(response.status).toBe(404);
    expect(response.headers['x-request-id']).toBe('req-123');
    expect(response.json).toEqual({ error: 'not_found', message: 'No such endpoint' });
    record(label, 'unknown path', response);
  });

  it('leaves the host its own routes', async () => {
    const response = await request(`${base}/`);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ hello: 'host app' });
  });

  it('accepts form-encoded and JSON bodies for POST /albums/:id/images alike', async () => {
    const seed = seeds.find((s) => s.route.includes('/images/') && s.method === 'POST' && s.requestBody)!;
    const token = await resignSeedToken(seed);
    const form = resignUploadBody(seed.requestBody!).replace(/cloudinary\[public_id\]=\w+/, 'cloudinary[public_id]=formjsonsame');
    const signed = resignUploadBody(form);
    // The same nesting core reads (qs's default turns arrays past 20 items into objects).
    const json = JSON.stringify(qs.parse(signed, { arrayLimit: 1000, depth: 12 }));
    const viaForm = await request(base + seed.route, {
      method: 'POST',
      headers: { ...authorization(token), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: signed,
    });
    const viaJson = await request(base + seed.route, {
      method: 'POST',
      headers: { ...authorization(token), 'Content-Type': 'application/json; charset=utf-8' },
      body: json,
    });
    expect(viaForm.status).toBe(200);
    expect(viaJson.status).toBe(200);
    expect(viaForm.json.infos.public_id).toBe('formjsonsame');
    expect(viaJson.json.id).toBe(viaForm.json.id);
    expect(mask(viaJson.json)).toEqual(mask(viaForm.json));
    expect(headerNames(viaJson.headers)).toEqual(headerNames(viaForm.headers));
    record(label, 'form body', viaForm);
    record(label, 'json body', viaJson);
  });

  it('answers 413 to a 2 MB body (default 1 MB limit), shaped like a core error', async () => {
    const body = JSON.stringify({ filler: 'x'.repeat(2 * MB) });
    const response = await request(`${base}/api/v1/albums`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(response.status).toBe(413);
    expect(response.json).toEqual({ error: 'payload_too_large', message: 'request body larger than 1048576 bytes' });
    const refusal = await request(`${base}/api/v1/albums`, { method: 'POST' });
    expect(headerNames(response.headers)).toEqual(headerNames(refusal.headers).filter((n) => n !== 'x-message'));
    record(label, '413', response);
  });

  it('answers 413 to a chunked body once past the limit', async () => {
    const answer = await streamUntilAnswered(`${base}/api/v1/albums`, 3 * MB);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error).toBe('payload_too_large');
    // Without host parsers nobody reads further than the limit: the answer comes early.
    if (!mount.hostParsers) expect(answer.written).toBeLessThan(2 * MB);
    // The server keeps serving.
    expect((await request(`${base}/api/v1/albums`, { method: 'POST' })).status).toBe(401);
  });

  it.each([
    ['JSON', 'application/json', deepJson(10_000)],
    ['form', 'application/x-www-form-urlencoded', deepForm(10_000)],
  ])('answers 400 to a %s body of 10,000 nested keys', async (kind, contentType, body) => {
    const seed = seeds.find((s) => s.route.includes('/images/') && s.method === 'POST' && s.requestBody)!;
    const response = await request(base + seed.route, {
      method: 'POST',
      headers: { ...authorization(await resignSeedToken(seed)), 'Content-Type': contentType },
      body,
    });
    expect(response.status).toBe(400);
    expect(response.json.error).toBe('bad_request');
    record(label, `deep ${kind}`, response);
  });

  it('survives a client that aborts mid-body', async () => {
    await abortMidBody(`${base}/api/v1/albums`, 500_000, 100_000);
    await abortMidBody(`${base}/api/v1/cloudinary`, 200_000, 10);
    await new Promise((r) => setTimeout(r, 100));
    const response = await request(`${base}/api/v1/albums`, { method: 'POST' });
    expect(response.status).toBe(401);
    expect(logged).toEqual([]);
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const preflight = (origin: string) =>
      request(`${base}/api/v1/albums`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type,x-request-id' },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers['access-control-allow-methods']).toContain('POST');
    expect(allowed.headers['access-control-allow-headers']).toBe('Authorization, Content-Type, X-Request-Id');
    record(label, 'preflight allowed', allowed);

    const refused = await preflight('https://evil.example.net');
    expect(refused.status).toBe(204);
    expect(Object.keys(refused.headers).filter((n) => n.startsWith('access-control-'))).toEqual([]);
    record(label, 'preflight refused', refused);

    const actual = await request(`${base}/api/v1/images/x`, { headers: { Origin: ALLOWED_ORIGIN } });
    expect(actual.status).toBe(401);
    expect(actual.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(actual.headers['access-control-expose-headers']).toBe('X-token, X-Request-Id, X-Runtime, X-Next-Cursor, X-message');
    expect(actual.headers.vary).toBe('Accept-Encoding, Origin');
    record(label, 'cors actual', actual);

    const other = await request(`${base}/api/v1/images/x`, { headers: { Origin: 'https://evil.example.net' } });
    expect(Object.keys(other.headers).filter((n) => n.startsWith('access-control-'))).toEqual([]);
  });

  it('accepts a signed Cloudinary notification (201) and refuses an altered one (401)', async () => {
    const user = await app.albumkit.setup.createUser(organization.id);
    const token = await app.albumkit.issueToken(user.id);
    const album = await request(`${base}/api/v1/albums`, { method: 'POST', headers: authorization(token) });
    expect(album.status).toBe(200);
    const notifyUrl = new URL(album.json.upload_form.params.notification_url);
    const target = `${base}/api/v1/cloudinary${notifyUrl.search}`;
    // Compact JSON, as Cloudinary sends it.
    const body = JSON.stringify({
      notification_type: 'upload',
      public_id: `notified_${mount.name}_${mount.hostParsers}`,
      version: 1484586860,
      width: 10,
      height: 10,
      format: 'jpg',
      resource_type: 'image',
      type: 'authenticated',
      tags: [album.json.id],
    });
    const signature = signNotification(body, TEST_CONFIG.cloudinary.apiSecret);
    const accepted = await request(target, { method: 'POST', headers: { 'Content-Type': 'application/json', ...signature }, body });
    expect(accepted.status).toBe(201);
    expect(accepted.text).toBe('');
    record(label, 'notification', accepted);

    const altered = await request(target, { method: 'POST', headers: { 'Content-Type': 'application/json', ...signature }, body: body.replace('"width":10', '"width":11') });
    expect(altered.status).toBe(401);
    record(label, 'altered notification', altered);
    await (app.albumkit.jobs as { drain?: () => Promise<void> }).drain?.();
  });

  it("does not swallow the host's own middleware errors", async () => {
    const response = await request(`${base}/api/v1/albums`, { method: 'POST', headers: { 'X-Host-Fail': '1' } });
    expect(response.status).toBe(418);
    expect(response.json).toEqual({ host_error: 'host middleware failed' });
  });

  it('logged no unexpected adapter error', () => {
    expect(logged).toEqual([]);
  });
}
