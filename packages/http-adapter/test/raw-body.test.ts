/**
 * Byte-exact bodies behind host parsers: a Cloudinary notification that is not compact JSON
 * (pretty-printed) only verifies when the exact bytes reach the core. Koa (koa-bodyparser's
 * `rawBody`) and Fastify (the plugin's own parser) always keep them; Express keeps them with
 * `rawBodySaver`, and without it can only re-serialize, which is exact for compact JSON only.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import koaBodyParser from 'koa-bodyparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signNotification } from '../../core/src/cloudinary/signing.js';
import { authorization, createTestApp, TEST_CONFIG, type TestApp } from '../../core/test/support/app.js';
import { albumkitExpress, rawBodySaver } from '../src/express.js';
import { albumkitFastify } from '../src/fastify.js';
import { albumkitKoa } from '../src/koa.js';
import { request } from './support/http.js';

const silent = { error() {}, warn() {} };
let app: TestApp;
const servers: Array<() => Promise<void>> = [];

async function serve(listener: http.RequestListener): Promise<string> {
  const server = http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const hosts: Record<string, () => Promise<string>> = {
  'express.json() with rawBodySaver': () => {
    const host = express();
    host.use(express.json({ verify: rawBodySaver }));
    host.use('/api/v1', albumkitExpress(app.albumkit, { logger: silent }));
    return serve(host);
  },
  'express.json() without verify': () => {
    const host = express();
    host.use(express.json());
    host.use('/api/v1', albumkitExpress(app.albumkit, { logger: silent }));
    return serve(host);
  },
  'koa-bodyparser': () => {
    const host = new Koa();
    host.use(koaBodyParser());
    host.use(albumkitKoa(app.albumkit, { logger: silent }));
    return serve(host.callback());
  },
  'fastify (default JSON parser at the root)': async () => {
    const host = Fastify();
    await host.register(albumkitFastify(app.albumkit, { logger: silent }), { prefix: '/api/v1' });
    const url = await host.listen({ port: 0, host: '127.0.0.1' });
    servers.push(() => host.close());
    return url;
  },
};

beforeAll(async () => {
  app = await createTestApp('postgres');
});
afterAll(async () => {
  for (const close of servers) await close();
  await app?.close();
});

async function notify(base: string, body: string): Promise<number> {
  const organization = await app.albumkit.setup.createOrganization('Raw');
  const user = await app.albumkit.setup.createUser(organization.id);
  const album = await request(`${base}/api/v1/albums`, { method: 'POST', headers: authorization(await app.albumkit.issueToken(user.id)) });
  const search = new URL(album.json.upload_form.params.notification_url).search;
  const response = await request(`${base}/api/v1/cloudinary${search}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...signNotification(body, TEST_CONFIG.cloudinary.apiSecret) },
    body,
  });
  return response.status;
}

const pretty = JSON.stringify({ notification_type: 'error', public_id: 'p', version: 1 }, null, 2);

describe.each(Object.keys(hosts))('%s', (name) => {
  let base: string;
  beforeAll(async () => {
    base = await hosts[name]!();
  });

  it('accepts a compact notification', async () => {
    expect(await notify(base, JSON.stringify({ notification_type: 'error', public_id: 'c', version: 1 }))).toBe(201);
  });

  it(name === 'express.json() without verify' ? 'refuses a pretty-printed one (bytes lost: documented)' : 'accepts a pretty-printed one', async () => {
    expect(await notify(base, pretty)).toBe(name === 'express.json() without verify' ? 401 : 201);
  });
});
