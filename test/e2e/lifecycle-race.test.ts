import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createAlbumkit, type Albumkit } from '@albumkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';

/**
 * The image lifecycle racing itself: three albumkit processes' worth of connection pools on one
 * PostgreSQL delete, restore, move, copy-and-paste and purge the same images at once, round
 * after round, against the local Cloudinary server. Afterwards no image is lost or doubled
 * (every image ever made is live, in the trash, or counted by a purge), every album's count
 * equals its live rows, and every live image's asset is still delivered.
 */
const PHOTO = readFileSync(new URL('../fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));
const silent = { error() {}, warn() {} };
const ALBUMS = ['RACE-A', 'RACE-B', 'RACE-C'];

describe('delete, restore, move, paste and purge racing (PostgreSQL, local Cloudinary)', () => {
  let cloud: LocalCloudinary;
  let cloudDir: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let nodes: Albumkit[] = [];
  let acme: Tenant;
  let admin: string;

  beforeAll(async () => {
    cloudDir = await mkdtemp(join(tmpdir(), 'albumkit-race-cloud-'));
    cloud = await startLocalCloudinary({ dir: cloudDir, notificationRetryDelaysMs: [] });
    database = await createTestDatabase();
    const options = {
      secret: TEST_CONFIG.secret,
      cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      // Notifications go nowhere (port 9): the client posts make the images.
      publicUrl: 'http://127.0.0.1:9/api/v1',
      databaseUrl: database.url,
      logger: silent,
      purgeIntervalSeconds: 0,
    };
    // Each with its own connection pool, as separate processes would have.
    nodes = [await createAlbumkit(options), await createAlbumkit({ ...options, migrate: false }), await createAlbumkit({ ...options, migrate: false })];
    acme = await createTenant({ albumkit: nodes[0]! } as never);
    admin = await acme.userToken({}, { admin: true });
  });

  afterAll(async () => {
    for (const node of nodes) await node.close();
    await cloud?.close();
    await database?.close();
    if (cloudDir) await rm(cloudDir, { recursive: true, force: true });
  });

  async function call(node: Albumkit, method: string, path: string, body?: string) {
    const response = await node.handle({
      method,
      path: `/api/v1${path}`,
      headers: { Authorization: `Bearer ${admin}`, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
      rawBody: body,
    });
    return { status: response.status, json: response.body ? JSON.parse(response.body) : undefined };
  }

  async function upload(album: string): Promise<string> {
    const form = (await call(nodes[0]!, 'GET', `/albums/${album}`)).json.upload_form;
    const body = new FormData();
    for (const [k, v] of Object.entries(form.params)) body.append(k, String(v));
    body.append('file', new Blob([PHOTO]), 'photo.jpg');
    const result = await (await fetch(form.url, { method: 'POST', body })).json();
    const posted = await nodes[0]!.handle({
      method: 'POST',
      path: `/api/v1/albums/${album}/images`,
      headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
      rawBody: JSON.stringify({ cloudinary: result }),
    });
    expect(posted.status).toBe(200);
    return JSON.parse(posted.body).id;
  }

  it('loses nothing, doubles nothing, keeps counts exact and never destroys an asset in use', async () => {
    const made = new Set<string>();
    for (const album of ALBUMS) for (let i = 0; i < 4; i++) made.add(await upload(album));
    let purged = 0;
    const pick = <T>(list: T[], n: number) => [...list].sort(() => Math.random() - 0.5).slice(0, n);
    const node = (i: number) => nodes[i % nodes.length]!;

    for (let round = 0; round < 6; round++) {
      const live = (await database.db.selectFrom('images').select('id').where('organization_id', '=', acme.organization.id).where('deleted_at', 'is', null).execute()).map((r) => r.id);
      const trashed = (await database.db.selectFrom('images').select('id').where('organization_id', '=', acme.organization.id).where('deleted_at', 'is not', null).execute()).map((r) => r.id);
      const clipboard = randomUUID();
      const copied = pick(live, 3);
      if (copied.length) await call(node(round), 'POST', '/clipboards', `id=${clipboard}&${copied.map((id) => `image_ids[]=${id}`).join('&')}`);
      const work: Array<Promise<unknown>> = [];
      let i = 0;
      for (const id of pick(live, 4)) work.push(call(node(i++), 'DELETE', `/images/${id}`));
      for (const id of pick(live, 3)) work.push(call(node(i++), 'DELETE', `/images/${id}`)); // the same images, twice
      for (const id of pick(trashed, 3)) work.push(call(node(i++), 'DELETE', `/trashed_images/${id}`));
      for (const id of pick(live, 3)) work.push(call(node(i++), 'POST', '/images/move', `move_operations[${id}]=${pick(ALBUMS, 1)[0]}`));
      if (copied.length) {
        work.push(
          call(node(i++), 'POST', `/clipboards/${clipboard}/paste`, `album_id=${pick(ALBUMS, 1)[0]}`).then((pasted) => {
            if (pasted.status === 200) for (const image of pasted.json) made.add(image.id);
          }),
        );
      }
      work.push(node(i++).purge.run({ olderThanDays: 0 }).then((result) => (purged += result.images)));
      await Promise.all(work);
    }
    // One last purge, alone: what it leaves must still stand.
    purged += (await nodes[0]!.purge.run({ olderThanDays: 0 })).images;

    const rows = await database.db
      .selectFrom('images')
      .select(['id', 'album_id', 'deleted_at', 'cloudinary_public_id', 'cloudinary_version'])
      .where('organization_id', '=', acme.organization.id)
      .execute();
    // Nothing doubled, nothing appeared from nowhere, nothing lost: made = standing + purged.
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    for (const row of rows) expect(made.has(row.id)).toBe(true);
    expect(rows.length + purged).toBe(made.size);
    // Every album's count is its live rows.
    for (const album of ALBUMS) {
      const liveRows = rows.filter((r) => r.album_id === album && r.deleted_at === null).length;
      const json = (await call(nodes[1]!, 'GET', `/albums/${album}`)).json;
      expect(json.images_count, album).toBe(liveRows);
    }
    // Every live image's asset is still delivered.
    for (const row of rows.filter((r) => r.deleted_at === null)) {
      const image = (await call(nodes[2]!, 'GET', `/images/${row.id}`)).json;
      const delivered = await fetch(image.original_url);
      expect(delivered.status, `${row.id} ${row.cloudinary_public_id}`).toBe(200);
      await delivered.arrayBuffer();
    }
  });
});
