import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectDatabase, createAlbumkit, type Albumkit, type DatabaseHandle } from '@albumkit/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { DIALECTS, TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { access, createTenant, type Tenant } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { albumkitNode } from '../../packages/http-adapter/src/node.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { fileName, UniqueNames } from '../../packages/core/src/services/downloads.js';

/**
 * Zip downloads over HTTP: images uploaded to the local Cloudinary server, a download made in
 * the API, its signed link fetched from the public route, and the ZIP read back with yauzl.
 */
const PHOTO = readFileSync(new URL('../fixtures/photos/IMG_20180725_163423-tiny.jpg', import.meta.url));

interface ZipEntryRead {
  name: string;
  method: number;
  bytes: Buffer;
}

function readZip(buffer: Buffer): Promise<ZipEntryRead[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries: ZipEntryRead[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.push({ name: entry.fileName, method: entry.compressionMethod, bytes: Buffer.concat(chunks) });
            zip.readEntry();
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe.each(DIALECTS)('zip downloads (%s)', (dialect) => {
  let cloud: LocalCloudinary;
  let server: Server;
  let albumkit: Albumkit;
  let database: DatabaseHandle;
  let tenant: Tenant;
  let base: string;
  const images: Record<string, { id: string; bytes: Buffer }> = {};

  beforeAll(async () => {
    cloud = await startLocalCloudinary({ notificationRetryDelaysMs: [50] });
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    database = dialect === 'postgres' ? await createTestDatabase() : await connectDatabase({});
    albumkit = await createAlbumkit({
      secret: TEST_CONFIG.secret,
      cloudinary: { cloudName: cloud.cloudName, apiKey: cloud.apiKey, apiSecret: cloud.apiSecret, uploadPrefix: cloud.url, deliveryPrefix: cloud.url },
      publicUrl: `${base}/api/v1`,
      database,
      logger: { error() {}, warn() {} },
    });
    const api = albumkitNode(albumkit);
    const publicRoutes = albumkitNode(albumkit, { publicRoutes: true });
    server.on('request', (req, res) => (req.url!.startsWith('/api/') ? api(req, res) : publicRoutes(req, res, () => res.writeHead(404).end())));
    tenant = await createTenant({ albumkit } as never);

    // Four photos: two with the same file name, one in another album.
    const second = await sharp(PHOTO).resize(64).jpeg().toBuffer();
    for (const [key, album, bytes, name] of [
      ['a', 'ZIP', PHOTO, 'photo.jpg'],
      ['b', 'ZIP', second, 'photo.jpg'],
      ['c', 'ZIP', second, '../../etc/passwd:.jpg'],
      ['other', 'ZIP_OTHER', second, 'other.jpg'],
    ] as const) {
      images[key] = { id: await upload(album, bytes, name), bytes };
    }
  }, 60_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await albumkit?.close();
    await cloud?.close();
    await database?.close();
  });

  async function call(method: string, path: string, token: string, body?: string) {
    const response = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { Authorization: `Token token="${token}"`, ...(body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}) },
      body,
    });
    return { status: response.status, json: (await response.json().catch(() => undefined)) as any };
  }

  /** A user's upload: the album's signed form to the local Cloudinary, then the client's post. */
  async function upload(album: string, bytes: Buffer, name: string): Promise<string> {
    const token = await tenant.userToken({ [album]: access('image_upload', 'image_list', 'see') });
    const form = (await call('GET', `/albums/${album}`, token)).json.upload_form;
    const body = new FormData();
    for (const [k, v] of Object.entries(form.params)) body.append(k, String(v));
    body.append('file', new Blob([bytes]), name);
    const result = await (await fetch(form.url, { method: 'POST', body })).json();
    const posted = await fetch(`${base}/api/v1/albums/${album}/images`, {
      method: 'POST',
      headers: { Authorization: `Token token="${token}"`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ cloudinary: result }),
    });
    expect(posted.status).toBe(200);
    return ((await posted.json()) as { id: string }).id;
  }

  const downloader = () => tenant.integratorToken({ abilities: { ZIP: access('image_list') }, download: true });
  const ids = (...keys: string[]) => keys.map((key) => `image_ids[]=${images[key]!.id}`).join('&');

  it('streams the originals under unique, safe names, stored; the link is signed, and expires', async () => {
    const made = await call('POST', '/downloads', await downloader(), ids('a', 'b', 'c'));
    expect(made.status).toBe(200);
    expect(Object.keys(made.json)).toEqual(['id', 'zip_url']);
    const link = new URL(made.json.zip_url);
    expect(link.origin).toBe(base);
    expect(link.pathname).toBe(`/downloads/${made.json.id}/zip`);

    const response = await fetch(made.json.zip_url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="images-[0-9a-f]{8}\.zip"$/);
    const entries = await readZip(Buffer.from(await response.arrayBuffer()));
    expect(entries.map((e) => e.name)).toEqual(['photo.jpg', 'photo (2).jpg', 'passwd_.jpg']);
    expect(entries.every((e) => e.method === 0)).toBe(true);
    expect(entries[0]!.bytes.equals(images.a!.bytes)).toBe(true);
    expect(entries[1]!.bytes.equals(images.b!.bytes)).toBe(true);

    // A changed signature, a changed expiry or an expired link: 403, nothing streamed.
    const tampered = new URL(made.json.zip_url);
    tampered.searchParams.set('signature', `${tampered.searchParams.get('signature')!.slice(0, -2)}xx`);
    const later = new URL(made.json.zip_url);
    later.searchParams.set('expires', String(Number(later.searchParams.get('expires')) + 3600));
    const expired = new URL(made.json.zip_url);
    expired.searchParams.set('expires', '1000');
    for (const url of [tampered, later, expired, new URL(`${base}/downloads/${made.json.id}/zip`)]) {
      const refused = await fetch(url);
      expect(refused.status, url.href).toBe(403);
      expect(await refused.text()).toBe('Invalid or expired link');
    }
  });

  it('skips what is gone and lists it in MISSING.txt: a trashed image, and an original the delivery host no longer has', async () => {
    const owner = await tenant.userToken({ ZIP: access('image_upload', 'image_list', 'image_delete', 'see') });
    const extra = await upload('ZIP', PHOTO, 'gone.jpg');
    const lost = await upload('ZIP', PHOTO, 'lost.jpg');
    const made = await call('POST', '/downloads', await downloader(), `${ids('a')}&image_ids[]=${extra}&image_ids[]=${lost}`);
    expect(made.status).toBe(200);
    expect((await call('DELETE', `/images/${extra}`, owner)).status).toBe(204);
    // The asset disappears from Cloudinary behind albumkit's back.
    await albumkit.database.db.updateTable('images').set({ cloudinary_public_id: 'no-such-asset' }).where('id', '=', lost).execute();

    const entries = await readZip(Buffer.from(await (await fetch(made.json.zip_url)).arrayBuffer()));
    expect(entries.map((e) => e.name)).toEqual(['photo.jpg', 'MISSING.txt']);
    const manifest = entries[1]!.bytes.toString('utf8');
    expect(manifest).toContain(`${extra}\tin the trash`);
    expect(manifest).toMatch(new RegExp(`${lost}\\tthe original is not available \\(HTTP 40[14]\\)`));
  });

  it('adds to a download of the same owner only; another one is a 404', async () => {
    const token = await downloader();
    const made = await call('POST', '/downloads', token, ids('a'));
    const added = await call('POST', '/downloads', token, `id=${made.json.id}&${ids('b', 'a')}`);
    expect(added.json.id).toBe(made.json.id);
    const entries = await readZip(Buffer.from(await (await fetch(added.json.zip_url)).arrayBuffer()));
    expect(entries.map((e) => e.name)).toEqual(['photo.jpg', 'photo (2).jpg']);

    const someoneElse = await tenant.userToken({ ZIP: access('image_list') }, { download: true });
    expect((await call('POST', '/downloads', someoneElse, `id=${made.json.id}&${ids('c')}`)).status).toBe(404);
    const stranger = await createTenant({ albumkit } as never);
    expect((await call('POST', '/downloads', await stranger.integratorToken({ admin: true }), `id=${made.json.id}&${ids('c')}`)).status).toBe(401);
  });

  it('needs the download claim and image_list on every image, of its own organization; bad input is a 400', async () => {
    expect((await call('POST', '/downloads', await tenant.integratorToken({ abilities: { ZIP: access('image_list') } }), ids('a'))).status).toBe(401);
    expect((await call('POST', '/downloads', await downloader(), ids('a', 'other'))).status).toBe(401);
    const stranger = await createTenant({ albumkit } as never);
    expect((await call('POST', '/downloads', await stranger.integratorToken({ admin: true }), ids('a'))).status).toBe(401);
    for (const body of ['', 'image_ids[]=not-a-uuid', Array.from({ length: 1001 }, () => `image_ids[]=${images.a!.id}`).join('&')]) {
      const answer = await call('POST', '/downloads', await downloader(), body);
      expect(answer.status, body.slice(0, 40)).toBe(400);
      expect(answer.json.message).toMatch(/image_ids|Array limit/);
    }
  });

  it('a search token downloads exactly what its query matches', async () => {
    const token = await tenant.integratorToken({ q: 'album_id:ZIP_OTHER', download: true });
    const made = await call('POST', '/downloads', token, '');
    expect(made.status).toBe(200);
    const entries = await readZip(Buffer.from(await (await fetch(made.json.zip_url)).arrayBuffer()));
    expect(entries.map((e) => e.name)).toEqual(['other.jpg']);
    // Ids outside its query are refused.
    expect((await call('POST', '/downloads', token, ids('a'))).status).toBe(401);
  });
});

describe('names inside a zip', () => {
  it('are file names only, without reserved characters, with the format\'s extension, unique whatever the case', () => {
    const image = (filename: string | null, publicId = 'folder/abc123') => ({ filename, cloudinary_public_id: publicId, id: '00000000-0000-4000-8000-000000000001' });
    expect(fileName(image('../../etc/passwd'), 'jpg')).toBe('_.._etc_passwd.jpg');
    expect(fileName(image('a\u0000b<c>|d?.JPG'), 'jpg')).toBe('a_b_c_d_.jpg');
    expect(fileName(image(null), 'png')).toBe('abc123.png');
    expect(fileName(image('CON'), 'jpg')).toBe('_CON.jpg');
    expect(fileName(image('x'.repeat(500)), 'jpeg').length).toBe(120);
    const names = new UniqueNames();
    expect(['a.jpg', 'A.JPG', 'a.jpg', 'a (2).jpg'].map((n) => names.take(n))).toEqual(['a.jpg', 'A (2).JPG', 'a (3).jpg', 'a (2) (2).jpg']);
  });
});
