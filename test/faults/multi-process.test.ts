import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAlbumkit, jobId, webhookSignature, type Albumkit } from '@albumkit/core';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { queueName } from '../../packages/worker/src/queues.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';
import { freePort, silent, until } from './support.js';

const IMAGES = 2_000;
/** One upload in four is also posted by the client (to the other HTTP process), racing Cloudinary's notification. */
const CLIENT_POST_EVERY = 4;
/** The worker is killed once this many images are processed, and a backlog of this many notifications has built up. */
const KILL_AFTER = 500;
const BACKLOG = 200;
const UPLOADS_AT_ONCE = 12;
const WORKERS = 3;
/** Webhook jobs each worker runs at once: the test holds the receiver's answers until every slot of every worker is waiting on it. */
const WEBHOOK_CONCURRENCY = 4;
/** Notification jobs each worker runs at once: fewer than the backlog, so that every worker is busy with it. */
const NOTIFICATION_CONCURRENCY = 10;
/** Short locks, so that the killed worker's jobs are taken over within seconds (defaults: 30 s). */
const LOCK_DURATION_MS = 4000;
const STALLED_INTERVAL_MS = 1000;
/** The workers' sweep (outbox, lost jobs) looks at what has waited this long (default 5 minutes). */
const SWEEP_AFTER_MS = 3000;
const ALBUM = 'MULTI';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HTTP_HOST = fileURLToPath(new URL('./processes/http-host.mjs', import.meta.url));
const WORKER = fileURLToPath(new URL('./processes/worker.mjs', import.meta.url));
const PHOTOS = new URL('../fixtures/photos/', import.meta.url);
// With EXIF (the notification carries image_metadata: created processed by the notification job),
// and without (the metadata job reads the original from the local Cloudinary).
const FILES = ['orientation-f6t.jpg', 'noexif.jpg'].map((name) => ({ name, bytes: readFileSync(new URL(name, PHOTOS)) }));

