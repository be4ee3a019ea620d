import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessJobs } from '../src/jobs/in-process.js';
import { authorization, createTestApp, type TestApp } from './support/app.js';
import { access, createTenant, uploadResult, type Tenant } from './support/fixtures.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A webhook receiver that answers with the statuses it is given, then 200. */
async function receiver(statuses: number[] = []) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, close: () => new Promise((r) => server.close(r)) };
}

describe('events and webhooks (PostgreSQL)', () => {
  let app: TestApp;
  let tenant: Tenant;
  let jobs: InProcessJobs;

  beforeAll(async () => {
    app = await createTestApp('postgres', {
      jobs: (albumkit) => (jobs = new InProcessJobs(albumkit.processors, { attempts: 4, backoffMs: 20 })),
    });
    tenant = await createTenant(app);
  });
  afterAll(() => app?.close());

  async function upload(album: string) {
    const token = await tenant.userToken({ [album]: access('image_upload') });
    return app.request({
      method: 'POST',
      path: `/api/v1/albums/${album}/images`,
      headers: { ...authorization(token), 'Content-Type': 'application/json' },
      rawBody: JSON.stringify({ cloudinary: uploadResult() }),
    });
  }

  it('delivers new image and upload done events as signed, form-encoded webhooks, and tells in-process listeners', async () => {
    const hook = await receiver();
    const webhook = await app.albumkit.setup.addWebhook(tenant.organization.id, hook.url);
    const heard: string[] = [];
    const stop = app.albumkit.on('new_image', (e) => void heard.push(e.image_id));
    const image = (await upload('W1')).json;
    const token = await tenant.userToken({ W1: access('image_upload') });
    await app.request({ method: 'POST', path: '/api/v1/albums/W1/upload_done', headers: authorization(token) });
    await jobs.drain();
    stop();

    expect(heard).toEqual([image.id]);
    // Each delivery is a job of its own (run concurrently, retried with backoff): albumkit promises
    // every event once to every subscriber, not an order between events. The upload's new_image
    // delivery reads the image too, and can reach the receiver after upload_done's.
    const delivered = (type: string) => hook.received.filter((r) => r.headers['x-albumkit-event'] === type);
    expect(hook.received.map((r) => r.headers['x-albumkit-event']).sort()).toEqual(['new_image', 'upload_done']);
    for (const { headers, body } of hook.received) {
      expect(headers['content-type']).toBe('application/x-www-form-urlencoded');
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(headers['x-albumkit-signature']))!;
      expect(v1).toBe(createHmac('sha256', webhook.secret).update(`${t}.${body}`).digest('hex'));
    }
    const newImage = JSON.parse(new URLSearchParams(delivered('new_image')[0]!.body).get('p')!);
    expect(newImage).toMatchObject({ album_id: 'W1', image_id: image.id, image: { id: image.id, processed: false } });
    const done = JSON.parse(new URLSearchParams(delivered('upload_done')[0]!.body).get('p')!);
    expect(done).toEqual({ count: 1, platform: 'web', album_id: 'W1', image_ids: [image.id] });
    await hook.close();
  });

  it('retries a failing receiver with backoff and records every attempt', async () => {
    const other = await createTenant(app);
    tenant = other;
    const hook = await receiver([500, 503]);
    await app.albumkit.setup.addWebhook(other.organization.id, hook.url, ['new_image']);
    await upload('W2');
    await jobs.drain();
    expect(hook.received).toHaveLength(3);
    const [event] = (await app.albumkit.repositories.events.list(other.organization.id, 'W2')).filter((e) => e.type === 'new_image');
    const deliveries = await app.albumkit.repositories.webhooks.deliveries(event!.id);
    expect(deliveries.map((d) => [d.attempt, d.status, d.response_status])).toEqual([
      [1, 'failed', 500],
      [2, 'failed', 503],
      [3, 'delivered', 200],
    ]);
    await hook.close();
  });

  it('records a receiver that is down as failed deliveries, without failing the request', async () => {
    const other = await createTenant(app);
    tenant = other;
    await app.albumkit.setup.addWebhook(other.organization.id, 'http://127.0.0.1:9/unreachable');
    const response = await upload('W3');
    expect(response.status).toBe(200);
    await jobs.drain();
    const [event] = await app.albumkit.repositories.events.list(other.organization.id, 'W3');
    const deliveries = await app.albumkit.repositories.webhooks.deliveries(event!.id);
    expect(deliveries).toHaveLength(4);
    expect(deliveries.every((d) => d.status === 'failed' && d.error)).toBe(true);
  });

  it('marks an image processed once, removing the thumbnail placeholder and choosing EXIF GPS first', async () => {
    const image = (await upload('W4')).json;
    const processed: string[] = [];
    const stop = app.albumkit.on('processed_image', (e) => void processed.push(e.image_id));
    const result = { gpsExifs: [-33.9, 18.4] as [number, number], takenAt: new Date('2020-01-02T03:04:05.678Z'), width: 480, height: 640 };
    await app.albumkit.images.markProcessed(tenant.organization.id, image.id, result);
    await app.albumkit.images.markProcessed(tenant.organization.id, image.id, { ...result, width: 1 });
    stop();
    const token = await tenant.userToken();
    const json = (await app.request({ method: 'GET', path: `/api/v1/images/${image.id}`, headers: authorization(token) })).json;
    expect(processed).toEqual([image.id]);
    expect(json).toMatchObject({ processed: true, processing_error: null, gps: [-33.9, 18.4], gps_exifs: [-33.9, 18.4], width: 480, height: 640 });
    expect(json.taken_at).toBe('2020-01-02T03:04:05.678+00:00');
    expect(json.thumbnails.large).toMatch(/^https:\/\//);
    expect(json.external_urls.fill100).toMatch(/^https:\/\//);
  });
});

/** Webhook receivers are remote targets like imports: public addresses only unless allowed, no redirects, no body read. */
describe('webhook targets under the remote policy (PostgreSQL)', () => {
  let app: TestApp;
  let tenant: Tenant;
  let jobs: InProcessJobs;
  const servers: Server[] = [];
  let allowed: Awaited<ReturnType<typeof receiver>>;
  let redirected: Awaited<ReturnType<typeof receiver>>;
  let redirecting: Server;
  let endless: Server;
  const endlessClosed: Promise<number>[] = [];
  let loopbackHits = 0;
  let loopback: Server;

  const listen = async (server: Server) => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  beforeAll(async () => {
    allowed = await receiver();
    redirected = await receiver();
    redirecting = createServer((req, res) => {
      req.resume();
      res.writeHead(307, { Location: redirected.url }).end();
    });
    // Answers 200 and then sends its body for ever: a delivery must not wait for (or buffer) it.
    endless = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 120);
      let sent = 0;
      endlessClosed.push(new Promise((resolve) => res.on('close', () => resolve(sent))));
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
      };
      res.on('drain', pump);
      pump();
    });
    loopback = createServer((req, res) => {
      loopbackHits++;
      req.resume();
      res.end();
    });
    const ports = [new URL(allowed.url).port, new URL(redirected.url).port, String(await listen(redirecting)), String(await listen(endless))];
    await listen(loopback);
    app = await createTestApp('postgres', {
      webhookPrivateHosts: ports.map((port) => `127.0.0.1:${port}`),
      jobs: (albumkit) => (jobs = new InProcessJobs(albumkit.processors, { attempts: 3, backoffMs: 10 })),
    });
    tenant = await createTenant(app);
  });
  afterAll(async () => {
    await app?.close();
    await allowed?.close();
    await redirected?.close();
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });

  async function deliveriesOfUpload(album: string) {
    const token = await tenant.userToken({ [album]: access('image_upload') });
    const response = await app.request({
      method: 'POST',
      path: `/api/v1/albums/${album}/images`,
      headers: { ...authorization(token), 'Content-Type': 'application/json' },
      rawBody: JSON.stringify({ cloudinary: uploadResult() }),
    });
    expect(response.status).toBe(200);
    await jobs.drain();
    const [event] = (await app.albumkit.repositories.events.list(tenant.organization.id, album)).filter((e) => e.type === 'new_image');
    return app.albumkit.repositories.webhooks.deliveries(event!.id);
  }

  it('refuses a webhook whose URL is a private, loopback or metadata address, or not plain http(s), and stores nothing', async () => {
    const other = await createTenant(app);
    const loopbackPort = (loopback.address() as AddressInfo).port;
    for (const [url, reason] of [
      [`http://127.0.0.1:${loopbackPort}/hook`, 'not a public address'],
      ['http://[::1]/hook', 'not a public address'],
      ['http://10.1.2.3/hook', 'not a public address'],
      ['http://192.168.0.10:8080/hook', 'not a public address'],
      ['http://169.254.169.254/latest/meta-data', 'not a public address'],
      ['http://[::ffff:127.0.0.1]/hook', 'not a public address'],
      ['http://user:password@example.com/hook', 'credentials'],
      ['ftp://example.com/hook', 'http and https only'],
      ['not a url', 'not a valid absolute URL'],
    ] as const) {
      await expect(app.albumkit.setup.addWebhook(other.organization.id, url), url).rejects.toThrow(reason);
    }
    expect(await app.albumkit.repositories.webhooks.active(other.organization.id)).toEqual([]);
  });

  it('does not deliver to a host name that resolves to loopback: one failed attempt with the reason, not retried', async () => {
    const other = await createTenant(app);
    tenant = other;
    // `localhost` passes the form check (a name), and is refused on the address it resolves to.
    await app.albumkit.setup.addWebhook(other.organization.id, `http://localhost:${(loopback.address() as AddressInfo).port}/hook`, ['new_image']);
    const deliveries = await deliveriesOfUpload('P1');
    expect(deliveries.map((d) => [d.attempt, d.status, d.response_status])).toEqual([[1, 'failed', null]]);
    expect(deliveries[0]!.error).toMatch(/resolves to (127\.0\.0\.1|::1), not a public address/);
    expect(loopbackHits).toBe(0);
  });

  it('delivers to an allowed private receiver, and does not follow its redirect', async () => {
    const other = await createTenant(app);
    tenant = other;
    await app.albumkit.setup.addWebhook(other.organization.id, allowed.url, ['new_image']);
    await app.albumkit.setup.addWebhook(other.organization.id, `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`, ['new_image']);
    const deliveries = await deliveriesOfUpload('P2');
    expect(allowed.received).toHaveLength(1);
    const toRedirect = deliveries.filter((d) => d.response_status === 307);
    // A 3xx is the receiver's answer, not a success: recorded failed and retried, never followed.
    expect(toRedirect.map((d) => [d.attempt, d.status, d.error])).toEqual([
      [1, 'failed', 'receiver answered 307'],
      [2, 'failed', 'receiver answered 307'],
      [3, 'failed', 'receiver answered 307'],
    ]);
    expect(redirected.received).toHaveLength(0);
  });

  it('does not read a receiver\'s response body: an endless one is dropped once the status is in', async () => {
    const other = await createTenant(app);
    tenant = other;
    await app.albumkit.setup.addWebhook(other.organization.id, `http://127.0.0.1:${(endless.address() as AddressInfo).port}/hook`, ['new_image']);
    const deliveries = await deliveriesOfUpload('P3');
    expect(deliveries.map((d) => [d.attempt, d.status, d.response_status])).toEqual([[1, 'delivered', 200]]);
    // The connection was closed by albumkit, after at most what the socket buffers took.
    const sent = await endlessClosed[0];
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
