import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbumkit, type Albumkit } from '../../core/src/albumkit.js';
import { TEST_CONFIG } from '../../core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../core/test/support/fixtures.js';
import { createTestDatabase } from '../../core/test/support/postgres.js';
import { BullMqJobs } from '../../worker/src/bullmq-jobs.js';
import { uniquePrefix } from '../../worker/test/support/redis.js';
import { freePort, privateRedis, until, type PrivateRedis } from '../../../test/faults/support.js';
import { albumkitExpress, albumkitOpsExpress } from '../src/express.js';
import { albumkitFastify, albumkitOpsFastify } from '../src/fastify.js';
import { albumkitOpsFetch } from '../src/fetch.js';
import { albumkitKoa, albumkitOpsKoa } from '../src/koa.js';
import { albumkitNode, albumkitOpsNode } from '../src/node.js';

/**
 * The operations routes of every adapter, outside the API mount, on one albumkit with real
 * PostgreSQL and BullMQ on a private redis-server: liveness, readiness (database, Redis, queue
 * lag; 503 naming what failed) and Prometheus metrics (requests by route pattern, queue depths).
 */

const silent = { error() {}, warn() {} };

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

interface Host {
  name: string;
  url: string;
  close(): Promise<void>;
}

/** Each framework as a host mounts it: the API at /api/v1, the operations routes at the root. */
async function startHosts(albumkit: Albumkit): Promise<Host[]> {
  const hosts: Host[] = [];

  const app = express();
  app.use('/api/v1', albumkitExpress(albumkit));
  app.use(albumkitOpsExpress(albumkit));
  app.get('/', (_req, res) => res.json({ hello: 'host app' }));
  const expressServer = http.createServer(app);
  hosts.push({ name: 'express', url: await listen(expressServer), close: () => closeServer(expressServer) });

  const fastify = Fastify();
  await fastify.register(albumkitFastify(albumkit), { prefix: '/api/v1' });
  await fastify.register(albumkitOpsFastify(albumkit));
  const fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' });
  hosts.push({ name: 'fastify', url: fastifyUrl, close: () => fastify.close() });

  const api = albumkitNode(albumkit, { prefix: '/api/v1' });
  const ops = albumkitOpsNode(albumkit);
  const nodeServer = http.createServer((req, res) => ops(req, res, () => api(req, res)));
  hosts.push({ name: 'node', url: await listen(nodeServer), close: () => closeServer(nodeServer) });

  const koa = new Koa();
  koa.use(albumkitOpsKoa(albumkit));
  koa.use(albumkitKoa(albumkit, { prefix: '/api/v1' }));
  const koaServer = http.createServer(koa.callback());
  hosts.push({ name: 'koa', url: await listen(koaServer), close: () => closeServer(koaServer) });

  return hosts;
}

