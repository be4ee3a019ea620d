import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, createAlbumkit, type Albumkit, type DatabaseHandle } from '@albumkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { albumkitNode } from '../../packages/http-adapter/src/node.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { inProcessJobs } from '../../packages/worker/src/in-process.js';

/**
 * Imports from a URL, end to end: albumkit over HTTP, the worker's import job in process, the
 * local Cloudinary server, and file servers on loopback playing the remote hosts (one allowed
 * as a private host, the others not, as an intranet server or a metadata endpoint would be).
 */
const PHOTO = readFileSync(new URL('../fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));
const MAX_BYTES = PHOTO.length + 100_000;
const TIMEOUT_MS = 1500;
const require = createRequire(import.meta.url);
const RECORDED_IMPORT = JSON.parse(
  JSON.parse(readFileSync(new URL('../../packages/core/test/records/import__import_a_new_image.json', import.meta.url), 'utf8')).requests[0].response_body,
) as Record<string, unknown>;

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe.each(DIALECTS)('imports from a URL (%s)', (dialect) => {
  let cloud: LocalCloudinary;
  let api: Server;
  let source: Server;
  let elsewhere: Server;
  let albumkit: Albumkit;
  let database: DatabaseHandle;
  let tenant: Tenant;
  let base: string;
  let sourceUrl: string;
  let elsewhereUrl: string;
  const sourceHits: Hit[] = [];
  const elsewhereHits: Hit[] = [];

  beforeAll(async () => {
    cloud = await startLocalCloudinary({ notificationRetryDelaysMs: [50] });
    elsewhere = createServer((req, res) => {
      elsewhereHits.push({ path: req.url!, headers: req.headers });
      res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(PHOTO);
    });
    elsewhereUrl = `http://localhost:${await listen(elsewhere)}`;
    source = createServer((req, res) => {
      sourceHits.push({ path: req.url!, headers: req.headers });
      const path = req.url!.split('?')[0];
      if (path === '/photo.jpg') return res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(PHOTO);
      if (path === '/private.jpg') {
        if (req.headers['x-api-key'] !== 'let-me-in') return res.writeHead(403).end();
        return res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(PHOTO);
      }
      if (path === '/redirect') return res.writeHead(302, { Location: '/hop' }).end();
      if (path === '/hop') return res.writeHead(301, { Location: `${sourceUrl}/photo.jpg` }).end();
      if (path === '/to-other-origin') return res.writeHead(302, { Location: `http://127.0.0.1:${new URL(elsewhereUrl).port}/photo.jpg` }).end();
      if (path === '/to-private') return res.writeHead(302, { Location: `${elsewhereUrl}/secret.jpg` }).end();
      if (path === '/to-metadata') return res.writeHead(307, { Location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (path === '/loop') return res.writeHead(302, { Location: '/loop' }).end();
      if (path === '/huge') return res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': String(MAX_BYTES + 1) }).end(Buffer.alloc(MAX_BYTES + 1));
      if (path === '/endless') {
        // No Content-Length: only counting the bytes stops it.
        res.writeHead(200, { 'Content-Type': 'image/jpeg' });
        const chunk = Buffer.alloc(16 * 1024);
        const push = () => {
          while (res.write(chunk)) if (res.writableLength > 1 << 20) break;
        };
        res.on('drain', push);
        push();
        req.on('close', () => res.destroy());
        return;
      }
      if (path === '/slow') {
        res.writeHead(200, { 'Content-Type': 'image/jpeg' });
        const timer = setInterval(() => res.write(Buffer.alloc(10)), 200);
        req.on('close', () => clearInterval(timer));
        return;
      }
      if (path === '/not-an-image') return res.writeHead(200, { 'Content-Type': 'text/plain' }).end('hello');
      res.writeHead(404).end('no such file');
    });
    sourceUrl = `http://127.0.0.1:${await listen(source)}`;

    api = createServer();
    base = `http://127.0.0.1:${await listen(api)}`;
    database = dialect === 'postgres' ? await createTestDatabase() : await connectDatabase({});
    albumkit = await createAlbumkit({
      secret: TEST_CONFIG.secret,
      cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      publicUrl: `${base}/api/v1`,
      database,
      logger: { error() {}, warn() {} },
      // Only the source server may be a private address, and `elsewhere` by its IP (an allowed
      // second origin); `elsewhere` by the name localhost may not.
      jobs: (ak) =>
        inProcessJobs(ak, {
          attempts: 2,
          backoffMs: 50,
          imports: { allowPrivateHosts: [new URL(sourceUrl).host, `127.0.0.1:${new URL(elsewhereUrl).port}`], maxBytes: MAX_BYTES, timeoutMs: TIMEOUT_MS },
        }),
    });
    api.on('request', albumkitNode(albumkit));
    tenant = await createTenant({ albumkit } as never);
  }, 60_000);

  afterAll(async () => {
    await albumkit?.close();
    for (const server of [api, source, elsewhere]) server?.closeAllConnections();
    await Promise.all([api, source, elsewhere].map((server) => new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))));
    await cloud?.close();
    await database?.close();
  });

  async function call(method: string, path: string, token: string, body?: unknown) {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Token token="${token}"`, ...(body ? { 'Content-Type': typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json' } : {}) },
      body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
  }

  /** Polls the import until the job is done with it. */
  async function settled(id: string, token: string): Promise<any> {
    for (let i = 0; i < 200; i++) {
      const { status, json } = await call('GET', `/imports/${id}`, token);
      expect(status).toBe(200);
      if (json.status !== 'pending') return json;
      await sleep(50);
    }
    throw new Error(`import ${id} still pending`);
  }

  const uploader = (album: string) => tenant.userToken({ [album]: access('image_upload', 'image_list', 'see') });

  it('imports a file: the image has the given name, metadata and tags, is processed with its EXIF, and its URLs load', async () => {
    const token = await tenant.userToken({ IMPORTS: { ...access('image_upload', 'image_list', 'see', 'image_tag'), Tags: { imported: { en: 'Imported' } } } });
    const newImages: string[] = [];
    const off = albumkit.on('new_image', (event) => void newImages.push((event as { image_id: string }).image_id));
    const posted = await call('POST', '/imports', token, `album_id=IMPORTS&filename=image123_asdasd.JpG&metadata[attachmentId]=00P24000003vSXsEAM&url=${encodeURIComponent(`${sourceUrl}/photo.jpg`)}&tags[]=imported`);
    expect(posted.status).toBe(200);
    // The recorded answer's keys, in its order, then albumkit's two.
    expect(Object.keys(posted.json)).toEqual([...Object.keys(RECORDED_IMPORT), 'status', 'error']);
    expect(posted.json).toMatchObject({ organization_id: tenant.organization.id, image_id: null, album_id: 'IMPORTS', status: 'pending', error: null });
    expect(posted.json.params).toEqual({
      album_id: 'IMPORTS',
      filename: 'image123_asdasd.JpG',
      metadata: { attachmentId: '00P24000003vSXsEAM' },
      tags: ['imported'],
      url: `${sourceUrl}/photo.jpg`,
      controller: 'api/v1/imports',
      action: 'create',
    });
    const done = await settled(posted.json.id, token);
    off();
    expect(done).toMatchObject({ status: 'done', import_type: 'url', error: null });
    expect(done.image_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(newImages).toContain(done.image_id);

    // The image as any image: processed, its metadatas, name and tag, and every rendition loads.
    let image: any;
    for (let i = 0; i < 100; i++) {
      image = (await call('GET', `/images/${done.image_id}`, token)).json;
      if (image.processed) break;
      await sleep(50);
    }
    expect(image).toMatchObject({ processed: true, album_id: 'IMPORTS', metadatas: { attachmentId: '00P24000003vSXsEAM' } });
    const tagged = await albumkit.database.db.selectFrom('tag_images').innerJoin('tags', 'tags.id', 'tag_images.tag_id').select('tags.name').where('tag_images.image_id', '=', done.image_id).execute();
    expect(tagged.map((row) => row.name)).toEqual(['imported']);
    expect(image.infos.original_filename ?? image.filename).toMatch(/^image123_asdasd/);
    expect(Object.keys(image.exifs ?? {}).length).toBeGreaterThan(0);
    for (const url of [image.original_url, image.thumbnails.mini, image.thumbnails.large]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-type'), url).toMatch(/^image\//);
    }
  });

  it('follows redirects, each hop checked, and sends the given headers to the first origin only', async () => {
    const token = await uploader('REDIRECTS');
    const redirected = await call('POST', '/imports', token, { album_id: 'REDIRECTS', url: `${sourceUrl}/redirect` });
    expect((await settled(redirected.json.id, token)).status).toBe('done');

    const withKey = await call('POST', '/imports', token, { album_id: 'REDIRECTS', url: `${sourceUrl}/private.jpg`, headers: { 'X-Api-Key': 'let-me-in' } });
    expect((await settled(withKey.json.id, token)).status).toBe('done');
    expect(sourceHits.find((hit) => hit.path === '/private.jpg')?.headers['x-api-key']).toBe('let-me-in');
    // Redirected to another origin, the file comes without the key.
    const crossing = await call('POST', '/imports', token, { album_id: 'REDIRECTS', url: `${sourceUrl}/to-other-origin`, headers: { 'X-Api-Key': 'let-me-in' } });
    expect((await settled(crossing.json.id, token)).status).toBe('done');
    const landed = elsewhereHits.find((hit) => hit.path === '/photo.jpg');
    expect(landed).toBeDefined();
    expect(landed!.headers['x-api-key']).toBeUndefined();
    // The key is not shown back: the import's params leave headers out.
    expect(JSON.stringify((await call('GET', `/imports/${withKey.json.id}`, token)).json)).not.toContain('let-me-in');
  });

  it('refuses a redirect to a private address, to the metadata endpoint and a redirect loop, without connecting', async () => {
    const token = await uploader('REFUSED');
    const before = elsewhereHits.length;
    for (const [path, reason] of [
      ['/to-private', /resolves to 127\.0\.0\.1, not a public address/],
      ['/to-metadata', /169\.254\.169\.254 is not a public address/],
      ['/loop', /too many redirects/],
    ] as const) {
      const posted = await call('POST', '/imports', token, { album_id: 'REFUSED', url: `${sourceUrl}${path}` });
      const failed = await settled(posted.json.id, token);
      expect(failed, path).toMatchObject({ status: 'failed', image_id: null });
      expect(failed.error, path).toMatch(reason);
    }
    expect(elsewhereHits.length).toBe(before);
    // A URL given straight to a private host is refused the same way.
    const direct = await call('POST', '/imports', token, { album_id: 'REFUSED', url: `${elsewhereUrl}/secret.jpg` });
    expect((await settled(direct.json.id, token)).error).toMatch(/not a public address/);
    expect(elsewhereHits.length).toBe(before);
  });

  it('fails a file too large (by its length, or once too many bytes came), a slow one (timeout), a 404 and a file that is not an image', async () => {
    const token = await uploader('FAILURES');
    const cases = [
      ['/huge', new RegExp(`too large: ${MAX_BYTES + 1} bytes`)],
      ['/endless', new RegExp(`too large: more than ${MAX_BYTES} bytes`)],
      ['/slow', new RegExp(`timed out after ${TIMEOUT_MS} ms`)],
      ['/missing', /HTTP 404/],
      ['/not-an-image', /Cloudinary upload refused \(400\)/],
    ] as const;
    const posted = await Promise.all(cases.map(([path]) => call('POST', '/imports', token, { album_id: 'FAILURES', url: `${sourceUrl}${path}` })));
    for (const [index, [path, reason]] of cases.entries()) {
      const failed = await settled(posted[index]!.json.id, token);
      expect(failed, path).toMatchObject({ status: 'failed', image_id: null });
      expect(failed.error, path).toMatch(reason);
    }
    // Nothing of them reached the album.
    const images = await call('GET', '/albums/FAILURES/images', token);
    expect(images.json).toEqual([]);
  }, 30_000);

  it('a duplicate submission is one import and one image, racing or after it finished; a failed one runs again', async () => {
    const token = await uploader('DUPLICATES');
    const body = { album_id: 'DUPLICATES', url: `${sourceUrl}/photo.jpg?dup`, metadatas: { n: 1 } };
    const [a, b] = await Promise.all([call('POST', '/imports', token, body), call('POST', '/imports', token, body)]);
    expect(a.json.id).toBe(b.json.id);
    const done = await settled(a.json.id, token);
    const again = await call('POST', '/imports', token, body);
    expect(again.json).toMatchObject({ id: a.json.id, image_id: done.image_id, status: 'done' });
    // Another metadata is another import.
    const other = await call('POST', '/imports', token, { ...body, metadatas: { n: 2 } });
    expect(other.json.id).not.toBe(a.json.id);
    await settled(other.json.id, token);
    const images = (await call('GET', '/albums/DUPLICATES/images', token)).json as Array<{ id: string }>;
    expect(images.map((image) => image.id).sort()).toEqual([done.image_id, (await settled(other.json.id, token)).image_id].sort());

    const missing = { album_id: 'DUPLICATES', url: `${sourceUrl}/missing` };
    const first = await call('POST', '/imports', token, missing);
    expect((await settled(first.json.id, token)).status).toBe('failed');
    const retried = await call('POST', '/imports', token, missing);
    expect(retried.json).toMatchObject({ id: first.json.id, status: 'pending', error: null });
    expect((await settled(first.json.id, token)).status).toBe('failed');
  });

  it('checks rights and input: image_upload on the album, the tag rights, the URL, the headers; GET by its user, an uploader of the album or a member', async () => {
    const token = await uploader('RIGHTS');
    const url = `${sourceUrl}/photo.jpg?rights`;
    const reader = await tenant.userToken({ RIGHTS: access('image_list') });
    expect((await call('POST', '/imports', reader, { album_id: 'RIGHTS', url })).status).toBe(401);
    expect((await call('POST', '/imports', token, { album_id: 'RIGHTS', url, tags: ['not-mine'] })).status).toBe(401);
    for (const [body, field] of [
      [{ album_id: 'RIGHTS' }, /url/],
      [{ album_id: 'RIGHTS', url: 'file:///etc/passwd' }, /url: http or https only/],
      [{ album_id: 'RIGHTS', url: 'http://user:pw@example.com/a.jpg' }, /url: credentials/],
      [{ album_id: 'RIGHTS', url: `http://example.com/${'a'.repeat(3000)}` }, /url/],
      [{ album_id: 'RIGHTS', url, headers: { Host: 'evil' } }, /headers\.Host/],
      [{ album_id: 'RIGHTS', url, headers: { 'X-A': 'a\r\nb' } }, /headers\.X-A/],
      [{ album_id: 'RIGHTS', url, metadatas: 'text' }, /metadatas/],
      [{ album_id: 'RIGHTS', url, filename: '../../etc' }, /filename/],
      [{ album_id: 'RIGHTS', url, import_type: 'ftp' }, /import_type/],
    ] as const) {
      const answer = await call('POST', '/imports', token, body);
      expect(answer.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(answer.json.message).toMatch(field);
    }
    const posted = await call('POST', '/imports', token, { album_id: 'RIGHTS', url });
    await settled(posted.json.id, token);
    // An integrator's token without rights on the album does not see it; one that may upload there does, as members do.
    expect((await call('GET', `/imports/${posted.json.id}`, await tenant.integratorToken({ abilities: { OTHER: access('image_upload') } }))).status).toBe(404);
    expect((await call('GET', `/imports/${posted.json.id}`, await tenant.integratorToken({ abilities: { RIGHTS: access('image_upload') } }))).status).toBe(200);
    expect((await call('GET', `/imports/${posted.json.id}`, await tenant.userToken({}))).status).toBe(200);
    // Another organization never does.
    const stranger = await createTenant({ albumkit } as never);
    expect((await call('GET', `/imports/${posted.json.id}`, await stranger.integratorToken({ admin: true }))).status).toBe(404);
  });

  it('the official client (sharinpix 0.0.9) imports, unmodified, with its metadatas', async () => {
    const Sharinpix = require('sharinpix') as new (options: { endpoint: string; id: string; secret: string }) => { import(url: string, album: string, metadatas: object): Promise<any> };
    const secret = await albumkit.setup.createSecret(tenant.organization.id);
    const client = new Sharinpix({ endpoint: `${base}/api/v1`, id: secret.id, secret: secret.secret });
    const answer = await client.import(`${sourceUrl}/photo.jpg?client`, 'CLIENT', { source: 'sharinpix-node', n: 3 });
    expect(answer).toMatchObject({ album_id: 'CLIENT', image_id: null, status: 'pending' });
    const admin = await tenant.integratorToken({ admin: true });
    const done = await settled(answer.id, admin);
    expect(done.status).toBe('done');
    const image = (await call('GET', `/images/${done.image_id}`, admin)).json;
    expect(image).toMatchObject({ album_id: 'CLIENT', metadatas: { source: 'sharinpix-node', n: 3 } });
  });
});
