import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import packagedChromium from '@sparticuz/chromium';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';

/**
 * The README's quick start, in a real browser: `npm start` on embedded defaults (PGlite, local
 * Cloudinary, in-process jobs), then the demo page signs in from the printed link, creates an
 * album, uploads three photos straight to the local Cloudinary, sees them processed with their
 * date taken, opens one to read its GPS coordinates, and drops an iPhone HEIC whose renditions
 * load in the page. The browser is the Chromium (headless shell) that the @sparticuz/chromium
 * package ships inside its npm tarball, unpacked into the temporary folder on first use: no
 * system browser, no download. It needs only libnss3 and libnspr4 from the system.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PHOTOS = join(ROOT, 'test/fixtures/photos');
const ARTIFACTS = join(ROOT, 'test/artifacts');
const facts = JSON.parse(readFileSync(join(PHOTOS, 'facts.json'), 'utf8')) as Record<string, { expected_taken_at_utc?: string }>;
const FILES = ['IMG_20180725_163423-tiny.jpg', 'issue-exifr-59.jpg', 'canon-dslr.jpg'];

/** A port that is free now, whose next one (the local Cloudinary's) is free too when possible. */
async function freePort(): Promise<number> {
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, () => {
        const { port: taken } = server.address() as { port: number };
        server.close(() => resolve(taken));
      });
    });
  for (let i = 0; i < 10; i++) {
    const port = await listen(0);
    if (port < 65535 && (await listen(port + 1).then(() => true, () => false))) return port;
  }
  return listen(0);
}

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