async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** The value of one sample in a Prometheus exposition, 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.indexOf('}'));
    const parts = labelText.split(',');
    if (wanted.every((w) => parts.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('operations routes (liveness, readiness, metrics) in every adapter', () => {
  let dir: string;
  let redis: PrivateRedis;
  let albumkit: Albumkit;
  let jobs: BullMqJobs;
  let hosts: Host[];
  let tenant: Tenant;
  let closeDb: () => Promise<void>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumkit-ops-'));
    redis = privateRedis(await freePort(), dir, ['--appendonly', 'no']);
    await redis.start();
    const database = await createTestDatabase();
    closeDb = database.close;
    albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      database,
      logger: silent,
      jobs: () => (jobs = new BullMqJobs({ redisUrl: redis.url, prefix, logger: silent })),
    });
    tenant = await createTenant({ albumkit } as never);
    hosts = await startHosts(albumkit);
  });

  afterAll(async () => {
    for (const host of hosts ?? []) await host.close();
    await albumkit?.close();
    await closeDb?.();
    await redis?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers liveness and readiness on every adapter, with each check named', async () => {
    for (const host of hosts) {
      const live = await get(`${host.url}/healthz`);
      expect([host.name, live.status, live.json]).toEqual([host.name, 200, { status: 'live' }]);
      const ready = await get(`${host.url}/readyz`);
      expect([host.name, ready.status, ready.json.status]).toEqual([host.name, 200, 'ready']);
      expect(Object.keys(ready.json.checks).sort()).toEqual(['database', 'queue_lag', 'redis']);
      expect(Object.values(ready.json.checks).every((check: any) => check.ok === true)).toBe(true);
      expect(ready.headers.get('content-type')).toMatch(/^application\/json/);
    }
    // The fetch handler, called as a runtime calls it.
    const fetchOps = albumkitOpsFetch(albumkit);
    const response = await fetchOps(new Request('http://localhost/readyz'));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { status: string }).status).toBe('ready');
    expect((await fetchOps(new Request('http://localhost/api/v1/albums'))).status).toBe(404);
  });

  it('leaves other paths to the host and to the API mount', async () => {
    for (const host of hosts) {
      // The API's own 404 under /api/v1: the ops routes are not part of the API.
      const underApi = await get(`${host.url}/api/v1/healthz`);
      expect([host.name, underApi.status]).toEqual([host.name, 404]);
    }
    const express = hosts.find((h) => h.name === 'express')!;
    expect((await get(`${express.url}/`)).json).toEqual({ hello: 'host app' });
  });

  it('counts requests by method, route pattern and status, and unmatched ones as `unmatched`', async () => {
    const token = await tenant.userToken({ OPS: access('image_list') });
    const headers = { Authorization: `Token token="${token}"` };
    for (const host of hosts) {
      const before = (await get(`${host.url}/metrics`)).text;
      const album = await get(`${host.url}/api/v1/albums/OPS`, { headers });
      expect(album.status).toBe(200);
      const missing = await get(`${host.url}/api/v1/no-such-route`, { headers });
      expect(missing.status).toBe(404);
      const scraped = await get(`${host.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const matched = { method: 'GET', route: '/albums/:id', status: '200' };
      const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
      expect([host.name, sample(scraped.text, 'albumkit_http_requests_total', matched) - sample(before, 'albumkit_http_requests_total', matched)]).toEqual([host.name, 1]);
      expect([host.name, sample(scraped.text, 'albumkit_http_requests_total', unmatched) - sample(before, 'albumkit_http_requests_total', unmatched)]).toEqual([host.name, 1]);
      expect(sample(scraped.text, 'albumkit_http_request_duration_seconds_count', matched)).toBeGreaterThan(sample(before, 'albumkit_http_request_duration_seconds_count', matched));
    }
  });

  it('reads queue depths at scrape time, and is not ready while the oldest waiting job is too old', async () => {
    const express = hosts.find((h) => h.name === 'express')!;
    const queue = jobs.queue('webhook');
    // No worker runs in this test: the job waits. Its creation time says it has waited ten minutes.
    const job = await queue.add('webhook', { eventId: 'e', webhookId: 'w' }, { jobId: 'ops-lag', timestamp: Date.now() - 10 * 60_000 });
    const scraped = await get(`${express.url}/metrics`);
    expect(sample(scraped.text, 'albumkit_queue_jobs', { queue: `${prefix}-webhook`, state: 'waiting' })).toBe(1);
    expect(scraped.text).toContain(`albumkit_queue_jobs{queue="${prefix}-notification",state="active"} 0`);

    for (const host of hosts) {
      const ready = await get(`${host.url}/readyz`);
      expect([host.name, ready.status, ready.json.status]).toEqual([host.name, 503, 'not_ready']);
      expect(ready.json.checks.queue_lag.ok).toBe(false);
      expect(ready.json.checks.queue_lag.error).toContain(`${prefix}-webhook`);
      expect(ready.json.checks.redis.ok).toBe(true);
    }
    await job.remove();
    expect((await get(`${express.url}/readyz`)).status).toBe(200);
  });

  it('is not ready while Redis is down, says so and why, and ready again once it is back', async () => {
    await redis.kill();
    for (const host of hosts) {
      const ready = await get(`${host.url}/readyz`);
      expect([host.name, ready.status]).toEqual([host.name, 503]);
      expect(ready.json.checks.redis.ok).toBe(false);
      expect(ready.json.checks.redis.error).toContain('REDIS_URL');
      expect(ready.json.checks.database.ok).toBe(true);
      // Liveness is the process only, and metrics still answer (without queue depths).
      expect((await get(`${host.url}/healthz`)).status).toBe(200);
      const scraped = await get(`${host.url}/metrics`);
      expect(scraped.status).toBe(200);
      expect(scraped.text).not.toContain(`albumkit_queue_jobs{queue="${prefix}-webhook"`);
    }
    await redis.start();
    const express = hosts.find((h) => h.name === 'express')!;
    await until(async () => (await get(`${express.url}/readyz`)).status === 200, 30_000, 'readiness after Redis is back');
    for (const host of hosts) expect([host.name, (await get(`${host.url}/readyz`)).status]).toEqual([host.name, 200]);
  });

  it('answers only GET and HEAD on the operations paths', async () => {
    const express = hosts.find((h) => h.name === 'express')!;
    const head = await fetch(`${express.url}/readyz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await get(`${express.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
