import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { access, createTenant, uploadResult, type Tenant } from './support/fixtures.js';

/**
 * Bad input always gets a clear answer: random methods, paths, headers, query strings and
 * bodies (nested forms, JSON, deep nesting, huge arrays) never produce a 5xx or a crash.
 */
describe('fuzzing the handler (PostgreSQL)', () => {
  let app: TestApp;
  let tenant: Tenant;
  let tokens: string[];
  let imageId: string;

  beforeAll(async () => {
    app = await createTestApp('postgres');
    tenant = await createTenant(app);
    const all = access('see', 'image_list', 'image_upload', 'image_duplicate');
    tokens = [await tenant.userToken({ A: all }), await tenant.integratorToken({ admin: true }), await tenant.integratorToken({ abilities: { A: all } })];
    const created = await app.request({
      method: 'POST',
      path: '/api/v1/albums/A/images',
      headers: { Authorization: `Bearer ${tokens[0]}`, 'Content-Type': 'application/json' },
      rawBody: JSON.stringify({ cloudinary: uploadResult() }),
    });
    imageId = created.json.id;
  });
  afterAll(() => app?.close());

  const segment = fc.oneof(
    fc.constantFrom('albums', 'images', 'image_syncs', 'cloudinary', 'upload_done', 'duplicate', 'A', '%', '%zz', '..', '', ' '),
    fc.string({ maxLength: 40 }),
    fc.uuid(),
  );
  const path = fc.array(segment, { maxLength: 5 }).map((parts) => `/api/v1/${parts.join('/')}`);
  const knownPath = fc.constantFrom(
    '/api/v1/albums',
    '/api/v1/albums/A',
    '/api/v1/albums/A/images',
    '/api/v1/albums/A/upload_done',
    '/api/v1/image_syncs',
    '/api/v1/cloudinary',
  );
  const query = fc.oneof(
    fc.constant(''),
    fc.string({ maxLength: 200 }),
    fc.array(fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })), { maxLength: 20 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
    fc.constantFrom('ids[]=x&ids[]=y', 'ids=abc', 'ids[a][b]=1', 'limit=-1', 'limit=abc', 'cursor=%%%', 'ids[999999]=1', `ids[]=${'a'.repeat(5000)}`),
  );
  const json = fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v));
  const deep = fc.integer({ min: 1, max: 3000 }).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`);
  const formKey = fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constant(''), fc.constant('__proto__'), fc.constant('constructor')), { minLength: 1, maxLength: 6 });
  const form = fc
    .array(fc.tuple(formKey, fc.string({ maxLength: 30 })), { maxLength: 30 })
    .map((pairs) => pairs.map(([[head, ...rest], v]) => `${head}${rest.map((r) => `[${r}]`).join('')}=${encodeURIComponent(v)}`).join('&'));
  const cloudinaryish = fc.record({
    cloudinary: fc.oneof(
      fc.constant(uploadResult()),
      fc.dictionary(fc.constantFrom('public_id', 'version', 'signature', 'width', 'height', 'format', 'type', 'location', 'image_metadata'), fc.jsonValue({ maxDepth: 3 })),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    metadatas: fc.jsonValue({ maxDepth: 4 }),
  });
  const body = fc.oneof(
    fc.constant(undefined),
    json,
    deep,
    form,
    cloudinaryish.map((v) => JSON.stringify(v)),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.constantFrom('{', '[]', 'null', '"x"', '1e309', `{"a":[${'1,'.repeat(20000)}1]}`, `a[]=${'&a[]='.repeat(3000)}`),
  );
  const contentType = fc.constantFrom(undefined, 'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-8', '');
  const authorization = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 100 }),
    fc.integer({ min: 0, max: 2 }).map((i) => `Bearer __TOKEN${i}__`),
    fc.integer({ min: 0, max: 2 }).map((i) => `Token token="__TOKEN${i}__"`),
  );

  it('never answers 5xx, always with the albumkit headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'get'),
        fc.oneof(path, knownPath, fc.constant(`/api/v1/images/__IMAGE__`), fc.constant(`/api/v1/images/__IMAGE__/duplicate`)),
        query,
        body,
        contentType,
        authorization,
        async (method, p, q, b, type, auth) => {
          const headers: Record<string, string> = {};
          if (type !== undefined) headers['Content-Type'] = type;
          if (auth !== undefined) headers.Authorization = auth.replace(/__TOKEN(\d)__/, (_, i) => tokens[Number(i)]!);
          const response = await app.albumkit.handle({
            method,
            path: `${p.replace('__IMAGE__', imageId)}${q ? `?${q}` : ''}`,
            headers,
            rawBody: b,
          });
          expect(response.status, `${method} ${p}?${q}`).toBeLessThan(500);
          expect(response.headers['X-Request-Id']).toBeTruthy();
          if (response.body) expect(() => JSON.parse(response.body)).not.toThrow();
        },
      ),
      { numRuns: 1500 },
    );
  }, 120_000);
});
