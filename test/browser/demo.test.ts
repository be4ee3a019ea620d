import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import packagedChromium from '@sparticuz/chromium';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

/** An <img>'s decoded size: [0, 0] until it has loaded (or when it failed). */
function naturalSize(img: Locator): Promise<number[]> {
  return img.evaluate((node) => {
    const image = node as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number };
    return image.complete ? [image.naturalWidth, image.naturalHeight] : [0, 0];
  });
}

describe('npm start: the demo app in a browser', () => {
  let home: string;
  let server: ChildProcess;
  let output = '';
  let openUrl: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

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
    const document = await page.evaluate(() => fetch('/api/v1/openapi.json').then((r) => r.json()));
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
