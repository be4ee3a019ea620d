import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAlbumkit, type Albumkit } from '@albumkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTenant, uploadResult, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';
import { albumImages, EXIF, freePort, notificationPath, notificationRequest, serve, silent, timed, until } from './support.js';

const WEBHOOK_TIMEOUT_MS = 300;
const ATTEMPTS = 3;
const BACKOFF_MS = 50;

async function receiver(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string; hits: number }> {
  const state = { server: undefined as unknown as Server, url: '', hits: 0 };
  state.server = createServer((req, res) => {
    state.hits++;
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/hook`;
  return state;
}

/**
 * Webhook receivers that hang (never answer), refuse connections, or fail once: deliveries are
 * retried with backoff and every attempt is recorded, while uploads keep being processed and the
 * API keeps answering (webhooks run on their own queue with their own concurrency).
 */
describe('webhook receivers down or slow', () => {
  let albumkit: Albumkit;
  let worker: RunningWorker;
  let http: Awaited<ReturnType<typeof serve>>;
  let tenant: Tenant;
  let closeDb: () => Promise<void>;
  const receivers: { server: Server }[] = [];
  const prefix = uniquePrefix();

  beforeAll(async () => {
    const database = await createTestDatabase();
    closeDb = database.close;
    albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      webhookTimeoutMs: WEBHOOK_TIMEOUT_MS,
      database,
      logger: silent,
      jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix, retry: { webhook: { attempts: ATTEMPTS, backoffMs: BACKOFF_MS } } }),
    });
    worker = startWorker({ albumkit, redisUrl: REDIS_URL, prefix, logger: silent });
    http = await serve(albumkit);
    tenant = await createTenant({ albumkit } as never);
  });

  afterAll(async () => {
    await worker?.close(3000);
    await http?.close();
    for (const r of receivers) {
      r.server.closeAllConnections();
      await new Promise((resolve) => r.server.close(resolve));
    }
    await albumkit?.close();
    await closeDb?.();
  });

  it('retries with backoff, records every attempt, and blocks neither uploads nor the API', async () => {
    // Never answers (longer than the webhook timeout): each attempt is cut at the timeout.
    const hanging = await receiver(() => {});
    // Fails the first attempt of each delivery, accepts the next.
    const seen = new Set<string>();
    const flaky = await receiver((req, res) => {
      const delivery = String(req.headers['x-albumkit-delivery'] ?? '');
      const eventId = delivery.split('/')[0]!;
      if (seen.has(eventId)) return void res.writeHead(204).end();
      seen.add(eventId);
      res.writeHead(500).end('try later');
    });
    receivers.push(hanging, flaky);
    const refusedUrl = `http://127.0.0.1:${await freePort()}/hook`; // nothing listens there
    const [hangingHook, flakyHook, refusedHook] = [
      await albumkit.setup.addWebhook(tenant.organization.id, hanging.url, ['processed_image']),
      await albumkit.setup.addWebhook(tenant.organization.id, flaky.url, ['processed_image']),
      await albumkit.setup.addWebhook(tenant.organization.id, refusedUrl, ['processed_image']),
    ];

    const path = await notificationPath(albumkit, tenant, 'HOOKS');
    const token = await tenant.userToken({ HOOKS: { Access: { image_list: true } } });
    const uploads = Array.from({ length: 30 }, (_, i) => uploadResult({ public_id: `hook-${i}`, image_metadata: EXIF }));
    const started = performance.now();
    const answers = await Promise.all(
      uploads.map((u) => {
        const { body, headers } = notificationRequest(u);
        return timed(`${http.base}${path}`, { method: 'POST', headers, body });
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));

    // Uploads are processed while the webhook queue is stuck on the hanging receiver.
    await until(
      async () => {
        const images = await albumImages(albumkit, tenant.organization.id, 'HOOKS');
        return images.length === uploads.length && images.every((i) => i.processed);
      },
      30_000,
      'every image processed',
    );
    const processedAfterMs = performance.now() - started;
    // The API answers promptly meanwhile.
    const images = await albumImages(albumkit, tenant.organization.id, 'HOOKS');
    const latencies: number[] = [];
    for (const image of images.slice(0, 10)) {
      const read = await timed(`${http.base}/api/v1/images/${image.id}`, { headers: { Authorization: `Token token="${token}"` } });
      expect(read.status).toBe(200);
      latencies.push(read.ms);
    }
    expect(Math.max(...latencies)).toBeLessThan(1000);

    // Every event: the hanging and refused receivers get all attempts recorded as failed, the flaky one is delivered on its second.
    const events = await albumkit.database.db
      .selectFrom('events')
      .select(['id', 'type'])
      .where('organization_id', '=', tenant.organization.id)
      .where('type', '=', 'processed_image')
      .execute();
    expect(events).toHaveLength(uploads.length);
    await until(
      async () => {
        for (const event of events) {
          const deliveries = await albumkit.repositories.webhooks.deliveries(event.id);
          const of = (id: string) => deliveries.filter((d) => d.webhook_id === id);
          if (of(hangingHook.id).length < ATTEMPTS || of(refusedHook.id).length < ATTEMPTS || !of(flakyHook.id).some((d) => d.status === 'delivered')) return false;
        }
        return true;
      },
      60_000,
      'every delivery attempt recorded',
    );
    for (const event of events) {
      const deliveries = await albumkit.repositories.webhooks.deliveries(event.id);
      const of = (id: string) => deliveries.filter((d) => d.webhook_id === id).sort((a, b) => a.attempt - b.attempt);
      for (const hook of [hangingHook, refusedHook]) {
        const attempts = of(hook.id);
        expect(attempts.map((d) => d.attempt)).toEqual([1, 2, 3]);
        expect(attempts.every((d) => d.status === 'failed' && d.response_status === null && d.error)).toBe(true);
        // Backoff: each retry starts after the previous attempt ended plus a delay.
        for (let i = 1; i < attempts.length; i++) {
          const previousEnd = attempts[i - 1]!.created_at.getTime();
          const thisStart = attempts[i]!.created_at.getTime() - attempts[i]!.duration_ms;
          expect(thisStart - previousEnd).toBeGreaterThanOrEqual(BACKOFF_MS * 0.5 * 2 ** (i - 1) - 15);
        }
      }
      // The hanging receiver's attempts are cut at the timeout (not left hanging).
      for (const d of of(hangingHook.id)) expect(d.duration_ms).toBeLessThan(WEBHOOK_TIMEOUT_MS + 1500);
      const flakyAttempts = of(flakyHook.id);
      expect(flakyAttempts.map((d) => [d.attempt, d.status, d.response_status])).toEqual([
        [1, 'failed', 500],
        [2, 'delivered', 204],
      ]);
    }
    expect(hanging.hits).toBe(uploads.length * ATTEMPTS);
    // Given up after the last attempt: failed jobs kept for inspection, nothing retried forever.
    await until(async () => (await (albumkit.jobs as BullMqJobs).counts()).webhook.failed === uploads.length * 2, 20_000, 'failed webhook jobs');
    const counts = await (albumkit.jobs as BullMqJobs).counts();
    expect(counts.notification.failed).toBe(0);
    console.log(`webhooks: ${uploads.length} uploads processed in ${Math.round(processedAfterMs)} ms while receivers hung/refused; API max latency ${Math.round(Math.max(...latencies))} ms`);
  }, 120_000);
});
