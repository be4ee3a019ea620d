import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteLimitExceeded, extractMetadata, extractMetadataFromUrl, MetadataError, RemoteReadError, type RemoteReadOptions } from '../src/metadata/index.js';

const dir = new URL('../../../test/fixtures/photos/', import.meta.url);
const facts = JSON.parse(readFileSync(new URL('facts.json', dir), 'utf8')) as Record<string, { expected_taken_at_utc?: string }>;
const names = readdirSync(dir).filter((n) => !/\.(json|md)$/.test(n));
const files = new Map(names.map((n) => [n, new Uint8Array(readFileSync(new URL(n, dir)))]));

/** What the test servers saw: every request, and whether each endless response was hung up on. */
const log: Array<{ path: string; range: string | undefined }> = [];
const endlessClosed: boolean[] = [];
let otherHostHits = 0;

function serveRange(req: IncomingMessage, res: ServerResponse, file: Uint8Array): void {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m) {
    res.writeHead(200, { 'content-length': file.length, 'accept-ranges': 'bytes' }).end(file);
    return;
  }
  const start = Number(m[1]);
  const end = Math.min(m[2] ? Number(m[2]) : file.length - 1, file.length - 1);
  if (start >= file.length) {
    res.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
    return;
  }
  res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${file.length}`, 'content-length': end - start + 1 }).end(file.subarray(start, end + 1));
}

/** An endless 200 body (Range ignored): `pattern` forever, until the client hangs up. */
function serveEndless(res: ServerResponse, head: Uint8Array, pattern: Uint8Array): void {
  const index = endlessClosed.push(false) - 1;
  res.on('close', () => (endlessClosed[index] = true));
  res.writeHead(200, { 'content-type': 'image/jpeg' });
  res.write(head);
  const pump = () => {
    while (!res.destroyed && res.write(pattern));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}

/** A JPEG that never reaches its frame header: SOI, then 64 KB comment segments forever. */
const COM = (() => {
  const segment = new Uint8Array(2 + 65535);
  segment.set([0xff, 0xfe, 0xff, 0xff]);
  return segment;
})();

let server: Server;
let other: Server;
let base: string;
let host: string;
let otherBase: string;

function listen(s: Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  other = createServer((_req, res) => {
    otherHostHits++;
    res.writeHead(200).end('should never be asked');
  });
  otherBase = `http://${await listen(other)}`;
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    log.push({ path: url.pathname, range: req.headers.range });
    const [, kind, name] = url.pathname.split('/');
    const file = files.get(decodeURIComponent(name ?? ''));
    if (kind === 'range' && file) return serveRange(req, res, file);
    if (kind === 'norange' && file) return void res.writeHead(200, { 'content-length': file.length }).end(file);
    if (kind === 'endless-zeros') return serveEndless(res, new Uint8Array(0), new Uint8Array(65536));
    if (kind === 'endless-jpeg') return serveEndless(res, new Uint8Array([0xff, 0xd8]), COM);
    if (kind === 'redirect') return void res.writeHead(302, { location: `${otherBase}/x.jpg` }).end();
    if (kind === 'redirect-same') return void res.writeHead(301, { location: `/range/canon-dslr.jpg` }).end();
    if (kind === 'status') return void res.writeHead(Number(name)).end('no');
    if (kind === 'stall-headers') return; // never answers
    if (kind === 'stall-body') {
      res.writeHead(206, { 'content-range': 'bytes 0-65535/2090815' });
      res.write(new Uint8Array(1000));
      return; // and never finishes
    }
    res.writeHead(404).end();
  });
  host = await listen(server);
  base = `http://${host}`;
});

afterAll(async () => {
  server.closeAllConnections();
  other.closeAllConnections();
  await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => other.close(r))]);
});

const options = (extra: Partial<RemoteReadOptions> = {}): RemoteReadOptions => ({ allowedHosts: [host], ...extra });

/** A fetch that records its calls and counts the body bytes its caller actually pulls. */
function countingFetch() {
  const calls: string[] = [];
  let pulled = 0;
  const wrapped: typeof fetch = async (input, init) => {
    calls.push(String(input));
    const response = await fetch(input, init);
    if (!response.body) return response;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else {
          pulled += value.byteLength;
          controller.enqueue(value);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: wrapped, calls, pulled: () => pulled };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  );
}

const waitFor = async (check: () => boolean, ms = 3000) => {
  for (const start = Date.now(); !check() && Date.now() - start < ms; ) await new Promise((r) => setTimeout(r, 20));
  return check();
};

