import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { createAlbumkit, type Albumkit, type AlbumkitOptions } from '@albumkit/core';
import { Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { PURGE_SCHEDULER, queueName } from '../../packages/worker/src/queues.js';
import { startWorker } from '../../packages/worker/src/worker.js';

/**
 * The purge of the trash, on PostgreSQL against the local Cloudinary server: images trashed
 * longer ago than the retention lose their asset (unless another image still uses it) and
 * their row; everything else stays; a destroy that fails is finished by the next run; the
 * purge runs from the CLI, a timer in-process and a BullMQ job scheduler.
 */
const PHOTO = readFileSync(new URL('../fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));
const CLI = resolve(import.meta.dirname, '../../packages/core/dist/cli.js');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const silent = { error() {}, warn() {} };
const DAY = 24 * 3600 * 1000;

interface Row {
  id: string;
  organization_id: string;
  album_id: string;
  cloudinary_public_id: string;
  cloudinary_version: string;
  cloudinary_type: string;
  deleted_at: Date | null;
}

describe('the trash purge (PostgreSQL, local Cloudinary)', () => {
  let cloud: LocalCloudinary;
  let cloudDir: string;
  let cloudPort: number;
  let albumkit: Albumkit;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let acme: Tenant;
  let globex: Tenant;

  const startCloud = (port = 0) => startLocalCloudinary({ dir: cloudDir, port, notificationRetryDelaysMs: [] });
  const cloudinaryOf = (c: LocalCloudinary) => ({ cloudName: c.cloudName, apiKey: c.apiKey, apiSecret: c.apiSecret, uploadPrefix: c.url, deliveryPrefix: c.url });
  const albumkitOptions = (extra: Partial<AlbumkitOptions> = {}): AlbumkitOptions => ({
    secret: TEST_CONFIG.secret,
    cloudinary: cloudinaryOf(cloud),
    publicUrl: 'http://127.0.0.1:9/api/v1',
    database,
    migrate: false,
    logger: silent,
    purgeIntervalSeconds: 0,
    ...extra,
  });

  beforeAll(async () => {
    cloudDir = await mkdtemp(join(tmpdir(), 'albumkit-purge-cloud-'));
    cloud = await startCloud();
    cloudPort = Number(new URL(cloud.url).port);
    database = await createTestDatabase();
    albumkit = await createAlbumkit(albumkitOptions());
    acme = await createTenant({ albumkit } as never);
    globex = await createTenant({ albumkit } as never);
  });

  afterAll(async () => {
    await albumkit?.close();
    await cloud?.close();
    await database?.close();
    if (cloudDir) await rm(cloudDir, { recursive: true, force: true });
  });

  async function api(method: string, path: string, token: string, body?: unknown) {
    const response = await albumkit.handle({
      method,
      path: `/api/v1${path}`,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      rawBody: body ? JSON.stringify(body) : undefined,
    });
    return { status: response.status, json: response.body ? JSON.parse(response.body) : undefined };
  }

  const admin = (tenant: Tenant) => tenant.userToken({}, { admin: true });

  /** A photo uploaded to the local Cloudinary through the album's upload form, then posted as a client does. */
  async function upload(tenant: Tenant, album: string): Promise<string> {
    const token = await tenant.userToken({ [album]: access('image_upload', 'image_list') });
    const form = (await api('GET', `/albums/${album}`, token)).json.upload_form;
    const body = new FormData();
    for (const [k, v] of Object.entries(form.params)) body.append(k, String(v));
    body.append('file', new Blob([PHOTO]), 'photo.jpg');
    const result = await (await fetch(form.url, { method: 'POST', body })).json();
    const posted = await api('POST', `/albums/${album}/images`, token, { cloudinary: result });
    expect(posted.status).toBe(200);
    return posted.json.id as string;
  }

  async function duplicate(tenant: Tenant, id: string) {
    return api('POST', `/images/${id}/duplicate`, await admin(tenant));
  }

  async function trash(tenant: Tenant, id: string): Promise<void> {
    expect((await api('DELETE', `/images/${id}`, await admin(tenant))).status).toBe(204);
  }

  /** Moves an image's deletion back in time (as if it had been trashed that long ago). */
  async function trashedAgo(id: string, ms: number): Promise<void> {
    await albumkit.database.db.updateTable('images').set({ deleted_at: new Date(Date.now() - ms) }).where('id', '=', id).execute();
  }

  const row = (id: string) =>
    albumkit.database.db
      .selectFrom('images')
      .select(['id', 'organization_id', 'album_id', 'cloudinary_public_id', 'cloudinary_version', 'cloudinary_type', 'deleted_at'])
      .where('id', '=', id)
      .executeTakeFirst() as Promise<Row | undefined>;

  /** Status of the asset's original at the local Cloudinary's delivery. */
  async function delivered(image: Pick<Row, 'cloudinary_public_id' | 'cloudinary_version' | 'cloudinary_type'>): Promise<number> {
    const url = albumkit.delivery.url({ publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type }, '', 'jpg');
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status;
  }

  const pending = () => albumkit.database.db.selectFrom('asset_destroys' as never).selectAll().execute() as Promise<Array<Record<string, unknown>>>;

  it('destroys the asset and the row of images trashed longer ago than the retention; the rest stays', async () => {
    const old = await upload(acme, 'P1');
    const recent = await upload(acme, 'P1');
    const live = await upload(acme, 'P1');
    await trash(acme, old);
    await trash(acme, recent);
    await trashedAgo(old, 31 * DAY);
    await trashedAgo(recent, 29 * DAY);
    await albumkit.repositories.images.addTags(old, ['beach']);
    const oldRow = (await row(old))!;
    expect(await delivered(oldRow)).toBe(200);

    expect(await albumkit.purge.run()).toEqual({ images: 1, assets: 1 });
    expect(await row(old)).toBeUndefined();
    expect(await albumkit.database.db.selectFrom('tag_images').selectAll().where('image_id', '=', old).execute()).toEqual([]);
    expect(await delivered(oldRow)).toBe(404);
    // Inside the retention: still in the trash, restorable, its asset whole.
    expect((await row(recent))!.deleted_at).not.toBeNull();
    expect(await delivered((await row(recent))!)).toBe(200);
    expect((await api('DELETE', `/trashed_images/${recent}`, await admin(acme))).status).toBe(200);
    // Live images are never touched, whatever the retention.
    expect(await albumkit.purge.run({ olderThanDays: 0 })).toEqual({ images: 0, assets: 0 });
    expect((await api('GET', `/images/${live}`, await admin(acme))).status).toBe(200);
    expect(await delivered((await row(live))!)).toBe(200);
    expect(await pending()).toEqual([]);
  });

  it("purges one organization's trash without touching another's, nor an asset the other still uses", async () => {
    const mine = await upload(acme, 'P2');
    const theirs = await upload(globex, 'G2');
    const theirsTrashed = await upload(globex, 'G2');
    await trash(acme, mine);
    await trash(globex, theirsTrashed);
    // An image of globex's on acme's asset (an upload held in two organizations).
    const mineRow = (await row(mine))!;
    const { rows } = await sql(
      `insert into images (id, organization_id, album_id, cloudinary_public_id, cloudinary_version, cloudinary_type, infos, exifs, metadatas, width, height, original_width, original_height)
       select $1, $2, 'G2', cloudinary_public_id, cloudinary_version, cloudinary_type, infos, exifs, metadatas, width, height, original_width, original_height
       from images where id = $3 returning id`,
      [randomUUID(), globex.organization.id, mine],
    );
    expect(rows).toHaveLength(1);

    expect(await albumkit.purge.run({ olderThanDays: 0, organizationId: acme.organization.id })).toEqual({ images: 1, assets: 0 });
    expect(await row(mine)).toBeUndefined();
    expect(await delivered(mineRow)).toBe(200); // globex's image uses it
    expect((await row(theirsTrashed))!.deleted_at).not.toBeNull(); // globex's trash is its own
    expect(await delivered((await row(theirs))!)).toBe(200);

    const theirsRow = (await row(theirsTrashed))!;
    expect(await albumkit.purge.run({ olderThanDays: 0, organizationId: globex.organization.id })).toEqual({ images: 1, assets: 1 });
    expect(await delivered(theirsRow)).toBe(404);
    expect(await delivered(mineRow)).toBe(200);
    expect(await delivered((await row(theirs))!)).toBe(200);
  });

  it('keeps an asset shared with a duplicate while the duplicate lives, and destroys it with its last image', async () => {
    const source = await upload(acme, 'P3');
    const copy = (await duplicate(acme, source)).json.id as string;
    const asset = (await row(source))!;
    expect((await row(copy))!.cloudinary_public_id).toBe(asset.cloudinary_public_id);

    await trash(acme, source);
    expect(await albumkit.purge.run({ olderThanDays: 0 })).toEqual({ images: 1, assets: 0 });
    expect(await row(source)).toBeUndefined();
    expect(await delivered(asset)).toBe(200);
    expect((await api('GET', `/images/${copy}`, await admin(acme))).status).toBe(200);
    expect(await pending()).toEqual([]);

    // Trashed but inside the retention, the copy still holds it.
    await trash(acme, copy);
    expect(await albumkit.purge.run({ olderThanDays: 1 })).toEqual({ images: 0, assets: 0 });
    expect(await delivered(asset)).toBe(200);
    expect(await albumkit.purge.run({ olderThanDays: 0 })).toEqual({ images: 1, assets: 1 });
    expect(await delivered(asset)).toBe(404);
  });

  it('destroys in the same run what it has just queued, however quickly the run follows the deletion (20 runs)', async () => {
    // The outbox's due times have microseconds; a run that read its clock to the millisecond
    // left an asset queued in that same millisecond for the next run (an hour later by default).
    const images = [];
    for (let i = 0; i < 20; i++) images.push(await upload(acme, 'P_QUICK'));
    const results = [];
    for (const id of images) {
      await trash(acme, id);
      results.push(await albumkit.purge.run({ olderThanDays: 0 }));
    }
    expect(results).toEqual(images.map(() => ({ images: 1, assets: 1 })));
    expect(await pending()).toEqual([]);
  });

  it('waits for a copy being made from an image it purges, and keeps the asset the copy uses', async () => {
    const source = await upload(acme, 'P4');
    const asset = (await row(source))!;
    // A duplicate in flight: its statement read the source while it was live, and has not committed.
    const copier = new pg.Client({ connectionString: database.url });
    await copier.connect();
    const copyId = randomUUID();
    try {
      await copier.query('begin');
      await copier.query(
        `insert into images (id, organization_id, album_id, group_id, cloudinary_public_id, cloudinary_version, cloudinary_type, infos, exifs, metadatas, width, height, original_width, original_height)
         select $1, organization_id, album_id, id, cloudinary_public_id, cloudinary_version, cloudinary_type, infos, exifs, metadatas, width, height, original_width, original_height
         from images where id = $2 and deleted_at is null`,
        [copyId, source],
      );
      await trash(acme, source);
      const purged = albumkit.purge.run({ olderThanDays: 0 });
      // Once the purge has deleted the source, the copy commits.
      for (let i = 0; i < 500 && (await row(source)); i++) await sleep(10);
      expect(await row(source)).toBeUndefined();
      await copier.query('commit');
      expect(await purged).toEqual({ images: 1, assets: 0 });
    } finally {
      await copier.end();
    }
    expect((await row(copyId))!.deleted_at).toBeNull();
    expect(await delivered(asset)).toBe(200);
    expect(await pending()).toEqual([]);
  });

  it('races duplicates from several connections, trashing and purging: no live image ever loses its asset', async () => {
    const ASSETS = 4;
    const ROUNDS = 12;
    const heads = await Promise.all(Array.from({ length: ASSETS }, () => upload(acme, 'P5')));
    const token = await admin(acme);
    // Several albumkits: several pools, several connections duplicating at once.
    const others = await Promise.all([1, 2].map(() => createAlbumkit(albumkitOptions())));
    const handles = [albumkit, ...others];
    let destroyed = 0;
    try {
      const chains = heads.map(async (head, chain) => {
        let current = head;
        for (let round = 0; round < ROUNDS; round++) {
          const ak = handles[(chain + round) % handles.length]!;
          const call = (h: Albumkit, method: string, path: string) => h.handle({ method, path: `/api/v1${path}`, headers: { Authorization: `Bearer ${token}` } });
          // One copy of the head, then two more from other connections racing the head's trashing.
          const first = await call(ak, 'POST', `/images/${current}/duplicate`);
          expect(first.status).toBe(200);
          const [, ...racing] = await Promise.all([
            call(ak, 'DELETE', `/images/${current}`),
            ...[1, 2].map((k) => call(handles[(chain + round + k) % handles.length]!, 'POST', `/images/${current}/duplicate`)),
          ]);
          const ids = [first, ...racing].filter((r) => r.status === 200).map((r) => JSON.parse(r.body!).id as string);
          // Trash all copies but one; the survivor is the next head.
          await Promise.all(ids.slice(1).map((id) => call(ak, 'DELETE', `/images/${id}`)));
          current = ids[0]!;
        }
        return current;
      });
      const purges = (async () => {
        for (let i = 0; i < 3 * ROUNDS; i++) destroyed += (await handles[i % handles.length]!.purge.run({ olderThanDays: 0 })).assets;
      })();
      const survivors = await Promise.all(chains);
      await purges;
      // Every image left in the trash goes, then every live image still has its asset.
      await albumkit.purge.run({ olderThanDays: 0 });
      const rows = await albumkit.database.db
        .selectFrom('images')
        .select(['id', 'cloudinary_public_id', 'cloudinary_version', 'cloudinary_type', 'deleted_at'])
        .where('organization_id', '=', acme.organization.id)
        .where('album_id', '=', 'P5')
        .execute();
      expect(rows.every((r) => r.deleted_at === null)).toBe(true);
      expect(rows.map((r) => r.id).sort()).toEqual([...survivors].sort());
      for (const image of rows) expect(await delivered(image as Row)).toBe(200);
      expect(await pending()).toEqual([]);
    } finally {
      await Promise.all(others.map((o) => o.close()));
    }
    // The assets are shared along each chain: none may have been destroyed.
    expect(destroyed).toBe(0);
  });

  it('a destroy that fails stays in the outbox, and the next run finishes it', async () => {
    const id = await upload(acme, 'P6');
    const asset = (await row(id))!;
    await trash(acme, id);
    await cloud.close();
    try {
      expect(await albumkit.purge.run({ olderThanDays: 0 })).toEqual({ images: 1, assets: 0 });
      const [entry] = await pending();
      expect(entry).toMatchObject({ public_id: asset.cloudinary_public_id, type: asset.cloudinary_type, attempts: 1 });
      expect(String(entry!.last_error)).toMatch(/destroy of/);
    } finally {
      cloud = await startCloud(cloudPort);
    }
    expect(await delivered(asset)).toBe(200);
    expect(await albumkit.purge.run({ olderThanDays: 0 })).toEqual({ images: 0, assets: 1 });
    expect(await delivered(asset)).toBe(404);
    expect(await pending()).toEqual([]);
  });

  it('albumkit trash purge [--older-than DAYS] purges and prints what it purged', async () => {
    const old = await upload(acme, 'P7');
    const recent = await upload(acme, 'P7');
    await trash(acme, old);
    await trash(acme, recent);
    await trashedAgo(old, 10 * DAY);
    const oldRow = (await row(old))!;
    const env = { PATH: process.env.PATH!, DATABASE_URL: database.url, CLOUDINARY_URL: cloud.cloudinaryUrl };
    const run = (args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { env });
    expect((await run(['trash', 'purge'])).stdout.trim()).toBe('purged 0 images, 0 assets'); // default: 30 days
    expect((await run(['trash', 'purge', '--older-than', '7'])).stdout.trim()).toBe('purged 1 images, 1 assets');
    expect(await row(old)).toBeUndefined();
    expect(await delivered(oldRow)).toBe(404);
    expect((await row(recent))!.deleted_at).not.toBeNull();
    await expect(run(['trash', 'purge', '--older-than', 'soon'])).rejects.toMatchObject({ code: 2 });
  });

  it('in-process jobs purge on a timer', async () => {
    const timed = await createAlbumkit(albumkitOptions({ purgeIntervalSeconds: 0.05, trashRetentionDays: 0 }));
    try {
      const id = await upload(acme, 'P8');
      const asset = (await row(id))!;
      await trash(acme, id);
      for (let i = 0; i < 400 && ((await row(id)) || (await pending()).length > 0); i++) await sleep(25);
      expect(await row(id)).toBeUndefined();
      expect(await delivered(asset)).toBe(404);
    } finally {
      await timed.close();
    }
  });

  it('a BullMQ worker purges on its job scheduler', async () => {
    const prefix = `purge-test-${randomUUID().slice(0, 8)}`;
    const queued = await createAlbumkit(albumkitOptions({ trashRetentionDays: 0, jobs: () => new BullMqJobs({ redisUrl: REDIS_URL, prefix }) }));
    const worker = startWorker({ albumkit: queued, redisUrl: REDIS_URL, prefix, purgeEveryMs: 100, sweepAfterMs: 0, logger: silent });
    const queue = new Queue(queueName(prefix, 'purge'), { connection: { url: REDIS_URL } });
    try {
      await worker.purgeScheduled;
      expect((await queue.getJobSchedulers()).map((s) => [s.key, s.every])).toEqual([[PURGE_SCHEDULER, 100]]);
      const id = await upload(acme, 'P9');
      const asset = (await row(id))!;
      await trash(acme, id);
      for (let i = 0; i < 400 && ((await row(id)) || (await pending()).length > 0); i++) await sleep(25);
      expect(await row(id)).toBeUndefined();
      expect(await delivered(asset)).toBe(404);
      expect((await queue.getCompleted()).length).toBeGreaterThan(0);
    } finally {
      await queue.removeJobScheduler(PURGE_SCHEDULER);
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      await queued.close();
    }
  });

  async function sql(text: string, values: unknown[]) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return await client.query(text, values);
    } finally {
      await client.end();
    }
  }
});