/** A child process whose output goes to a log file of its own. */
class Child {
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  constructor(
    readonly name: string,
    readonly logFile: string,
    args: string[],
    env: Record<string, string>,
  ) {
    const fd = openSync(logFile, 'a');
    this.process = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.exited = new Promise((resolve) => this.process.once('exit', (code, signal) => resolve({ code, signal })));
  }
  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }
  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
  async waitForLog(pattern: RegExp, what: string): Promise<void> {
    await until(() => {
      if (!this.running) throw new Error(`${this.name} exited before ${what}:\n${this.log()}`);
      return pattern.test(this.log());
    }, 60_000, `${this.name}: ${what}`);
  }
  async stop(): Promise<void> {
    if (!this.running) return;
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.process.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

interface Received {
  eventId: string;
  /** The attempt in `X-Albumkit-Delivery: <event id>/<attempt>`. */
  attempt: string;
  imageId: string;
  at: number;
  /** Its answer was held back at the kill, and the connection then dropped by the killed worker. */
  cut: boolean;
}

/**
 * Several processes on one PostgreSQL and one Redis: two HTTP host processes (node:http and
 * Express), three worker processes (what `albumkit-worker` runs: processes/worker.mjs), the local
 * Cloudinary server and a webhook receiver in the test. 2,000 real uploads through both hosts'
 * upload forms, Cloudinary's notifications to each host, some client posts of the upload results
 * racing them; one worker SIGKILLed mid-run.
 */
describe('several processes: two HTTP hosts, three workers, one killed mid-run', () => {
  let cloud: LocalCloudinary;
  let albumkit: Albumkit;
  let jobs: BullMqJobs;
  let tenant: Tenant;
  let closeDb: () => Promise<void>;
  let receiver: Server;
  let logDir: string;
  const children: Child[] = [];
  const queueEvents: QueueEvents[] = [];
  const prefix = uniquePrefix();

  beforeAll(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'albumkit-multi-'));
    cloud = await startLocalCloudinary({ notificationRetryDelaysMs: [500, 2000, 5000] });
    const database = await createTestDatabase();
    closeDb = database.close;
    jobs = new BullMqJobs({ redisUrl: REDIS_URL, prefix });
    albumkit = await createAlbumkit({
      secret: TEST_CONFIG.secret,
      cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      publicUrl: 'http://127.0.0.1:1/api/v1', // this instance only sets up and reads
      webhookPrivateHosts: ['127.0.0.1:*'],
      database,
      logger: silent,
      jobs: () => jobs,
    });
    tenant = await createTenant({ albumkit } as never);

    const env = {
      DATABASE_URL: database.url,
      REDIS_URL,
      ALBUMKIT_SECRET: TEST_CONFIG.secret,
      CLOUDINARY_URL: cloud.cloudinaryUrl,
      ALBUMKIT_QUEUE_PREFIX: prefix,
      // The webhook receiver of this test listens on loopback.
      ALBUMKIT_WEBHOOK_PRIVATE_HOSTS: '127.0.0.1:*',
    };
    for (const adapter of ['node', 'express']) {
      const port = await freePort();
      const child = new Child(`http-${adapter}`, join(logDir, `http-${adapter}.log`), [HTTP_HOST], {
        ...env,
        PORT: String(port),
        ALBUMKIT_PUBLIC_URL: `http://127.0.0.1:${port}/api/v1`,
        HOST_ADAPTER: adapter,
      });
      children.push(Object.assign(child, { base: `http://127.0.0.1:${port}/api/v1` }));
    }
    for (let i = 0; i < WORKERS; i++) {
      children.push(
        new Child(`worker-${i}`, join(logDir, `worker-${i}.log`), [WORKER], {
          ...env,
          ALBUMKIT_LOCK_DURATION_MS: String(LOCK_DURATION_MS),
          ALBUMKIT_STALLED_INTERVAL_MS: String(STALLED_INTERVAL_MS),
          WEBHOOK_CONCURRENCY: String(WEBHOOK_CONCURRENCY),
          NOTIFICATION_CONCURRENCY: String(NOTIFICATION_CONCURRENCY),
          SWEEP_AFTER_MS: String(SWEEP_AFTER_MS),
        }),
      );
    }
    for (const child of children) await child.waitForLog(/"msg":"(listening|albumkit worker started)"/, 'started');
    for (const name of ['notification', 'metadata', 'webhook'] as const) {
      const { hostname, port } = new URL(REDIS_URL);
      const events = new QueueEvents(queueName(prefix, name), { connection: { host: hostname, port: Number(port || 6379) } });
      await events.waitUntilReady();
      queueEvents.push(events);
    }
  }, 120_000);

  afterAll(async () => {
    // Every child is stopped, whatever happened (SIGTERM, then SIGKILL after 5 s).
    await Promise.all(children.map((c) => c.stop()));
    await Promise.all(queueEvents.map((q) => q.close()));
    if (receiver) {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
    await albumkit?.close();
    await jobs?.close();
    await cloud?.close();
    await closeDb?.();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  it('2,000 uploads: each image processed once, each webhook delivered once (again only if its answer was lost), nothing failed', async () => {
    onTestFailed(() => {
      for (const child of children) {
        const lines = child.log().trimEnd().split('\n');
        console.error(`---- ${child.name} (${child.logFile}, last 200 of ${lines.length} lines)\n${lines.slice(-200).join('\n')}`);
      }
    });
    const [httpNode, httpExpress] = children.slice(0, 2) as [Child & { base: string }, Child & { base: string }];
    const workers = children.slice(2);
    const victim = workers[0]!;

    // The webhook receiver: checks each delivery's signature and records its event id. While
    // `holding`, it keeps its answers back (a receiver that is slow for a moment).
    const received: Received[] = [];
    const held: { entry: Received; res: ServerResponse; closed: boolean }[] = [];
    let holding = false;
    let hookSecret = '';
    receiver = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const signature = String(req.headers['x-albumkit-signature'] ?? '');
        const t = Number(/t=(\d+)/.exec(signature)?.[1]);
        if (signature !== webhookSignature(hookSecret, body, t)) return void res.writeHead(401).end();
        const [eventId, attempt] = String(req.headers['x-albumkit-delivery']).split('/') as [string, string];
        const p = JSON.parse(new URLSearchParams(body).get('p')!);
        const entry: Received = { eventId, attempt, imageId: p.image_id, at: performance.now(), cut: false };
        received.push(entry);
        if (!holding) return void res.writeHead(204).end();
        const wait = { entry, res, closed: false };
        held.push(wait);
        req.socket.once('close', () => (wait.closed = true));
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = await albumkit.setup.addWebhook(tenant.organization.id, `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, ['processed_image']);
    hookSecret = hook.secret;

    const stalled = new Map<string, Set<string>>();
    for (const events of queueEvents) {
      const set = new Set<string>();
      stalled.set(events.name.slice(prefix.length + 1), set);
      events.on('stalled', ({ jobId }) => set.add(jobId));
    }

    // Each host hands out its own upload form: its notification_url leads back to that host.
    const token = await tenant.userToken({ [ALBUM]: access('image_upload', 'image_list') });
    const auth = { Authorization: `Token token="${token}"` };
    const forms = await Promise.all(
      [httpNode, httpExpress].map(async (host) => {
        const response = await fetch(`${host.base}/albums/${ALBUM}`, { headers: auth });
        expect(response.status).toBe(200);
        const form = ((await response.json()) as any).upload_form;
        expect(form.params.notification_url.startsWith(`${host.base}/`)).toBe(true);
        return form as { url: string; params: Record<string, unknown> };
      }),
    );

    const processedCount = async () =>
      Number(
        (
          await albumkit.database.db
            .selectFrom('images')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('organization_id', '=', tenant.organization.id)
            .where('processed', '=', true)
            .executeTakeFirstOrThrow()
        ).n,
      );

    const started = performance.now();
    const startedAt = Date.now();
    const keys = new Set<string>();
    const clientPosts = { sent: 0, statuses: new Map<number, number>() };
    let kill: { atMs: number; processed: number; received: number; active: Record<string, number> } | undefined;

    // Once KILL_AFTER images are processed, the notification and metadata queues are paused until
    // a backlog has built up, so that every worker is busy with them once they resume; meanwhile the
    // receiver holds its answers until every webhook slot of every worker waits on it. Then one
    // worker is SIGKILLed: its deliveries were received, their answers never reach albumkit, and
    // it dies with whatever notification and metadata jobs it was running.
    const killer = (async () => {
      await until(async () => (await processedCount()) >= KILL_AFTER, 300_000, `${KILL_AFTER} images processed`);
      const paused = [jobs.queue('notification'), jobs.queue('metadata')];
      await Promise.all(paused.map((q) => q.pause()));
      await until(async () => {
        const c = await jobs.queue('notification').getJobCounts('waiting', 'paused');
        return (c.waiting ?? 0) + (c.paused ?? 0) >= BACKLOG;
      }, 120_000, `a backlog of ${BACKLOG} notifications`);
      holding = true;
      await Promise.all(paused.map((q) => q.resume()));
      await until(() => held.length === WORKERS * WEBHOOK_CONCURRENCY, 60_000, 'every webhook slot of every worker waiting on the receiver');
      const active = Object.fromEntries(
        await Promise.all((['notification', 'metadata', 'webhook'] as const).map(async (n) => [n, await jobs.queue(n).getActiveCount()] as const)),
      );
      active.notificationsWaiting = await jobs.queue('notification').getWaitingCount();
      victim.process.kill('SIGKILL');
      kill = { atMs: performance.now() - started, processed: await processedCount(), received: received.length, active };
      expect((await victim.exited).signal).toBe('SIGKILL');
      // The killed worker's connections close; the others' requests still wait for their answer.
      await until(() => held.filter((h) => h.closed).length === WEBHOOK_CONCURRENCY, 10_000, "the killed worker's deliveries cut");
      holding = false;
      for (const h of held) {
        h.entry.cut = h.closed;
        if (!h.closed) h.res.writeHead(204).end();
      }
    })();
    killer.catch(() => {}); // awaited below; a failed upload must not leave it unhandled meanwhile

    let next = 0;
    await Promise.all(
      Array.from({ length: UPLOADS_AT_ONCE }, async () => {
        while (next < IMAGES) {
          const i = next++;
          const form = forms[i % 2]!;
          const file = FILES[Math.floor(i / 2) % 2]!;
          const body = new FormData();
          for (const [k, v] of Object.entries(form.params)) body.append(k, String(v));
          body.append('file', new Blob([file.bytes]), file.name);
          const upload = await fetch(form.url, { method: 'POST', body });
          expect(upload.status).toBe(200);
          const result = (await upload.json()) as Record<string, any>;
          keys.add(`${result.public_id}@${result.version}`);
          if (i % CLIENT_POST_EVERY === 1) {
            // The client posts the result to the other host, while Cloudinary notifies this one.
            const other = i % 2 === 0 ? httpExpress : httpNode;
            const posted = await fetch(`${other.base}/albums/${ALBUM}/images`, {
              method: 'POST',
              headers: { ...auth, 'Content-Type': 'application/json' },
              body: JSON.stringify({ cloudinary: result }),
            });
            await posted.body?.cancel();
            clientPosts.sent++;
            clientPosts.statuses.set(posted.status, (clientPosts.statuses.get(posted.status) ?? 0) + 1);
          }
        }
      }),
    );
    const uploadedMs = performance.now() - started;
    await killer;

    const imageRows = () =>
      albumkit.database.db
        .selectFrom('images')
        .select(['id', 'upload_key', 'processed', 'album_id'])
        .where('organization_id', '=', tenant.organization.id)
        .execute();
    await until(async () => {
      const rows = await imageRows();
      return rows.length >= IMAGES && rows.every((r) => r.processed);
    }, 240_000, 'every image processed');
    const processedMs = performance.now() - started;
    // Every event delivered (a missing one fails below, with what albumkit recorded of it), and
    // the queues drained: nothing left that could send a delivery again.
    await until(() => new Set(received.map((r) => r.eventId)).size >= IMAGES, 60_000, 'a webhook delivery of every event').catch(() => {});
    const deliveredMs = performance.now() - started;
    await until(async () => {
      const counts = await jobs.counts();
      return (['notification', 'metadata', 'webhook'] as const).every((n) => counts[n].waiting + counts[n].active + counts[n].delayed === 0);
    }, 60_000, 'queues drained');

    // Every upload is one processed image of the album.
    expect(keys.size).toBe(IMAGES);
    const rows = await imageRows();
    expect(rows).toHaveLength(IMAGES);
    expect(new Set(rows.map((r) => r.upload_key))).toEqual(keys);
    expect(rows.every((r) => r.processed && r.album_id === ALBUM)).toBe(true);
    expect(Object.fromEntries(clientPosts.statuses)).toEqual({ 200: clientPosts.sent });
    const album = await fetch(`${httpExpress.base}/albums/${ALBUM}`, { headers: auth });
    expect(((await album.json()) as any).images_count).toBe(IMAGES);
    // Cloudinary's notification of every upload was taken (2xx) by the host whose form it was.
    const taken = cloud.notifications.filter((n) => typeof n.status === 'number' && n.status >= 200 && n.status < 300);
    expect(new Set(taken.map((n) => JSON.parse(n.body).public_id)).size).toBe(IMAGES);

    // Processed exactly once: one new_image and one processed_image event per image.
    const events = await albumkit.database.db
      .selectFrom('events')
      .select(['id', 'type', 'payload', 'created_at'])
      .where('organization_id', '=', tenant.organization.id)
      .execute();
    const imageIds = new Set(rows.map((r) => r.id));
    for (const type of ['new_image', 'processed_image']) {
      const ofType = events.filter((e) => e.type === type).map((e) => (e.payload as { image_id: string }).image_id);
      expect(ofType, type).toHaveLength(IMAGES);
      expect(new Set(ofType), type).toEqual(imageIds);
    }
    const processedEvents = new Map(events.filter((e) => e.type === 'processed_image').map((e) => [e.id, (e.payload as { image_id: string }).image_id]));

    const byEvent = new Map<string, Received[]>();
    for (const r of received) byEvent.set(r.eventId, [...(byEvent.get(r.eventId) ?? []), r]);
    const recorded = await albumkit.database.db
      .selectFrom('webhook_deliveries')
      .select(['event_id', 'status', 'attempt', 'created_at'])
      .where('webhook_id', '=', hook.id)
      .execute();
    const recordedOf = (eventId: string) => recorded.filter((d) => d.event_id === eventId).map((d) => `${d.status} ${d.attempt} at ${d.created_at.getTime() - startedAt} ms`);
    const cut = received.filter((r) => r.cut);
    const takenOver = Object.fromEntries([...stalled].map(([name, ids]) => [name, ids.size]));
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    console.log(
      `multi-process: ${IMAGES} uploads (${clientPosts.sent} also posted by the client) in ${s(uploadedMs)}; all processed after ${s(processedMs)} ` +
        `(${Math.round(IMAGES / (processedMs / 1000))} images/s), every webhook received after ${s(deliveredMs)}; ` +
        `worker SIGKILLed at ${s(kill!.atMs)} with ${kill!.processed} processed and ${kill!.received} deliveries received ` +
        `(active jobs of all workers then: ${JSON.stringify(kill!.active)}); taken over: ${JSON.stringify(takenOver)}; ` +
        `deliveries received ${received.length} (${cut.length} cut by the kill), recorded ${recorded.length}; ` +
        `warnings/errors logged: ${children.map((c) => `${c.name} ${(c.log().match(/"level":(40|50|60)/g) ?? []).length}`).join(', ')}`,
    );

    // Webhooks: every processed_image event reached the receiver, with its image.
    const missing = [...processedEvents.keys()].filter((id) => !byEvent.has(id)).map((id) => ({ id, recorded: recordedOf(id) }));
    expect(missing, `events never delivered (worker killed at ${Math.round(kill!.atMs)} ms)`).toEqual([]);
    expect(byEvent.size).toBe(IMAGES);
    for (const [eventId, deliveries] of byEvent) expect(deliveries.every((d) => d.imageId === processedEvents.get(eventId))).toBe(true);
    // Exactly once, except the deliveries whose answer the kill cut off: albumkit cannot know they
    // arrived, so they came once more, from the worker that took the job over, with the same
    // X-Albumkit-Delivery (event id and attempt): the receiver dedupes them by event id.
    expect(cut).toHaveLength(WEBHOOK_CONCURRENCY);
    const repeats = [...byEvent]
      .filter(([, d]) => d.length > 1)
      .map(([eventId, d]) => ({ eventId, received: d.map((x) => `${x.cut ? 'cut' : 'answered'} ${x.attempt} at ${Math.round(x.at - started)} ms`), recorded: recordedOf(eventId) }));
    expect(repeats.map((r) => r.eventId).sort(), JSON.stringify(repeats, null, 1)).toEqual(cut.map((c) => c.eventId).sort());
    for (const c of cut) {
      const copies = byEvent.get(c.eventId)!;
      expect(copies).toHaveLength(2);
      expect(copies[1]!.cut).toBe(false);
      expect(copies[1]!.attempt).toBe(c.attempt);
      // Its job was the killed worker's, taken over as stalled.
      expect(stalled.get('webhook')!.has(jobId('webhook', { eventId: c.eventId, webhookId: hook.id }))).toBe(true);
    }
    // And albumkit recorded one successful delivery of each event, no failed attempt.
    expect(recorded.filter((d) => d.status !== 'delivered')).toEqual([]);
    expect(recorded).toHaveLength(IMAGES);
    expect(new Set(recorded.map((d) => d.event_id))).toEqual(new Set(processedEvents.keys()));

    // Nothing failed, and the other processes live on.
    const counts = await jobs.counts();
    for (const name of ['notification', 'metadata', 'webhook'] as const) expect(counts[name].failed, `${name} failed`).toBe(0);
    expect(children.filter((c) => c !== victim).every((c) => c.running)).toBe(true);
    // The kill came while every worker was busy with the backlog: some of its notification jobs were taken over too.
    expect(takenOver.notification).toBeGreaterThan(0);
  }, 420_000);
});