describe('extractMetadataFromUrl', () => {
  const report: string[] = [];
  afterAll(() => console.log(`remote reads (bytesFetched):\n${report.join('\n')}`));

  for (const name of names) {
    it(`reads ${name} by ranges exactly as in memory`, async () => {
      const inMemory = await extractMetadata(files.get(name)!);
      const remote = await extractMetadataFromUrl(`${base}/range/${encodeURIComponent(name)}`, options());
      expect(remote.metadata).toEqual(inMemory);
      expect(remote.metadata.takenAt?.toISOString() ?? null).toBe(facts[name]!.expected_taken_at_utc ?? null);
      expect(remote.fileSize).toBe(files.get(name)!.length);
      expect(remote.bytesFetched).toBeLessThanOrEqual(files.get(name)!.length);
      report.push(`  ${name}: ${remote.bytesFetched} of ${files.get(name)!.length} bytes`);
    });
  }

  it('fetches at most 128 KB of the 2 MB DSLR JPEG, starting with a 64 KB range', async () => {
    const before = log.length;
    const { metadata, bytesFetched, fileSize } = await extractMetadataFromUrl(`${base}/range/canon-dslr.jpg`, options());
    expect(fileSize).toBe(2090815);
    expect(bytesFetched).toBeLessThanOrEqual(131072);
    expect(log[before]!.range).toBe('bytes=0-65535');
    expect(metadata.takenAt?.toISOString()).toBe('2019-10-26T16:07:24.540Z');
  });

  it('reads a HEIF Exif item with one range request where iloc says it is, skipping the rest', async () => {
    // heic: Exif item at ~15 KB of 1.7 MB; avif: at the very end (~28 KB). With 8 KB chunks the
    // second request must start at the item, not continue from 8 KB.
    for (const name of ['heic-iphone7.heic', 'avif-Irvine_CA.avif']) {
      const before = log.length;
      const remote = await extractMetadataFromUrl(`${base}/range/${name}`, options({ firstChunkBytes: 8192 }));
      expect(remote.metadata).toEqual(await extractMetadata(files.get(name)!));
      const ranges = log.slice(before).map((r) => r.range);
      expect(ranges, name).toHaveLength(2);
      expect(ranges[0]).toBe('bytes=0-8191');
      expect(Number(/^bytes=(\d+)-/.exec(ranges[1]!)![1])).toBeGreaterThan(8192);
      expect(remote.bytesFetched).toBeLessThanOrEqual(2 * 8192);
    }
  });

  it('counts honestly: bytesFetched is what the body delivered', async () => {
    const counter = countingFetch();
    const { bytesFetched } = await extractMetadataFromUrl(`${base}/range/heic-iphone7.heic`, options({ fetch: counter.fetch }));
    expect(bytesFetched).toBe(counter.pulled());
  });

  it('cuts off a server that ignores Range, and still reads every fixture the same', async () => {
    for (const name of names) {
      const counter = countingFetch();
      const remote = await extractMetadataFromUrl(`${base}/norange/${encodeURIComponent(name)}`, options({ fetch: counter.fetch }));
      expect(remote.metadata, name).toEqual(await extractMetadata(files.get(name)!));
      expect(remote.bytesFetched).toBe(counter.pulled());
      if (name === 'canon-dslr.jpg') expect(remote.bytesFetched).toBeLessThanOrEqual(131072);
      report.push(`  ${name} (Range ignored): ${remote.bytesFetched} bytes`);
    }
  });

  it('hangs up on an endless body that is not an image after the first chunk', async () => {
    const counter = countingFetch();
    const error = await rejection(extractMetadataFromUrl(`${base}/endless-zeros/x`, options({ fetch: counter.fetch })));
    expect(error).toBeInstanceOf(MetadataError);
    expect(counter.pulled()).toBeLessThanOrEqual(65536 + 65536);
    expect(await waitFor(() => endlessClosed.every(Boolean))).toBe(true);
  });

  it('stops an endless JPEG that never reaches its frame header at maxBytes', async () => {
    const counter = countingFetch();
    const maxBytes = 1024 * 1024;
    const error = await rejection(extractMetadataFromUrl(`${base}/endless-jpeg/x`, options({ fetch: counter.fetch, maxBytes })));
    expect(error).toBeInstanceOf(ByteLimitExceeded);
    expect((error as RemoteReadError).unrecoverable).toBe(true);
    expect(counter.pulled()).toBeLessThanOrEqual(maxBytes + 65536 * 4); // the last read may overshoot by a chunk
    report.push(`  endless JPEG, maxBytes ${maxBytes}: ${counter.pulled()} bytes read before giving up`);
    expect(await waitFor(() => endlessClosed.every(Boolean))).toBe(true);
  });

  it('respects maxBytes on a ranged file too', async () => {
    const error = await rejection(extractMetadataFromUrl(`${base}/range/heic-iphone7.heic`, options({ maxBytes: 4096, firstChunkBytes: 1024 })));
    expect(error).toBeInstanceOf(ByteLimitExceeded);
  });

  it('works with small chunks (many ranges) and gives the same result', async () => {
    for (const name of names) {
      const remote = await extractMetadataFromUrl(`${base}/range/${encodeURIComponent(name)}`, options({ firstChunkBytes: 512 }));
      expect(remote.metadata, name).toEqual(await extractMetadata(files.get(name)!));
    }
  });

  it('never follows a redirect, to another host or the same one', async () => {
    for (const path of ['/redirect/x', '/redirect-same/x']) {
      const error = await rejection(extractMetadataFromUrl(`${base}${path}`, options({ allowedHosts: [host, otherBase.slice(7)] })));
      expect(error).toBeInstanceOf(RemoteReadError);
      expect((error as RemoteReadError).status).toBeGreaterThanOrEqual(300);
      expect((error as RemoteReadError).unrecoverable).toBe(true);
    }
    expect(otherHostHits).toBe(0);
  });

  it('refuses, before any connection, URLs outside the allow-list', async () => {
    const port = host.split(':')[1];
    const refused = [
      `http://localhost:${port}/range/canon-dslr.jpg`, // same server, other name
      `${otherBase}/x.jpg`, // allowed host, other port
      'http://169.254.169.254/latest/meta-data/',
      `http://user:secret@${host}/range/canon-dslr.jpg`,
      `http://user@${host}/range/canon-dslr.jpg`,
      'file:///etc/passwd',
      `ftp://${host}/canon-dslr.jpg`,
      'data:image/jpeg;base64,/9j/',
      '/range/canon-dslr.jpg',
      'not a url',
      `http://127.0.0.1.nip.io:${port}/range/canon-dslr.jpg`,
    ];
    for (const url of refused) {
      const counter = countingFetch();
      const error = await rejection(extractMetadataFromUrl(url, options({ fetch: counter.fetch })));
      expect(error, url).toBeInstanceOf(RemoteReadError);
      expect((error as RemoteReadError).unrecoverable).toBe(true);
      expect(counter.calls, url).toEqual([]);
    }
    // An empty allow-list allows nothing.
    const counter = countingFetch();
    await rejection(extractMetadataFromUrl(`${base}/range/canon-dslr.jpg`, { allowedHosts: [], fetch: counter.fetch }));
    expect(counter.calls).toEqual([]);
  });

  it('allows a host named without port only on the default port', async () => {
    const counter = countingFetch();
    await rejection(extractMetadataFromUrl(`${base}/range/canon-dslr.jpg`, { allowedHosts: ['127.0.0.1'], fetch: counter.fetch }));
    expect(counter.calls).toEqual([]);
    const calls: string[] = [];
    const fake: typeof fetch = async (input) => {
      calls.push(String(input));
      return new Response(files.get('orientation-f6t.jpg')!, { status: 200 });
    };
    const { metadata } = await extractMetadataFromUrl('https://photos.example.com/a.jpg', { allowedHosts: ['PHOTOS.example.com'], fetch: fake });
    expect(metadata.orientation).toBe(6);
    expect(calls).toEqual(['https://photos.example.com/a.jpg']);
    await rejection(extractMetadataFromUrl('https://photos.example.com:8443/a.jpg', { allowedHosts: ['photos.example.com'], fetch: fake }));
    expect(calls).toHaveLength(1);
  });

  it('times out a server that does not answer, or stalls its body (retryable)', async () => {
    for (const path of ['/stall-headers/x', '/stall-body/x']) {
      const started = Date.now();
      const error = await rejection(extractMetadataFromUrl(`${base}${path}`, options({ timeoutMs: 300 })));
      expect(error).toBeInstanceOf(RemoteReadError);
      expect((error as RemoteReadError).message).toMatch(/timed out/);
      expect((error as RemoteReadError).unrecoverable).toBe(false);
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });

  it('reports HTTP errors: 404 final, 503 retryable', async () => {
    const missing = await rejection(extractMetadataFromUrl(`${base}/status/404`, options()));
    expect(missing).toMatchObject({ status: 404, unrecoverable: true });
    const busy = await rejection(extractMetadataFromUrl(`${base}/status/503`, options()));
    expect(busy).toMatchObject({ status: 503, unrecoverable: false });
  });
});