/** An API call from the page, signed in as the demo page is (its token in localStorage); `json`: a JSON body. */
async function apiCall(page: Page, path: string, method = 'GET', json?: unknown): Promise<{ status: number; body: any }> {
  return page.evaluate(
    async ({ path, method, body }) => {
      const g = globalThis as unknown as { localStorage: { getItem(k: string): string | null }; fetch: typeof fetch };
      const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${g.localStorage.getItem('albumkit-demo.token')}` };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      const response = await g.fetch(`/api/v1${path}`, { method, headers, body });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },
    { path, method, body: json === undefined ? undefined : JSON.stringify(json) },
  );
}

/** `#2196F3` as getComputedStyle answers it: `rgb(33, 150, 243)`. */
const rgb = (hex: string) => `rgb(${[1, 3, 5].map((at) => parseInt(hex.slice(at, at + 2), 16)).join(', ')})`;

/** A chip's computed background and text colours. */
const chipColours = (chip: Locator) =>
  chip.evaluate((node) => {
    const style = (globalThis as unknown as { getComputedStyle(n: unknown): { backgroundColor: string; color: string } }).getComputedStyle(node);
    return [style.backgroundColor, style.color];
  });

interface TagLinkJson {
  id: string;
  tag: { id: string; name: string; color: string; color_contrast: string; label_en: string };
  image: { id: string };
}

/** The names of the tags linked to an image, through the API, sorted. */
async function tagsOf(on: Page, imageId: string): Promise<string[]> {
  return ((await apiCall(on, `/tag_images?image_id=${imageId}`)).body as TagLinkJson[]).map((link) => link.tag.name).sort();
}

/** The ids of the images a tag is on, through the API, sorted. */
async function taggedWith(on: Page, name: string): Promise<string[]> {
  return ((await apiCall(on, `/tag_images?limit=100&tag_name=${encodeURIComponent(name)}`)).body as TagLinkJson[]).map((link) => link.image.id).sort();
}

/** The image ids of the search results, in their order. */
function resultIds(on: Page): Promise<string[]> {
  return on.locator('#search-grid .photo-card').evaluateAll((nodes) => nodes.map((node) => (node as unknown as { dataset: { imageId: string } }).dataset.imageId));
}

/** The page's width is the screen's: nothing scrolls sideways. */
function pageWidth(on: Page): Promise<number> {
  return on.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
}

/** Dismisses every notice still shown (errors stay until dismissed). */
async function dismissNotices(page: Page): Promise<void> {
  const buttons = page.locator('#notices').getByRole('button', { name: 'Dismiss' });
  while ((await buttons.count()) > 0) await buttons.first().click();
}

interface ImageJson {
  id: string;
  album_id: string;
  filename: string;
  original_url: string;
}

/** The Cloudinary asset an image's original is delivered from: the last segment of its URL. */
const assetOf = (image: ImageJson) => new URL(image.original_url).pathname.split('/').pop();

/** The image ids of the album grid, in its order. */
function cardIds(on: Page): Promise<string[]> {
  return on.locator('#grid .photo-card').evaluateAll((nodes) => nodes.map((node) => (node as unknown as { dataset: { imageId: string } }).dataset.imageId));
}

/** An <img>'s decoded size: [0, 0] until it has loaded (or when it failed). */
function naturalSize(img: Locator): Promise<number[]> {
  return img.evaluate((node) => {
    const image = node as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number };
    return image.complete ? [image.naturalWidth, image.naturalHeight] : [0, 0];
  });
}

/** The entries of a ZIP (names and bytes), read with yauzl. */
function zipEntries(buffer: Buffer): Promise<{ name: string; bytes: Buffer }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries: { name: string; bytes: Buffer }[] = [];
      zip.on('entry', (entry: yauzl.Entry) =>
        zip.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.push({ name: entry.fileName, bytes: Buffer.concat(chunks) });
            zip.readEntry();
          });
        }),
      );
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('npm start: the demo app in a browser', () => {
  let home: string;
  let server: ChildProcess;
  let output = '';
  let openUrl: string;
  let browser: Browser;
  let page: Page;
  /** A phone with a touch screen (its own browser context), signed in with the page's token. */
  let phone: Page;
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];

  async function touchPhone(album: string): Promise<Page> {
    const token = await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('albumkit-demo.token'));
    const context = await browser.newContext({ viewport: PHONE, locale: 'en-US', hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    const opened = await context.newPage();
    opened.on('pageerror', (error) => pageErrors.push(`phone: ${error.message}`));
    opened.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await opened.goto(new URL(`/#token=${encodeURIComponent(token!)}&album=${encodeURIComponent(album)}`, openUrl).toString());
    await opened.locator('#album-view').waitFor();
    return opened;
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'albumkit-demo-'));
    mkdirSync(ARTIFACTS, { recursive: true });
    const port = await freePort();
    // Exactly the quick start: embedded defaults, nothing configured (whatever the CI shell has set).
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ALBUMKIT_HOME: home };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'CLOUDINARY_URL', 'ALBUMKIT_SECRET', 'ALBUMKIT_PUBLIC_URL', 'ALBUMKIT_DATA_DIR', 'ALBUMKIT_WORKERS']) {
      delete env[name];
    }
    server = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.on('data', (chunk) => (output += chunk));
    server.stderr!.on('data', (chunk) => (output += chunk));

    openUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm start printed no address in time:\n${output}`)), 170_000);
      const look = () => {
        const match = /Open:\s+(http:\/\/\S+#token=\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      server.stdout!.on('data', look);
      server.once('exit', (code) => reject(new Error(`npm start exited (${code}) before printing the address:\n${output}`)));
    });
    expect(output).toMatch(/DEVELOPMENT ONLY/);

    browser = await chromium.launch({
      // Only the binary: the package's own flag list (single process, web security off, ...)
      // is for serverless hosts and would hide what a real browser refuses (CORS).
      executablePath: await packagedChromium.executablePath(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-quic', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      process.kill(-server.pid!, 'SIGTERM'); // the process group: npm and the node process it runs
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    }
    if (home) rmSync(home, { recursive: true, force: true });
  }, 30_000);

  it('signs in from the printed link, uploads three photos and shows them processed', async () => {
    await page.goto(openUrl);
    await expect.poll(() => page.url()).not.toContain('token='); // moved to localStorage
    await page.getByRole('button', { name: 'New album' }).click();
    await page.locator('#album-view').waitFor();

    await page.locator('#file-input').setInputFiles(FILES.map((file) => join(PHOTOS, file)));

    const cards = page.locator('.photo-card');
    await expect.poll(() => cards.count(), { timeout: 30_000 }).toBe(3);
    await expect.poll(() => page.locator('.photo-card[data-processed="true"]').count(), { timeout: 60_000 }).toBe(3);
    for (const file of FILES) {
      const card = cards.filter({ hasText: file.replace(/\.\w+$/, '') }); // Cloudinary's original_filename
      await expect.poll(() => card.locator('.badge').textContent()).toBe('Processed');
      const expected = facts[file]!.expected_taken_at_utc!;
      expect(await card.locator('time.taken').getAttribute('datetime')).toBe(expected.replace('Z', '+00:00'));
      expect(await card.locator('time.taken').textContent()).toContain(expected.slice(0, 4));
    }
    // The renditions are delivered by the local Cloudinary to the <img> tags.
    await expect.poll(() => page.locator('.photo-card .thumb.loaded').count(), { timeout: 30_000 }).toBe(3);

    await page.getByRole('button', { name: 'Upload done' }).click();
    await page.locator('#events li[data-type="upload_done"]').first().waitFor();
    expect(await page.locator('#events li[data-type="processed_image"]').count()).toBe(3);
    await page.locator('.uploads').waitFor({ state: 'hidden' }); // finished upload rows fade away
    await page.screenshot({ path: join(ARTIFACTS, 'demo-grid.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 }); // a phone
    await page.screenshot({ path: join(ARTIFACTS, 'demo-grid-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 860 });
  }, 120_000);

  it('opens one photo: full rendition, GPS with a map link, EXIF, duplicate', async () => {
    await page.getByRole('button', { name: 'Open IMG_20180725_163423-tiny' }).click();
    const viewer = page.locator('#viewer');
    await viewer.waitFor();
    await expect.poll(() => viewer.locator('.gps').textContent()).toBe('50.2996° N, 14.8203° E');
    expect(await viewer.getByRole('link', { name: /openstreetmap/i }).getAttribute('href')).toMatch(/openstreetmap\.org\/\?mlat=50\.2996\d*&mlon=14\.8202\d*/);
    expect(await viewer.locator('[data-fact="taken"] time').getAttribute('datetime')).toBe('2018-07-25T16:34:23.935+00:00');
    expect(await viewer.locator('[data-fact="size"]').textContent()).toMatch(/^1012 × 759 px · \d+ KB$/);
    expect(await viewer.locator('#viewer-exif tbody tr').count()).toBeGreaterThan(5);
    await expect.poll(() => viewer.locator('#viewer-image').evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-image.png') });

    await viewer.getByRole('button', { name: 'Duplicate' }).click();
    await expect.poll(() => page.locator('.photo-card').count()).toBe(4);
    await viewer.getByRole('button', { name: 'Close' }).click();
  }, 60_000);

  it('drops an iPhone HEIC on the album: its thumbnails load once processed', async () => {
    const file = 'heic-iphone7.heic';
    const bytes = readFileSync(join(PHOTOS, file)).toString('base64');
    // A real drop on the zone, carrying the file as a phone's photo arrives on a desktop.
    const dataTransfer = await page.evaluateHandle(
      ({ name, base64 }) => {
        const binary = atob(base64);
        const data = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i++) data[i] = binary.charCodeAt(i);
        const { DataTransfer } = globalThis as unknown as { DataTransfer: new () => { items: { add(file: File): void } } };
        const transfer = new DataTransfer();
        transfer.items.add(new File([data], name, { type: 'image/heic' }));
        return transfer;
      },
      { name: file, base64: bytes },
    );
    const before = await page.locator('.photo-card').count();
    await page.locator('#dropzone').dispatchEvent('drop', { dataTransfer });

    const card = page.locator('.photo-card').filter({ hasText: 'heic-iphone7' });
    await expect.poll(() => page.locator('.photo-card').count(), { timeout: 30_000 }).toBe(before + 1);
    await expect.poll(() => card.getAttribute('data-processed'), { timeout: 60_000 }).toBe('true');
    expect(await card.locator('time.taken').getAttribute('datetime')).toBe(facts[file]!.expected_taken_at_utc!.replace('Z', '+00:00'));

    // The grid thumbnail (`large`, c_fill 200x200), rendered from the HEIC by the local Cloudinary.
    const thumb = card.locator('.thumb img');
    expect(await thumb.getAttribute('src')).toMatch(/\/c_fill,h_200,w_200\/.*\.jpg$/);
    await expect.poll(() => card.locator('.thumb.loaded').count(), { timeout: 30_000 }).toBe(1);
    expect(await card.locator('.thumb.broken').count()).toBe(0);
    expect(await naturalSize(thumb)).toEqual([200, 200]);

    // Opened: the full rendition (c_fit 1920) loads too.
    await page.getByRole('button', { name: 'Open heic-iphone7' }).click();
    const viewer = page.locator('#viewer');
    await viewer.waitFor();
    expect(await viewer.locator('[data-fact="size"]').textContent()).toMatch(/^4032 × 3024 px/);
    const full = viewer.locator('#viewer-image');
    await expect.poll(() => naturalSize(full), { timeout: 30_000 }).toEqual([1920, 1440]);
    expect(await full.isHidden()).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-heic.png') });
    await viewer.getByRole('button', { name: 'Close' }).click();
  }, 120_000);

  it('links to the API reference, rendered from the OpenAPI document, whose calls work with the demo token', async () => {
    const violations: string[] = [];
    const onConsole = (message: { type(): string; text(): string }) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    };
    page.on('console', onConsole);
    await page.goto(new URL('/', openUrl).toString());
    await page.getByRole('link', { name: 'API reference' }).click();
    await page.waitForURL(/\/reference$/);
    const document = await page.evaluate(() => fetch('/api/v1/openapi.json').then((r) => r.json() as Promise<{ paths: Record<string, object> }>));
    const operations = Object.values(document.paths as Record<string, object>).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(operations).toBeGreaterThan(10);
    await expect.poll(() => page.locator('.opblock').count(), { timeout: 30_000 }).toBe(operations);
    expect(await page.locator('.opblock-summary-path[data-path="/albums/{id}/images"]').count()).toBe(2);

    // Try it out: GET /organization, with the token the demo signed in with.
    const operation = page.locator('#operations-Integrator-getOrganization');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const live = operation.locator('.live-responses-table .response .response-col_status');
    await expect.poll(() => live.first().textContent(), { timeout: 15_000 }).toContain('200');
    expect(await operation.locator('.live-responses-table .microlight').first().textContent()).toContain('"sandbox": false');
    await page.screenshot({ path: join(ARTIFACTS, 'demo-reference.png') });
    page.off('console', onConsole);
    expect(violations).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.getByRole('link', { name: '← albumkit demo' }).click();
    await page.locator('#workspace').waitFor();
  }, 60_000);

  it('viewer: previous/next by buttons and arrow keys, caption and rotate, at desktop and phone sizes', async () => {
    const viewer = page.locator('#viewer');
    const cards = page.locator('#grid .photo-card');
    await expect.poll(() => cards.count()).toBe(5);
    const ids = await cards.evaluateAll((nodes) => nodes.map((node) => (node as unknown as { dataset: { imageId: string } }).dataset.imageId));

    // Previous/next: the grid's order, buttons and arrow keys, disabled at the ends.
    await cards.nth(0).getByRole('button').click();
    await viewer.waitFor();
    expect(await viewer.getAttribute('data-image-id')).toBe(ids[0]);
    expect(await viewer.locator('#viewer-position').textContent()).toBe('1 of 5');
    expect(await viewer.getByRole('button', { name: 'Previous photo' }).isDisabled()).toBe(true);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(ids[1]);
    expect(await viewer.locator('#viewer-position').textContent()).toBe('2 of 5');
    await viewer.getByRole('button', { name: 'Next photo' }).click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(ids[2]);
    await viewer.getByRole('button', { name: 'Previous photo' }).click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(ids[1]);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(ids[0]);
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    await expect.poll(() => viewer.locator('#viewer-position').textContent()).toBe('5 of 5');
    expect(await viewer.getByRole('button', { name: 'Next photo' }).isDisabled()).toBe(true);
    await page.keyboard.press('Escape'); // the dialog closes on Escape
    await expect.poll(() => viewer.isVisible()).toBe(false);

    // Caption and rotate a landscape photo.
    const card = cards.filter({ hasText: 'IMG_20180725_163423-tiny' }).first();
    const id = (await card.getAttribute('data-image-id'))!;
    await card.getByRole('button').click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(id);
    await viewer.getByLabel('Title').fill('Sunset over Mladá Boleslav');
    await viewer.getByLabel('Description').fill('Taken from the castle, July 2018.');
    await viewer.getByRole('button', { name: 'Save caption' }).click();
    await expect.poll(() => viewer.locator('#caption-status').textContent()).toBe('Caption saved');
    expect(await viewer.locator('[data-fact="caption"]').textContent()).toBe('Sunset over Mladá Boleslav · Taken from the castle, July 2018.');
    await expect.poll(() => card.locator('.photo-title').textContent()).toBe('Sunset over Mladá Boleslav');
    const captioned = await apiCall(page, `/images/${id}`);
    expect([captioned.body.title, captioned.body.description]).toEqual(['Sunset over Mladá Boleslav', 'Taken from the castle, July 2018.']);

    const before = captioned.body as { width: number; height: number; rotation: number };
    expect(before.rotation).toBe(0);
    expect(before.width).toBeGreaterThan(before.height);
    await viewer.getByRole('button', { name: 'Rotate right' }).click();
    await expect.poll(() => viewer.locator('[data-fact="rotation"]').textContent()).toBe('90°');
    const full = viewer.locator('#viewer-image');
    expect(await full.getAttribute('src')).toMatch(/\/a_90\//);
    // The delivered rendition is turned: portrait now.
    await expect.poll(async () => { const [w = 0, h = 0] = await naturalSize(full); return w > 0 && h > w; }, { timeout: 30_000 }).toBe(true);
    expect(await viewer.locator('[data-fact="size"]').textContent()).toContain(`${before.height} × ${before.width} px`);
    await expect.poll(() => card.locator('.thumb img').getAttribute('src')).toMatch(/\/a_90\/c_fill,h_200,w_200\//);
    await expect.poll(() => card.locator('.thumb.loaded').count(), { timeout: 30_000 }).toBe(1);
    const rotated = await apiCall(page, `/images/${id}`);
    expect(rotated.body.rotation).toBe(90);
    expect(rotated.body.thumbnails.full).toContain('/a_90/');
    await page.screenshot({ path: join(ARTIFACTS, 'demo-viewer-edited.png') });
    await page.keyboard.press('Escape');

    // A phone: the same viewer, stacked; next by button and key, rotate left twice, caption.
    await page.setViewportSize(PHONE);
    await cards.nth(0).getByRole('button').click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(ids[0]);
    await viewer.getByRole('button', { name: 'Next photo' }).click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(ids[1]);
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(ids[2]);
    const box = await viewer.boundingBox();
    expect(box!.width).toBeLessThanOrEqual(PHONE.width);
    await viewer.getByRole('button', { name: 'Rotate left' }).click();
    await expect.poll(() => viewer.locator('[data-fact="rotation"]').textContent()).toBe('270°');
    await viewer.getByRole('button', { name: 'Rotate left' }).click();
    await expect.poll(() => viewer.locator('[data-fact="rotation"]').textContent()).toBe('180°');
    expect(await viewer.locator('#viewer-image').getAttribute('src')).toMatch(/\/a_180\//);
    await viewer.getByLabel('Title').fill('On a phone');
    await viewer.getByRole('button', { name: 'Save caption' }).click();
    await expect.poll(() => viewer.locator('#caption-status').textContent()).toBe('Caption saved');
    const phoneEdited = await apiCall(page, `/images/${ids[2]}`);
    expect([phoneEdited.body.rotation, phoneEdited.body.title]).toEqual([180, 'On a phone']);
    // Typing the caption scrolled only the info pane: the photo stays at the top of the screen.
    expect((await viewer.locator('.viewer-media').boundingBox())!.y).toBeGreaterThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-viewer-phone.png') });
    await viewer.getByRole('button', { name: 'Close' }).click();
    await page.setViewportSize(DESKTOP);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('deletes a photo with Undo, and restores one from the trash view, at desktop and phone sizes', async () => {
    const viewer = page.locator('#viewer');
    const cards = page.locator('#grid .photo-card');
    const albumId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('album')!;
    const trashIds = async () => ((await apiCall(page, `/trashed_images?album_id=${encodeURIComponent(albumId)}`)).body as { id: string }[]).map((t) => t.id);
    expect(await trashIds()).toEqual([]);

    for (const size of [DESKTOP, PHONE]) {
      await page.setViewportSize(size);
      await dismissNotices(page);
      const card = cards.filter({ hasText: 'canon-dslr' });
      const id = (await card.getAttribute('data-image-id'))!;

      // Delete from the viewer: gone from the grid, in the trash; the viewer goes on to another photo.
      await card.getByRole('button').click();
      await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(id);
      await viewer.getByRole('button', { name: 'Delete' }).click();
      await expect.poll(() => cards.count()).toBe(4);
      await expect.poll(() => viewer.getAttribute('data-image-id')).not.toBe(id);
      expect(await viewer.locator('#viewer-position').textContent()).toMatch(/ of 4$/);
      const notice = page.locator('#notices .notice').filter({ hasText: 'canon-dslr was moved to the trash.' });
      await notice.waitFor();
      expect(await trashIds()).toEqual([id]);
      expect((await apiCall(page, `/images/${id}`)).status).toBe(404);
      await page.screenshot({ path: join(ARTIFACTS, `demo-deleted-${size.width}.png`) });

      // Undo restores it from the trash.
      await notice.getByRole('button', { name: 'Undo' }).click();
      await expect.poll(() => cards.filter({ hasText: 'canon-dslr' }).count()).toBe(1);
      expect(await cards.count()).toBe(5);
      expect(await trashIds()).toEqual([]);
      expect((await apiCall(page, `/images/${id}`)).status).toBe(200);

      // Deleted again, then restored from the trash view.
      await expect.poll(() => viewer.isVisible()).toBe(true);
      await viewer.getByRole('button', { name: 'Close' }).click();
      await cards.filter({ hasText: 'canon-dslr' }).getByRole('button').click();
      await viewer.getByRole('button', { name: 'Delete' }).click();
      await expect.poll(() => cards.count()).toBe(4);
      await viewer.getByRole('button', { name: 'Close' }).click();
      await page.getByRole('button', { name: 'Trash', exact: true }).click();
      const trash = page.locator('#trash-view');
      await trash.waitFor();
      expect(await page.locator('#photos-view').isHidden()).toBe(true);
      const trashed = trash.locator('.photo-card');
      await expect.poll(() => trashed.count()).toBe(1);
      expect(await trashed.getAttribute('data-image-id')).toBe(id);
      expect(await trashed.locator('.filename').textContent()).toBe('canon-dslr');
      expect(await trashed.locator('time').textContent()).toMatch(/^Deleted /);
      await expect.poll(() => trashed.locator('.thumb.loaded').count(), { timeout: 30_000 }).toBe(1);
      expect(await trashIds()).toEqual([id]);
      await page.screenshot({ path: join(ARTIFACTS, `demo-trash-${size.width}.png`), fullPage: true });
      await trash.getByRole('button', { name: 'Restore canon-dslr' }).click();
      await trash.locator('#trash-empty').waitFor();
      expect(await trashIds()).toEqual([]);
      await trash.getByRole('button', { name: 'Back to photos' }).click();
      await expect.poll(() => cards.count()).toBe(5);
      expect((await apiCall(page, `/images/${id}`)).status).toBe(200);
    }
    await page.setViewportSize(DESKTOP);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('tells which files are not images instead of dropping them, at desktop and phone sizes', async () => {
    const cards = page.locator('#grid .photo-card');
    const count = await cards.count();
    await dismissNotices(page);
    // A text file (the browser says text/plain): refused on the page, named.
    await page.locator('#file-input').setInputFiles([
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') },
      { name: 'noexif.jpg', mimeType: 'image/jpeg', buffer: readFileSync(join(PHOTOS, 'noexif.jpg')) },
    ]);
    await page.locator('#notices').getByText('“notes.txt” is not an image, so it was not uploaded.').waitFor();
    await page.locator('#uploads .upload.failed').filter({ hasText: 'notes.txt' }).getByText('Not an image').waitFor();
    await expect.poll(() => cards.count(), { timeout: 30_000 }).toBe(count + 1); // the photo next to it is uploaded
    await page.screenshot({ path: join(ARTIFACTS, 'demo-not-an-image.png') });
    await dismissNotices(page);

    // A phone: a file named like a photo that is none, refused by the storage server, named too.
    await page.setViewportSize(PHONE);
    await page.locator('#file-input').setInputFiles([{ name: 'fake.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is no JPEG at all') }]);
    await page.locator('#notices').getByText('“fake.jpg” is not an image the server can read, so it was not uploaded.').waitFor();
    await page.locator('#uploads .upload.failed').filter({ hasText: 'fake.jpg' }).getByText('Not an image the server can read').waitFor();
    expect(await cards.count()).toBe(count + 1);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-not-an-image-phone.png') });
    await dismissNotices(page);
    await page.setViewportSize(DESKTOP);
    await expect.poll(() => page.locator('#grid .photo-card[data-processed="true"]').count(), { timeout: 60_000 }).toBe(count + 1);
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('lists the albums by name: rename, duplicate, move a photo and merge, at desktop and phone sizes', async () => {
    const list = page.locator('#album-list');
    const tile = (name: string) => list.locator(`.album-tile[data-album-id="${name}"]`);
    const dialog = page.locator('#album-dialog');
    const listed = async () => ((await apiCall(page, '/albums?limit=100')).body as { id: string; images_count: number }[]);
    const albumId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('album')!;
    await page.locator('#albums').waitFor();
    await expect.poll(() => tile(albumId).getAttribute('aria-current')).toBe('true');
    expect(await page.locator('#grid .photo-card').count()).toBe(6);
    expect((await listed()).find((album) => album.id === albumId)?.images_count).toBe(6);
    expect(await tile(albumId).locator('.album-count').textContent()).toBe('6 photos');

    // A second album, empty, to see the list grow; then back to the first one by its tile.
    await page.getByRole('button', { name: 'New album' }).click();
    await expect.poll(() => list.locator('.album-tile').count()).toBe(2);
    await tile(albumId).click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe(albumId);
    await expect.poll(() => page.locator('#grid .photo-card').count()).toBe(6);

    // Rename (an existing name is refused in the dialog, with the way to merge instead).
    const other = (await list.locator('.album-tile').evaluateAll((nodes) => nodes.map((n) => (n as unknown as { dataset: { albumId: string } }).dataset.albumId))).find((id) => id !== albumId)!;
    await page.getByRole('button', { name: 'Rename' }).click();
    await dialog.waitFor();
    await dialog.getByLabel('New name').fill(other);
    await dialog.getByRole('button', { name: 'Rename' }).click();
    await dialog.getByText(`An album named “${other}” already exists`).waitFor();
    await dialog.getByLabel('New name').fill('holiday-2018');
    await dialog.getByRole('button', { name: 'Rename' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => page.locator('#album-title').textContent()).toBe('holiday-2018');
    await expect.poll(() => tile('holiday-2018').getAttribute('aria-current')).toBe('true');
    expect(await tile(albumId).count()).toBe(0);
    expect(await tile('holiday-2018').locator('.album-name').textContent()).toBe('holiday-2018');
    await expect.poll(() => page.locator('#grid .photo-card').count()).toBe(6);
    let albums = await listed();
    expect(albums.find((album) => album.id === 'holiday-2018')?.images_count).toBe(6);
    expect(albums.some((album) => album.id === albumId)).toBe(false);
    expect(new URL(page.url()).hash).toBe('#album=holiday-2018');
    // The renamed album still takes uploads (its upload form is read again).
    await page.locator('#file-input').setInputFiles([join(PHOTOS, 'issue-exifr-36.jpg')]);
    await expect.poll(() => page.locator('#grid .photo-card').count(), { timeout: 30_000 }).toBe(7);

    // Duplicate: a new album with a copy of every photo, opened.
    await page.getByRole('button', { name: 'Duplicate album' }).click();
    expect(await dialog.getByLabel('Name of the copy').inputValue()).toBe('holiday-2018-copy');
    await dialog.getByRole('button', { name: 'Duplicate' }).click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe('holiday-2018-copy');
    await expect.poll(() => page.locator('#grid .photo-card').count(), { timeout: 30_000 }).toBe(7);
    await expect.poll(() => tile('holiday-2018-copy').locator('.album-count').textContent()).toBe('7 photos');
    albums = await listed();
    expect(albums.find((album) => album.id === 'holiday-2018-copy')?.images_count).toBe(7);
    expect(albums.find((album) => album.id === 'holiday-2018')?.images_count).toBe(7);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-albums.png'), fullPage: true });

    // Move one photo of the copy to the other album, from the viewer.
    const viewer = page.locator('#viewer');
    const moved = (await page.locator('#grid .photo-card').first().getAttribute('data-image-id'))!;
    await page.locator('#grid .photo-card').first().getByRole('button').click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(moved);
    await viewer.getByRole('button', { name: 'Move…' }).click();
    await dialog.getByLabel('Album to move it to').fill(other);
    await dialog.getByRole('button', { name: 'Move' }).click();
    await expect.poll(() => page.locator('#grid .photo-card').count()).toBe(6);
    await expect.poll(() => viewer.getAttribute('data-image-id')).not.toBe(moved);
    await viewer.getByRole('button', { name: 'Close' }).click();
    await expect.poll(() => tile(other).locator('.album-count').textContent()).toBe('1 photo');
    const inOther = (await apiCall(page, `/albums/${encodeURIComponent(other)}/images`)).body as { id: string }[];
    expect(inOther.map((image) => image.id)).toEqual([moved]);
    expect((await apiCall(page, `/images/${moved}`)).body.album_id).toBe(other);

    // A phone: merge the copy into the other album; the copy is gone, its photos moved.
    await page.setViewportSize(PHONE);
    await page.getByRole('button', { name: 'Merge into…' }).click();
    await dialog.getByLabel('Album to merge into').fill('no-such-album');
    await dialog.getByRole('button', { name: 'Merge' }).click();
    await dialog.getByText('No album named “no-such-album”').waitFor();
    await dialog.getByLabel('Album to merge into').fill(other);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-merge-phone.png') });
    await dialog.getByRole('button', { name: 'Merge' }).click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe(other);
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => page.locator('#grid .photo-card').count(), { timeout: 30_000 }).toBe(7);
    await expect.poll(() => tile('holiday-2018-copy').count()).toBe(0);
    expect(await tile(other).locator('.album-count').textContent()).toBe('7 photos');
    albums = await listed();
    expect(albums.some((album) => album.id === 'holiday-2018-copy')).toBe(false);
    expect(albums.find((album) => album.id === other)?.images_count).toBe(7);
    // The list scrolls sideways on a phone, within the page's width.
    const box = await page.locator('#albums').boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
    expect(await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-albums-phone.png'), fullPage: true });
    await page.setViewportSize(DESKTOP);
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 120_000);

  it('selects photos to copy them, then pastes them into another album, at desktop and phone (touch) sizes', async () => {
    const list = page.locator('#album-list');
    const tile = (name: string) => list.locator(`.album-tile[data-album-id="${name}"]`);
    const cards = page.locator('#grid .photo-card');
    const bar = page.locator('#selection-bar');
    const clip = page.locator('#clipboard-bar');
    const listed = async () => ((await apiCall(page, '/albums?limit=100')).body as { id: string; images_count: number }[]);
    const other = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('album')!; // the album merged into: 7 photos
    await dismissNotices(page);

    // Desktop: tick two photos of holiday-2018 (a tick starts select mode), copy them.
    await tile('holiday-2018').click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe('holiday-2018');
    await expect.poll(() => cards.count()).toBe(7);
    const sources = await cardIds(page);
    await cards.nth(0).getByRole('checkbox').check();
    await bar.waitFor();
    expect(await bar.locator('#selection-count').textContent()).toBe('1 selected');
    await cards.nth(1).getByRole('checkbox').check();
    expect(await bar.locator('#selection-count').textContent()).toBe('2 selected');
    expect(await page.locator('#grid .photo-card.selected').count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-selected.png') });
    await bar.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => clip.locator('#clipboard-label').textContent()).toBe('2 photos copied from this album: open another album to paste them.');
    expect(await bar.isHidden()).toBe(true);
    expect(await page.locator('#paste').isHidden()).toBe(true); // not into the album copied from
    expect(await page.locator('#grid .photo-card.selected').count()).toBe(0);

    // Another album: Paste here; the copies join the grid without a reload, the counts follow.
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    await tile(other).click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe(other);
    await expect.poll(() => cards.count()).toBe(7);
    const before = await cardIds(page);
    await clip.getByRole('button', { name: 'Paste 2 photos here' }).click();
    await expect.poll(() => cards.count()).toBe(9);
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    const pasted = (await cardIds(page)).filter((id) => !before.includes(id));
    expect(pasted).toHaveLength(2);
    await page.locator('#notices').getByText(`Pasted 2 photos into “${other}”.`).waitFor();
    expect(await page.locator('#images-count').textContent()).toBe('9');
    await expect.poll(() => tile(other).locator('.album-count').textContent()).toBe('9 photos');
    expect(await tile('holiday-2018').locator('.album-count').textContent()).toBe('7 photos');
    expect(await clip.locator('#clipboard-label').textContent()).toBe('2 photos copied from “holiday-2018”, pasted here.');
    // Through the API: two new images of this album, sharing the assets of the two copied.
    const copies = await Promise.all(pasted.map(async (id) => (await apiCall(page, `/images/${id}`)).body as ImageJson));
    const originals = await Promise.all(sources.slice(0, 2).map(async (id) => (await apiCall(page, `/images/${id}`)).body as ImageJson));
    expect(copies.map((copy) => copy.album_id)).toEqual([other, other]);
    expect(copies.map(assetOf)).toEqual(originals.map(assetOf));
    expect(copies.map((copy) => copy.filename)).toEqual(originals.map((original) => original.filename));
    expect(originals.map((original) => original.album_id)).toEqual(['holiday-2018', 'holiday-2018']);
    expect(((await apiCall(page, `/albums/${encodeURIComponent(other)}/images?limit=100`)).body as unknown[]).length).toBe(9);
    let albums = await listed();
    expect(albums.find((album) => album.id === other)?.images_count).toBe(9);
    expect(albums.find((album) => album.id === 'holiday-2018')?.images_count).toBe(7);
    for (const id of pasted) await expect.poll(() => page.locator(`#grid .photo-card[data-image-id="${id}"] .thumb.loaded`).count(), { timeout: 30_000 }).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-pasted.png'), fullPage: true });

    // A clipboard the server does not hold: told, nothing pasted, nothing else changed.
    await dismissNotices(page);
    await page.evaluate(() =>
      (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem(
        'albumkit-demo.clipboard',
        JSON.stringify({ id: '00000000-0000-4000-8000-000000000000', count: 1, from: 'holiday-2018', fromName: 'holiday-2018', pasted: [] }),
      ),
    );
    await tile('holiday-2018').click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe('holiday-2018');
    await tile(other).click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe(other);
    await clip.getByRole('button', { name: 'Paste 1 photo here' }).click();
    await page.locator('#notices .notice.error').getByText('The copied photos are no longer on the server’s clipboard: nothing was pasted.').waitFor();
    expect(await clip.isHidden()).toBe(true);
    expect(await cards.count()).toBe(9);
    expect((await listed()).find((album) => album.id === other)?.images_count).toBe(9);
    await dismissNotices(page);

    // A phone, by touch: Select, tap two photos, Copy; a new album; Paste here.
    phone = await touchPhone('holiday-2018');
    const phoneCards = phone.locator('#grid .photo-card');
    const phoneBar = phone.locator('#selection-bar');
    await expect.poll(() => phoneCards.count(), { timeout: 30_000 }).toBe(7);
    await phone.getByRole('button', { name: 'Select', exact: true }).tap();
    await phoneBar.waitFor();
    expect(await phoneBar.locator('#selection-count').textContent()).toBe('No photo selected');
    await phoneCards.nth(2).locator('.photo-frame').tap();
    await phoneCards.nth(3).locator('.photo-frame').tap();
    expect(await phoneBar.locator('#selection-count').textContent()).toBe('2 selected');
    expect(await phone.locator('#viewer').isVisible()).toBe(false); // a tap selects, and opens nothing
    await phoneCards.nth(3).locator('.photo-frame').tap(); // a second tap unselects
    expect(await phoneBar.locator('#selection-count').textContent()).toBe('1 selected');
    await phoneCards.nth(3).locator('.photo-frame').tap();
    const phoneSources = (await cardIds(phone)).slice(2, 4);
    const barBox = (await phoneBar.boundingBox())!;
    expect(barBox.x + barBox.width).toBeLessThanOrEqual(PHONE.width);
    await phone.screenshot({ path: join(ARTIFACTS, 'demo-selected-phone.png') });
    await phoneBar.getByRole('button', { name: 'Copy' }).tap();
    await expect.poll(() => phone.locator('#clipboard-label').textContent()).toBe('2 photos copied from this album: open another album to paste them.');
    await phone.getByRole('button', { name: 'New album' }).tap();
    await expect.poll(() => phone.locator('#album-title').textContent()).not.toBe('holiday-2018');
    await phone.locator('#empty').waitFor();
    const fresh = new URLSearchParams(new URL(phone.url()).hash.slice(1)).get('album')!;
    await phone.locator('#clipboard-bar').getByRole('button', { name: 'Paste 2 photos here' }).tap();
    await expect.poll(() => phoneCards.count()).toBe(2);
    expect(await phone.locator('#empty').isHidden()).toBe(true);
    expect(await phone.locator('#images-count').textContent()).toBe('2');
    await expect.poll(() => phone.locator(`.album-tile[data-album-id="${fresh}"] .album-count`).textContent()).toBe('2 photos');
    const phoneCopies = (await apiCall(phone, `/albums/${encodeURIComponent(fresh)}/images`)).body as ImageJson[];
    const phoneOriginals = await Promise.all(phoneSources.map(async (id) => assetOf((await apiCall(phone, `/images/${id}`)).body as ImageJson)));
    expect(phoneCopies.map(assetOf)).toEqual(phoneOriginals);
    albums = await listed();
    expect(albums.find((album) => album.id === fresh)?.images_count).toBe(2);
    expect(albums.find((album) => album.id === 'holiday-2018')?.images_count).toBe(7);
    expect(await phone.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await phone.screenshot({ path: join(ARTIFACTS, 'demo-pasted-phone.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 120_000);

  it('deletes selected photos together, with an Undo that restores them all, at desktop and phone (touch) sizes', async () => {
    const list = page.locator('#album-list');
    const tile = (name: string) => list.locator(`.album-tile[data-album-id="${name}"]`);
    const cards = page.locator('#grid .photo-card');
    const bar = page.locator('#selection-bar');
    const albumId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('album')!; // 9 photos, 2 of them pasted
    const trashIds = async (on: Page, album: string) =>
      ((await apiCall(on, `/trashed_images?album_id=${encodeURIComponent(album)}`)).body as { id: string }[]).map((t) => t.id).sort();
    const countOf = async (album: string) => ((await apiCall(page, '/albums?limit=100')).body as { id: string; images_count: number }[]).find((a) => a.id === album)?.images_count;
    await dismissNotices(page);
    expect(await cards.count()).toBe(9);
    expect(await trashIds(page, albumId)).toEqual([]);

    // Desktop: Select, click two photos (in select mode a click selects), Delete.
    await page.getByRole('button', { name: 'Select', exact: true }).click();
    await bar.waitFor();
    const all = await cardIds(page);
    const chosen = [all[0]!, all[4]!];
    await cards.nth(0).locator('.photo-frame').click();
    await cards.nth(4).locator('.photo-frame').click();
    expect(await page.locator('#viewer').isVisible()).toBe(false);
    expect(await bar.locator('#selection-count').textContent()).toBe('2 selected');
    await bar.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => cards.count()).toBe(7);
    expect((await cardIds(page)).filter((id) => chosen.includes(id))).toEqual([]);
    expect(await page.locator('#images-count').textContent()).toBe('7');
    expect(await bar.isHidden()).toBe(true);
    await expect.poll(() => tile(albumId).locator('.album-count').textContent()).toBe('7 photos');
    const notice = page.locator('#notices .notice').filter({ hasText: '2 photos were moved to the trash.' });
    await notice.waitFor();
    expect(await trashIds(page, albumId)).toEqual([...chosen].sort());
    for (const id of chosen) expect((await apiCall(page, `/images/${id}`)).status).toBe(404);
    expect(await countOf(albumId)).toBe(7);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-bulk-deleted.png') });

    // Undo: both back, in the grid, the counts and the API.
    await notice.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => cards.count()).toBe(9);
    await page.locator('#notices').getByText('2 photos are back in the album.').waitFor();
    expect((await cardIds(page)).filter((id) => chosen.includes(id)).sort()).toEqual([...chosen].sort());
    await expect.poll(() => tile(albumId).locator('.album-count').textContent()).toBe('9 photos');
    expect(await trashIds(page, albumId)).toEqual([]);
    for (const id of chosen) expect((await apiCall(page, `/images/${id}`)).status).toBe(200);
    expect(await countOf(albumId)).toBe(9);

    // All or nothing: a selected photo deleted meanwhile (elsewhere) refuses the whole delete; told,
    // nothing else deleted, the other photo still selected.
    await dismissNotices(page);
    const [first, second] = await cardIds(page);
    await cards.nth(0).getByRole('checkbox').check();
    await cards.nth(1).getByRole('checkbox').check();
    expect((await apiCall(page, `/images/${first}`, 'DELETE')).status).toBe(204);
    await bar.getByRole('button', { name: 'Delete' }).click();
    await page.locator('#notices .notice.error').getByText('Nothing was deleted: 1 of the 2 selected photos was deleted or moved meanwhile. The others are still selected: try again.').waitFor();
    expect((await apiCall(page, `/images/${second}`)).status).toBe(200);
    await expect.poll(() => cards.count()).toBe(8); // read again: the one deleted elsewhere is gone
    expect(await bar.locator('#selection-count').textContent()).toBe('1 selected');
    expect(await page.locator(`#grid .photo-card[data-image-id="${second}"]`).getAttribute('class')).toContain('selected');
    expect(await trashIds(page, albumId)).toEqual([first]);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-bulk-refused.png') });
    await bar.getByRole('button', { name: 'Cancel' }).click();
    expect(await bar.isHidden()).toBe(true);
    expect((await apiCall(page, `/trashed_images/${first}`, 'DELETE')).status).toBe(200);
    await dismissNotices(page);
    await tile('holiday-2018').click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe('holiday-2018');
    await tile(albumId).click();
    await expect.poll(() => cards.count()).toBe(9);

    // A phone, by touch: Select, Select all, Delete the album's two photos; Undo.
    const phoneCards = phone.locator('#grid .photo-card');
    const phoneBar = phone.locator('#selection-bar');
    const fresh = new URLSearchParams(new URL(phone.url()).hash.slice(1)).get('album')!;
    expect(await phoneCards.count()).toBe(2);
    const phoneIds = (await cardIds(phone)).sort();
    await phone.getByRole('button', { name: 'Select', exact: true }).tap();
    await phoneBar.getByRole('button', { name: 'Select all' }).tap();
    expect(await phoneBar.locator('#selection-count').textContent()).toBe('2 selected');
    await phoneBar.getByRole('button', { name: 'Delete' }).tap();
    await expect.poll(() => phoneCards.count()).toBe(0);
    await phone.locator('#empty').waitFor();
    expect(await phone.locator('#select-mode').isHidden()).toBe(true);
    await expect.poll(() => phone.locator(`.album-tile[data-album-id="${fresh}"] .album-count`).textContent()).toBe('0 photos');
    expect(await trashIds(phone, fresh)).toEqual(phoneIds);
    expect(await countOf(fresh)).toBe(0);
    const phoneNotice = phone.locator('#notices .notice').filter({ hasText: '2 photos were moved to the trash.' });
    await phone.screenshot({ path: join(ARTIFACTS, 'demo-bulk-deleted-phone.png') });
    await phoneNotice.getByRole('button', { name: 'Undo' }).tap();
    await expect.poll(() => phoneCards.count()).toBe(2);
    expect((await cardIds(phone)).sort()).toEqual(phoneIds);
    await expect.poll(() => phone.locator(`.album-tile[data-album-id="${fresh}"] .album-count`).textContent()).toBe('2 photos');
    expect(await trashIds(phone, fresh)).toEqual([]);
    expect(await countOf(fresh)).toBe(2);
    await phone.context().close();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 120_000);

  it('tags a photo in the viewer: a new tag, one from the suggestions, one removed, at desktop and phone (touch) sizes', async () => {
    const viewer = page.locator('#viewer');
    const cards = page.locator('#grid .photo-card');
    const chips = viewer.locator('#viewer-tags .chip');
    const input = viewer.getByRole('combobox', { name: 'Add a tag' });
    const options = viewer.locator('#tag-suggestions [role="option"]');
    const albumId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('album')!;
    await dismissNotices(page);
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    // A tag made beforehand, to be found by the suggestions: blue, so its text is white.
    const holiday = (await apiCall(page, '/tags', 'POST', { name: 'Holiday 2018', color: '#2196F3' })).body as TagLinkJson['tag'];
    expect([holiday.color, holiday.color_contrast]).toEqual(['#2196F3', '#ffffff']);

    // Desktop: a new tag, typed, Enter (the suggestions offer to create it).
    const id = (await cards.first().getAttribute('data-image-id'))!;
    await cards.first().getByRole('button').click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(id);
    await viewer.locator('#viewer-tags-empty').waitFor();
    expect(await tagsOf(page, id)).toEqual([]);
    await input.fill('Sunset');
    await options.filter({ hasText: 'Create “Sunset”' }).waitFor();
    await input.press('Enter');
    await chips.filter({ hasText: 'Sunset' }).waitFor();
    expect(await input.inputValue()).toBe('');
    const [sunset] = ((await apiCall(page, `/tag_images?image_id=${id}`)).body as TagLinkJson[]).map((link) => link.tag);
    expect(sunset!.name).toBe('Sunset');
    // Its colours: the API's colour, and the text colour the API gives for it.
    expect(await chipColours(chips.filter({ hasText: 'Sunset' }))).toEqual([rgb(sunset!.color), rgb(sunset!.color_contrast)]);

    // A second one from the suggestions, by the keyboard: ↓ then Enter.
    await input.fill('holi');
    const suggestion = options.filter({ hasText: 'Holiday 2018' });
    await suggestion.waitFor();
    await input.press('ArrowDown');
    expect(await suggestion.getAttribute('aria-selected')).toBe('true');
    expect(await input.getAttribute('aria-activedescendant')).toBe(await suggestion.getAttribute('id'));
    await input.press('Enter');
    await expect.poll(() => chips.count()).toBe(2);
    expect(await chipColours(chips.filter({ hasText: 'Holiday 2018' }))).toEqual(['rgb(33, 150, 243)', 'rgb(255, 255, 255)']);
    expect(await tagsOf(page, id)).toEqual(['Holiday 2018', 'Sunset']);
    // A tag the photo has is not suggested again; Escape closes the list, not the viewer.
    await input.fill('Holiday');
    await options.filter({ hasText: 'Create “Holiday”' }).waitFor();
    expect(await options.filter({ hasText: 'Holiday 2018' }).count()).toBe(0);
    await input.press('Escape');
    await expect.poll(() => viewer.locator('#tag-suggestions').isVisible()).toBe(false);
    expect(await viewer.isVisible()).toBe(true);
    await input.fill('');
    await viewer.locator('#viewer-title').click(); // out of the input: no list
    await expect.poll(() => viewer.locator('#tag-suggestions').isVisible()).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-tags.png') });

    // × takes one off: exactly the other one stays linked.
    await viewer.getByRole('button', { name: 'Remove tag Sunset' }).click();
    await expect.poll(() => chips.count()).toBe(1);
    expect(await chips.getAttribute('data-tag-name')).toBe('Holiday 2018');
    expect(await tagsOf(page, id)).toEqual(['Holiday 2018']);
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // Opened again: the chips are read from the API.
    await viewer.getByRole('button', { name: 'Close' }).click();
    await cards.first().getByRole('button').click();
    await expect.poll(() => chips.count()).toBe(1);
    expect(await chips.textContent()).toContain('Holiday 2018');
    await viewer.getByRole('button', { name: 'Close' }).click();

    // A phone, by touch: an existing tag tapped in the suggestions, a new one created, one removed.
    phone = await touchPhone(albumId);
    const phoneViewer = phone.locator('#viewer');
    const phoneChips = phoneViewer.locator('#viewer-tags .chip');
    const phoneInput = phoneViewer.getByRole('combobox', { name: 'Add a tag' });
    const phoneOptions = phoneViewer.locator('#tag-suggestions [role="option"]');
    const phoneCards = phone.locator('#grid .photo-card');
    await expect.poll(() => phoneCards.count(), { timeout: 30_000 }).toBe(9);
    const second = (await phoneCards.nth(1).getAttribute('data-image-id'))!;
    await phoneCards.nth(1).getByRole('button').tap();
    await expect.poll(() => phoneViewer.getAttribute('data-image-id')).toBe(second);
    await phoneViewer.locator('#viewer-tags-empty').waitFor();
    await phoneInput.tap();
    await phoneInput.fill('sun');
    await phoneOptions.filter({ hasText: 'Sunset' }).first().waitFor();
    await phoneOptions.and(phone.locator('[data-tag-name="Sunset"]')).tap();
    await phoneChips.filter({ hasText: 'Sunset' }).waitFor();
    await phoneInput.fill('Beach');
    await phoneOptions.filter({ hasText: 'Create “Beach”' }).tap();
    await expect.poll(() => phoneChips.count()).toBe(2);
    expect(await tagsOf(phone, second)).toEqual(['Beach', 'Sunset']);
    const box = (await phoneViewer.boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(PHONE.width);
    await phone.screenshot({ path: join(ARTIFACTS, 'demo-tags-phone.png') });
    await phoneViewer.getByRole('button', { name: 'Remove tag Sunset' }).tap();
    await expect.poll(() => phoneChips.count()).toBe(1);
    expect(await tagsOf(phone, second)).toEqual(['Beach']);
    await phoneViewer.getByRole('button', { name: 'Close' }).tap();
    expect(await tagsOf(page, id)).toEqual(['Holiday 2018']); // the desktop's photo kept its tag
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 120_000);

  it('tags selected photos together, then finds them by search (pages, nothing found, a bad query marked, a chip), at desktop and phone (touch) sizes', async () => {
    const cards = page.locator('#grid .photo-card');
    const bar = page.locator('#selection-bar');
    const dialog = page.locator('#tag-dialog');
    const box = page.getByRole('searchbox', { name: 'Search photos' });
    const results = page.locator('#search-grid .photo-card');
    const viewer = page.locator('#viewer');
    await dismissNotices(page);

    // Select two photos, Tag…, type a new tag: both tagged in one request.
    await page.getByRole('button', { name: 'Select', exact: true }).click();
    await bar.waitFor();
    const all = await cardIds(page);
    const chosen = [all[2]!, all[4]!];
    await cards.nth(2).locator('.photo-frame').click();
    await cards.nth(4).locator('.photo-frame').click();
    expect(await bar.locator('#selection-count').textContent()).toBe('2 selected');
    await bar.getByRole('button', { name: 'Tag…' }).click();
    await dialog.waitFor();
    expect(await dialog.locator('#tag-dialog-title').textContent()).toBe('Tag 2 photos');
    await dialog.getByRole('combobox', { name: 'Tag' }).fill('Picked');
    await dialog.locator('#tag-dialog-suggestions').getByText('Create “Picked”').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'demo-tag-selected.png') });
    await dialog.getByRole('button', { name: 'Tag', exact: true }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await page.locator('#notices').getByText('2 photos were tagged “Picked”.').waitFor();
    expect(await bar.isHidden()).toBe(true);
    expect(await taggedWith(page, 'Picked')).toEqual([...chosen].sort());

    // All or nothing: a selected photo deleted meanwhile refuses the whole request, told in the dialog.
    await dismissNotices(page);
    const [first, other] = [all[6]!, all[7]!];
    await cards.nth(6).getByRole('checkbox').check();
    await cards.nth(7).getByRole('checkbox').check();
    expect((await apiCall(page, `/images/${first}`, 'DELETE')).status).toBe(204);
    await bar.getByRole('button', { name: 'Tag…' }).click();
    await dialog.getByRole('combobox', { name: 'Tag' }).fill('Picked');
    await dialog.getByRole('button', { name: 'Tag', exact: true }).click();
    await dialog.getByText('Nothing was tagged: 1 of the 2 selected photos was deleted or moved meanwhile. The others are still selected: try again.').waitFor();
    expect(await taggedWith(page, 'Picked')).toEqual([...chosen].sort());
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await bar.getByRole('button', { name: 'Cancel' }).click();
    expect((await apiCall(page, `/trashed_images/${first}`, 'DELETE')).status).toBe(200);
    expect((await tagsOf(page, other)).includes('Picked')).toBe(false);
    // Restored elsewhere: the album read again.
    const albumId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('album')!;
    await page.locator('#album-list .album-tile[data-album-id="holiday-2018"]').click();
    await expect.poll(() => page.locator('#album-title').textContent()).toBe('holiday-2018');
    await page.locator(`#album-list .album-tile[data-album-id="${albumId}"]`).click();
    await expect.poll(() => cardIds(page)).toEqual(all);

    // Search: exactly the two photos tagged, the album out of the way; opened, the viewer goes through the results.
    await box.fill('tags:"Picked"');
    await box.press('Enter');
    await expect.poll(() => resultIds(page).then((ids) => ids.sort())).toEqual([...chosen].sort());
    expect(await page.locator('#search-count').textContent()).toBe('2');
    expect(await page.locator('#album-view').isVisible()).toBe(false);
    expect(await page.locator('#search-more').isHidden()).toBe(true);
    expect(await page.locator('#search-empty').isHidden()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-search.png') });
    const found = await resultIds(page);
    await results.first().getByRole('button').click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(found[0]);
    expect(await viewer.locator('#viewer-position').textContent()).toBe('1 of 2');
    await expect.poll(() => viewer.locator('#viewer-tags .chip').count()).toBe(1);
    await viewer.getByRole('button', { name: 'Next photo' }).click();
    await expect.poll(() => viewer.getAttribute('data-image-id')).toBe(found[1]);
    await viewer.getByRole('button', { name: 'Close' }).click();

    // Every photo (*), a page at a time: More adds the next page until there is none.
    const everything = ((await apiCall(page, '/search?q=*&limit=100')).body as ImageJson[]).map((image) => image.id);
    expect(everything.length).toBeGreaterThan(12);
    await box.fill('*');
    await box.press('Enter');
    await expect.poll(() => results.count()).toBe(12);
    expect(await page.locator('#search-count').textContent()).toBe('12+');
    while (await page.locator('#search-more').isVisible()) {
      const before = await results.count();
      await page.locator('#search-more').click();
      await expect.poll(async () => (await results.count()) > before || (await page.locator('#search-more').isHidden())).toBe(true);
    }
    expect(await resultIds(page)).toEqual(everything); // newest first, each once
    expect(await page.locator('#search-count').textContent()).toBe(String(everything.length));

    // Nothing found: said so.
    await box.fill('tags:"no such tag"');
    await box.press('Enter');
    await page.locator('#search-empty').getByText('No photo matches this search.').waitFor();
    expect(await results.count()).toBe(0);
    expect(await page.locator('#search-count').textContent()).toBe('0');

    // A bad query: the API's message, the part at fault marked under the box and selected in it.
    const selection = () => box.evaluate((node) => { const input = node as unknown as { selectionStart: number; selectionEnd: number }; return [input.selectionStart, input.selectionEnd]; });
    await box.fill('(unbalanced');
    await box.press('Enter');
    const error = page.locator('#search-error');
    await error.getByText('unbalanced parentheses: ( without ) at position 0').waitFor();
    expect(await error.locator('mark').textContent()).toBe('(');
    expect(await selection()).toEqual([0, 1]);
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    expect(await results.count()).toBe(0);
    expect(await page.locator('#search-empty').isHidden()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-search-error.png') });
    await box.fill('tags:"Picked" AND');
    expect(await box.getAttribute('aria-invalid')).toBeNull(); // typing clears it
    await box.press('Enter');
    await error.getByText('a term is expected after AND at position 17').waitFor();
    expect(await selection()).toEqual([14, 17]); // at the end: the last word
    expect(await page.locator('#notices .notice.error').count()).toBe(0); // told in place, not as a notice

    // A chip in the viewer searches its tag.
    await page.getByRole('button', { name: 'Close search' }).click();
    expect(await page.locator('#album-view').isVisible()).toBe(true);
    const [holidayPhoto] = await taggedWith(page, 'Holiday 2018');
    await page.locator(`#grid .photo-card[data-image-id="${holidayPhoto}"]`).getByRole('button').click();
    await viewer.locator('#viewer-tags .chip').filter({ hasText: 'Holiday 2018' }).getByRole('button', { name: 'Holiday 2018', exact: true }).click();
    await expect.poll(() => viewer.isVisible()).toBe(false);
    expect(await box.inputValue()).toBe('tags:"Holiday 2018"');
    await expect.poll(() => resultIds(page)).toEqual([holidayPhoto]);
    await page.getByRole('button', { name: 'Close search' }).click();

    // A phone, by touch: Select, tap two photos, Tag…, tap a suggestion; then search for that tag.
    const phoneCards = phone.locator('#grid .photo-card');
    const phoneBar = phone.locator('#selection-bar');
    const phoneDialog = phone.locator('#tag-dialog');
    const phoneBox = phone.getByRole('searchbox', { name: 'Search photos' });
    await phone.reload(); // the photo deleted and restored on the desktop meanwhile: read again
    await expect.poll(() => phoneCards.count(), { timeout: 30_000 }).toBe(9);
    const phoneAll = await cardIds(phone);
    const phoneChosen = [phoneAll[5]!, phoneAll[6]!];
    const beachBefore = await taggedWith(phone, 'Beach');
    await phone.getByRole('button', { name: 'Select', exact: true }).tap();
    await phoneCards.nth(5).locator('.photo-frame').tap();
    await phoneCards.nth(6).locator('.photo-frame').tap();
    expect(await phoneBar.locator('#selection-count').textContent()).toBe('2 selected');
    await phoneBar.getByRole('button', { name: 'Tag…' }).tap();
    await phoneDialog.waitFor();
    await phoneDialog.getByRole('combobox', { name: 'Tag' }).fill('Bea');
    await phoneDialog.locator('#tag-dialog-suggestions [data-tag-name="Beach"]').tap();
    await expect.poll(() => phoneDialog.isVisible()).toBe(false);
    await phone.locator('#notices').getByText('2 photos were tagged “Beach”.').waitFor();
    const beach = [...new Set([...beachBefore, ...phoneChosen])].sort();
    expect(await taggedWith(phone, 'Beach')).toEqual(beach);
    await phoneBox.tap();
    await phoneBox.fill('tags:"Beach"');
    await phoneBox.press('Enter');
    await expect.poll(() => resultIds(phone).then((ids) => ids.sort())).toEqual(beach);
    expect(await phone.locator('#album-view').isVisible()).toBe(false);
    expect(await pageWidth(phone)).toBeLessThanOrEqual(PHONE.width);
    await phone.screenshot({ path: join(ARTIFACTS, 'demo-search-phone.png'), fullPage: true });
    await phone.locator('#search-grid .photo-card').first().getByRole('button').tap();
    await expect.poll(() => phone.locator('#viewer').getAttribute('data-image-id')).toBe((await resultIds(phone))[0]);
    await phone.locator('#viewer').getByRole('button', { name: 'Close' }).tap();
    await phoneBox.fill('tags:(Beach');
    await phoneBox.press('Enter');
    await phone.locator('#search-error').getByText('unbalanced parentheses').waitFor();
    expect(await pageWidth(phone)).toBeLessThanOrEqual(PHONE.width);
    await phone.locator('#close-search').tap();
    await phone.context().close();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 180_000);

  it('imports photos from a URL (the sample; again; a missing one and a private address told), shares a public link, downloads the selection as a zip, at desktop and phone sizes', async () => {
    await dismissNotices(page);
    await page.setViewportSize(DESKTOP);
    await page.getByRole('button', { name: 'New album' }).click();
    await expect.poll(() => page.locator('#grid .photo-card').count()).toBe(0);
    const albumId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('album')!;
    const rows = page.locator('#uploads .upload');
    const sampleUrl = new URL('/samples/sample.jpg', openUrl).href;

    // The sample: fetched by the worker from this server, stored on Cloudinary, processed with its EXIF.
    await page.getByRole('button', { name: 'Use the sample photo' }).click();
    expect(await page.locator('#import-url').inputValue()).toBe(sampleUrl);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await rows.filter({ hasText: 'sample.jpg' }).filter({ hasText: 'Imported' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => page.locator('#grid .photo-card[data-processed="true"]').count(), { timeout: 60_000 }).toBe(1);
    const [imported] = (await apiCall(page, `/albums/${encodeURIComponent(albumId)}/images`)).body as ImageJson[];
    expect(await page.locator('#grid .photo-card time.taken').getAttribute('datetime')).toBe('2015-06-12T13:40:32.410+00:00');
    await expect.poll(() => page.locator('#grid .photo-card .thumb.loaded').count(), { timeout: 30_000 }).toBe(1);

    // The same submission again is the same import: told, and still one photo.
    await page.locator('#import-url').fill(sampleUrl);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await rows.filter({ hasText: 'Already imported' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('#grid .photo-card').count()).toBe(1);

    // A missing file, and an address imports may not reach: told in plain words, nothing made.
    await page.locator('#import-url').fill(new URL('/samples/missing.jpg', openUrl).href);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.locator('#notices').getByText('The import of “missing.jpg” failed: HTTP 404.').waitFor({ timeout: 30_000 });
    await rows.filter({ hasText: 'Not imported: HTTP 404' }).waitFor();
    await page.locator('#import-url').fill('http://10.0.0.1/inside.jpg');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.locator('#notices').getByText(/The import of “inside\.jpg” failed: refused/).waitFor({ timeout: 30_000 });
    expect(await page.locator('#grid .photo-card').count()).toBe(1);
    expect((await apiCall(page, `/albums/${encodeURIComponent(albumId)}/images`)).body).toHaveLength(1);
    await dismissNotices(page);

    // Share link: a lasting public link, which opens the photo in an <img> without any token.
    await page.getByRole('button', { name: `Open ${imported!.filename}`, exact: true }).click();
    const viewer = page.locator('#viewer');
    await expect.poll(() => viewer.locator('.gps').textContent()).toBe('37.7468° N, 119.5299° W');
    await viewer.getByRole('button', { name: 'Share link' }).click();
    await viewer.locator('#share-box').waitFor();
    const link = await viewer.locator('#share-url').inputValue();
    expect(new URL(link).origin).toBe(new URL(openUrl).origin);
    expect(await viewer.getByRole('link', { name: 'Open link' }).getAttribute('href')).toBe(link);
    const shown = await page.evaluate(
      (src) =>
        new Promise<number[] | null>((resolve) => {
          const image = new (globalThis as unknown as { Image: new () => { onload: () => void; onerror: () => void; src: string; naturalWidth: number; naturalHeight: number } }).Image();
          image.onload = () => resolve([image.naturalWidth, image.naturalHeight]);
          image.onerror = () => resolve(null);
          image.src = src;
        }),
      link,
    );
    // The link's rendition: the photo (150 × 100) fitted into 1920 × 1920, as Cloudinary's c_fit does.
    expect(shown).toEqual([1920, 1280]);
    const anonymous = await fetch(link);
    expect([anonymous.status, anonymous.headers.get('content-type')]).toEqual([200, 'image/jpeg']);

    // Phone: the import form and the share box fit the screen.
    await page.setViewportSize(PHONE);
    expect(await viewer.locator('#share-box').isVisible()).toBe(true);
    expect(await pageWidth(page)).toBeLessThanOrEqual(PHONE.width);
    await viewer.getByRole('button', { name: 'Close' }).click();
    expect(await page.locator('#import-form').isVisible()).toBe(true);
    expect(await pageWidth(page)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: join(ARTIFACTS, 'demo-import-phone.png'), fullPage: true });
    await page.setViewportSize(DESKTOP);

    // Download: the selection as a zip, from a signed link; its one entry is the imported file, byte for byte.
    await page.getByRole('button', { name: 'Select', exact: true }).click();
    await page.locator('#grid .photo-card').first().getByRole('checkbox').check();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#selection-bar').getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^images-[0-9a-f]{8}\.zip$/);
    expect(new URL(download.url()).pathname).toMatch(/^\/downloads\/[0-9a-f-]{36}\/zip$/);
    const zipped = readFileSync((await download.path())!);
    const entries = await zipEntries(zipped);
    expect(entries.map((entry) => entry.name)).toEqual([`${imported!.filename}.jpg`]); // the name, with its format's extension
    expect(entries[0]!.bytes.equals(readFileSync(join(ROOT, 'examples/express/public/samples/sample.jpg')))).toBe(true);
    await page.locator('#notices').getByText('Downloading').waitFor();
    await page.locator('#select-cancel').click();
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
  }, 180_000);

  it('an invalid token is told in plain words', async () => {
    await page.evaluate(() => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('albumkit-demo.token', 'not-a-token'));
    await page.reload();
    await page.locator('#notices').getByText('Your session expired').waitFor();
    await page.locator('#sign-in').waitFor();
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('stops cleanly on SIGTERM', async () => {
    // `close`: every process writing to the pipes (npm and the node process it runs) has exited.
    const closed = new Promise((resolve) => server.once('close', resolve));
    process.kill(-server.pid!, 'SIGTERM');
    await closed;
    expect(output).toContain('albumkit demo stopped.');
  }, 30_000);
});
