import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectDatabase, createAlbumkit, type Albumkit, type DatabaseHandle } from '@albumkit/core';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { albumkitExpress } from '../../packages/http-adapter/src/express.js';
import { albumkitFastify } from '../../packages/http-adapter/src/fastify.js';
import { albumkitFetch } from '../../packages/http-adapter/src/fetch.js';
import { albumkitKoa } from '../../packages/http-adapter/src/koa.js';
import { albumkitNode } from '../../packages/http-adapter/src/node.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { inProcessJobs } from '../../packages/worker/src/in-process.js';

/**
 * Every URL albumkit hands out works (#17): a processed image's JSON, as each adapter serves it,
 * and every link of the public routes, fetched hop by hop through the adapter's own host and the
 * local Cloudinary server, each ending in 200 with an image (or the zip) — and no hop to any other
 * host. Each adapter's host mounts the API at /api/v1 and the public routes at its root, as the
 * README shows, on one database.
 */
const PHOTO = readFileSync(new URL('../fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));
const QUIET = { error() {}, warn() {} };

type Adapter = 'express' | 'koa' | 'fastify' | 'node' | 'fetch';
const ADAPTERS: Adapter[] = ['express', 'koa', 'fastify', 'node', 'fetch'];

interface Host {
  adapter: Adapter;
  base: string;
  albumkit: Albumkit;
  close(): Promise<void>;
}

function listening(): Promise<{ server: Server; base: string }> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

/** The host app of each adapter: API under /api/v1, the public routes at the root, a 404 of its own for the rest. */
async function mount(adapter: Adapter, server: Server, albumkit: Albumkit): Promise<() => Promise<void>> {
  const notFound = (res: ServerResponse) => res.writeHead(404, { 'Content-Type': 'text/plain' }).end('host: not found');
  switch (adapter) {
    case 'express': {
      const app = express();
      app.use('/api/v1', albumkitExpress(albumkit));
      app.use(albumkitExpress(albumkit, { publicRoutes: true }));
      app.use((_req, res) => notFound(res));
      server.on('request', app);
      return async () => {};
    }
    case 'koa': {
      const app = new Koa();
      app.use(albumkitKoa(albumkit, { prefix: '/api/v1' }));
      app.use(albumkitKoa(albumkit, { publicRoutes: true }));
      app.use((ctx) => {
        ctx.status = 404;
        ctx.body = 'host: not found';
      });
      server.on('request', app.callback());
      return async () => {};
    }
    case 'fastify': {
      const app = Fastify({
        logger: false,
        serverFactory: (handler) => {
          server.on('request', handler);
          return server;
        },
      });
      await app.register(albumkitFastify(albumkit), { prefix: '/api/v1' });
      await app.register(albumkitFastify(albumkit, { publicRoutes: true }));
      await app.ready();
      return async () => {};
    }
    case 'node': {
      const api = albumkitNode(albumkit, { prefix: '/api/v1' });
      const publicRoutes = albumkitNode(albumkit, { publicRoutes: true });
      server.on('request', (req: IncomingMessage, res: ServerResponse) => api(req, res, () => publicRoutes(req, res, () => notFound(res))));
      return async () => {};
    }
    case 'fetch': {
      const api = albumkitFetch(albumkit, { prefix: '/api/v1' });
      const publicRoutes = albumkitFetch(albumkit, { publicRoutes: true });
      // A minimal node → fetch bridge, as @hono/node-server is.
      server.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) for (const v of [value ?? []].flat()) headers.append(name, v);
        const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
        const request = new Request(`http://${req.headers.host}${req.url}`, {
          method: req.method,
          headers,
          ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
        } as RequestInit);
        const path = new URL(request.url).pathname;
        const handler = path === '/api/v1' || path.startsWith('/api/v1/') ? api : publicRoutes;
        void handler(request).then(async (response) => {
          const out: Record<string, string> = {};
          response.headers.forEach((value, name) => (out[name] = value));
          res.writeHead(response.status, out);
          if (response.body) for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
          res.end();
        });
      });
      return async () => {};
    }
  }
}

interface Hop {
  url: string;
  status: number;
}

/** GET a URL as a browser would, one hop at a time, so that every host on the way is seen. */
async function follow(url: string): Promise<{ hops: Hop[]; response: Response; bytes: Buffer }> {
  const hops: Hop[] = [];
  let current = url;
  for (let i = 0; i < 10; i++) {
    const response = await fetch(current, { redirect: 'manual' });
    hops.push({ url: current, status: response.status });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.arrayBuffer();
      current = new URL(location, current).href;
      continue;
    }
    return { hops, response, bytes: Buffer.from(await response.arrayBuffer()) };
  }
  throw new Error(`more than 10 redirects from ${url}: ${hops.map((h) => h.url).join(' → ')}`);
}

/** Every absolute URL in a JSON value, with where it sits. */
function urlsIn(value: unknown, at = ''): [string, string][] {
  if (typeof value === 'string') return /^https?:\/\//.test(value) ? [[at, value]] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => urlsIn(v, `${at}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => urlsIn(v, at ? `${at}.${k}` : k));
  return [];
}

const IMAGE_TYPE = /^image\/(jpeg|png|webp|gif|avif)/;

describe.each(DIALECTS)('every URL albumkit hands out works (%s)', (dialect) => {
  let cloud: LocalCloudinary;
  let database: DatabaseHandle;
  let tenant: Tenant;
  const hosts: Host[] = [];

  beforeAll(async () => {
    cloud = await startLocalCloudinary({ notificationRetryDelaysMs: [50, 200] });
    database = dialect === 'postgres' ? await createTestDatabase() : await connectDatabase({});
    for (const adapter of ADAPTERS) {
      const { server, base } = await listening();
      const albumkit = await createAlbumkit({
        secret: TEST_CONFIG.secret,
        cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
        publicUrl: `${base}/api/v1`,
        database,
        logger: QUIET,
        jobs: (ak) => inProcessJobs(ak, { attempts: 3, backoffMs: 20 }),
      });
      const unmount = await mount(adapter, server, albumkit);
      hosts.push({
        adapter,
        base,
        albumkit,
        close: async () => {
          await unmount();
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
          await albumkit.close();
        },
      });
    }
    tenant = await createTenant({ albumkit: hosts[0]!.albumkit } as never);
  }, 60_000);

  afterAll(async () => {
    for (const host of hosts.splice(0)) await host.close();
    await cloud?.close();
    await database?.close();
  });

  async function call(host: Host, method: string, path: string, token: string, body?: string) {
    const response = await fetch(`${host.base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Token token="${token}"`, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
  }

  /** An upload through the host: the album's signed form to the local Cloudinary, whose notification the host processes. */
  async function processedImage(host: Host, album: string): Promise<{ id: string; token: string }> {
    const token = await tenant.userToken({ [album]: access('image_upload', 'image_list', 'see') });
    const form = (await call(host, 'GET', `/albums/${album}`, token)).json.upload_form;
    expect(new URL(form.params.notification_url).origin).toBe(host.base);
    const body = new FormData();
    for (const [k, v] of Object.entries(form.params)) body.append(k, String(v));
    body.append('file', new Blob([PHOTO]), 'photo.jpg');
    const uploaded = await fetch(form.url, { method: 'POST', body });
    expect(uploaded.status).toBe(200);
    const { public_id, version } = (await uploaded.json()) as { public_id: string; version: number };
    for (let i = 0; i < 400; i++) {
      const row = await host.albumkit.database.db.selectFrom('images').select(['id', 'processed']).where('upload_key', '=', `${public_id}@${version}`).executeTakeFirst();
      if (row?.processed) return { id: row.id, token };
      await sleep(25);
    }
    throw new Error('the upload was never processed');
  }

  /** Fetch one URL through to its end: 200, the content type asked for, every hop on the host or the local Cloudinary. */
  async function expectWorks(host: Host, where: string, url: string, type: RegExp = IMAGE_TYPE): Promise<Hop[]> {
    const { hops, response, bytes } = await follow(url);
    const trail = `${host.adapter} ${where}: ${hops.map((h) => `${h.status} ${h.url}`).join(' → ')}`;
    expect(response.status, trail).toBe(200);
    expect(response.headers.get('content-type'), trail).toMatch(type);
    expect(bytes.length, trail).toBeGreaterThan(100);
    for (const hop of hops) expect([host.base, cloud.url].map((u) => new URL(u).origin), trail).toContain(new URL(hop.url).origin);
    return hops;
  }

  it.each(ADAPTERS)("%s: a processed image's JSON, every URL in it", async (adapter) => {
    const host = hosts.find((h) => h.adapter === adapter)!;
    const { id, token } = await processedImage(host, `EVERY_${adapter}`);
    const served = await call(host, 'GET', `/images/${id}`, token);
    expect(served.status).toBe(200);
    expect(served.json.processed).toBe(true);
    const urls = urlsIn(served.json);
    // The links a client shows: the three proxied thumbnails, the renditions, the original.
    const names = urls.map(([where]) => where);
    for (const name of ['external_urls.mini', 'external_urls.large', 'external_urls.full', 'thumbnails.mini', 'thumbnails.large', 'thumbnails.full', 'original_url'])
      expect(names, adapter).toContain(name);
    for (const [where, url] of urls) {
      const hops = await expectWorks(host, where, url);
      // A proxied link goes through the host itself: the proxy, then the signed thumbnail route.
      if (/^external_urls\.(mini|large|full)$/.test(where)) expect(hops.slice(0, 2).map((h) => [new URL(h.url).origin, h.status]), where).toEqual([[host.base, 302], [host.base, 302]]);
    }
  });

  it.each(ADAPTERS)('%s: every link of the public routes and of the routes that hand out links', async (adapter) => {
    const host = hosts.find((h) => h.adapter === adapter)!;
    const album = `LINKS_${adapter}`;
    const { id } = await processedImage(host, album);
    const admin = await tenant.userToken({ [album]: access('image_list', 'see', 'image_transform'), image_urls: true }, { download: true });

    // The signed image link (`/images/:id?token=`), plain, sized by its query, and shaped by the token.
    const viewer = await tenant.userToken({ [album]: access('image_list', 'see') });
    await expectWorks(host, 'image link', `${host.base}/images/${id}?token=${viewer}`);
    await expectWorks(host, 'image link sized', `${host.base}/images/${id}?token=${viewer}&width=120&height=80&crop=fill`);
    const shaped = await tenant.userToken({ [album]: access('image_list', 'see') }, { image_id: id, transformations: [{ width: 90, angle: 90 }] });
    await expectWorks(host, 'image link shaped by its token', `${host.base}/images/${id}?token=${shaped}`);

    // GET /images/:id/image_url.
    const imageUrl = await call(host, 'GET', `/images/${id}/image_url`, admin);
    expect(imageUrl.status).toBe(200);
    const handed = urlsIn(imageUrl.json);
    expect(handed.length).toBeGreaterThan(0);
    for (const [where, url] of handed) await expectWorks(host, `image_url ${where}`, url);

    // GET /images/:id/embed: the <img> source.
    const embed = await call(host, 'GET', `/images/${id}/embed`, admin);
    expect(embed.status).toBe(200);
    const sources = [...JSON.stringify(embed.json).matchAll(/src=\\"([^"\\]+)\\"/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
    expect(sources.length).toBeGreaterThan(0);
    for (const url of sources) await expectWorks(host, 'embed src', url);

    // POST /image_external_urls: the lasting link, then the placeholder once the image is trashed.
    const external = await call(host, 'POST', '/image_external_urls', admin, `image_external_url[image_id]=${id}&image_external_url[transformations][width]=150`);
    expect(external.status).toBe(200);
    const externalUrls = urlsIn(external.json);
    expect(externalUrls.map(([where]) => where)).toContain('url');
    for (const [where, url] of externalUrls) await expectWorks(host, `image_external_urls ${where}`, url);

    // POST /downloads: the signed zip link.
    const download = await call(host, 'POST', '/downloads', admin, `image_ids[]=${id}`);
    expect(download.status).toBe(200);
    await expectWorks(host, 'zip_url', download.json.zip_url, /^application\/zip$/);

    // The placeholder the unprocessed thumbnails point to.
    await expectWorks(host, 'placeholder', `${host.base}/assets/blank.jpg`);

    // Trashed: the external link still ends in an image (the deleted placeholder).
    const owner = await tenant.userToken({ [album]: access('image_list', 'see', 'image_delete') });
    expect((await call(host, 'DELETE', `/images/${id}`, owner)).status).toBeLessThan(300);
    const url = externalUrls.find(([where]) => where === 'url')![1];
    await expectWorks(host, 'external link of a trashed image', url);
  });
});
