import { ByteLimitExceeded, RemoteReadError } from './errors.js';
import { extractFromSource } from './extract.js';
import type { ByteSource } from './source.js';
import { SparseBytes } from './sparse-bytes.js';
import type { ImageMetadata, RemoteReadOptions } from './types.js';
import { checkRemoteUrl } from './url-policy.js';

const DEFAULTS = { maxBytes: 8 * 1024 * 1024, firstChunkBytes: 64 * 1024, timeoutMs: 10_000 };

/**
 * A remote file read by HTTP range requests, on demand: the container readers ask for headers
 * and the EXIF block, and only the missing bytes are requested (at least `firstChunkBytes` at a
 * time, to keep the number of round trips low). A server that ignores Range (200 with the whole
 * file) is read from the start and cut off once enough has arrived; redirects are never followed.
 */
class RemoteSource implements ByteSource {
  bytesFetched = 0;
  /** The file's size once a response told it (Content-Range total, or a 200's length). */
  size: number | null = null;
  private readonly cache = new SparseBytes();
  /** Set after a 200 to a range request: every later read restarts from byte 0. */
  private rangeIgnored = false;
  private readonly fetchImpl: typeof fetch;
  private readonly maxBytes: number;
  private readonly minFetch: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly url: URL,
    options: RemoteReadOptions,
  ) {
    this.fetchImpl = options.fetch ?? fetch;
    this.maxBytes = positive(options.maxBytes, DEFAULTS.maxBytes);
    this.minFetch = positive(options.firstChunkBytes, DEFAULTS.firstChunkBytes);
    this.timeoutMs = positive(options.timeoutMs, DEFAULTS.timeoutMs);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.size !== null) length = Math.min(length, this.size - offset);
    if (length <= 0) return new Uint8Array(0);
    for (;;) {
      const segment = this.cache.find(offset);
      const have = segment ? segment.start + segment.bytes.length : offset;
      if (have >= offset + length || (this.size !== null && have >= this.size)) {
        return segment ? segment.bytes.subarray(offset - segment.start, Math.min(have, offset + length) - segment.start) : new Uint8Array(0);
      }
      const progressed = await this.fetchMore(have, offset + length);
      if (!progressed) return segment ? segment.bytes.subarray(offset - segment.start) : new Uint8Array(0); // the file ends here
    }
  }

  /** Fetches from `from` to at least `needEnd`; false when nothing more could be read. */
  private async fetchMore(from: number, needEnd: number): Promise<boolean> {
    let end = Math.max(needEnd, from + this.minFetch);
    if (this.size !== null) end = Math.min(end, this.size);
    const cost = (to: number) => (this.rangeIgnored ? to : to - from);
    const left = this.maxBytes - this.bytesFetched;
    if (cost(needEnd) > left) throw new ByteLimitExceeded(this.maxBytes);
    if (cost(end) > left) end = this.rangeIgnored ? left : from + left;
    return this.request(from, end);
  }

  private async request(from: number, end: number): Promise<boolean> {
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(this.timeoutMs)]);
    try {
      let response: Response;
      try {
        response = await this.fetchImpl(this.url.href, {
          headers: { range: `bytes=${from}-${end - 1}`, 'accept-encoding': 'identity' },
          redirect: 'manual',
          signal,
        });
      } catch (error) {
        throw transportError(error, signal);
      }
      const { status } = response;
      if (response.type === 'opaqueredirect' || (status >= 300 && status < 400)) {
        throw new RemoteReadError(`redirect (${status}) refused: redirects are not followed`, { unrecoverable: true, status });
      }
      if (status === 416) {
        // Asked past the end: Content-Range "bytes */<size>" tells the size.
        const total = /^bytes \*\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
        this.size = total === undefined ? from : Number(total);
        return false;
      }
      const encoding = (response.headers.get('content-encoding') ?? 'identity').toLowerCase();
      if (status === 206) {
        // Offsets of a compressed partial body would not be file offsets.
        if (encoding !== 'identity') throw new RemoteReadError(`partial response with content-encoding ${encoding}`, { unrecoverable: true, status });
        const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
        if (!range || Number(range[1]) !== from) throw new RemoteReadError('partial response for another range than asked', { unrecoverable: true, status });
        if (range[3] !== '*') this.size = Number(range[3]);
        const body = await this.readBody(response, end - from, signal);
        this.cache.insert(from, body.bytes);
        return body.bytes.length > 0;
      }
      if (status === 200) {
        // Range ignored: the body is the whole file from byte 0; read what is needed and hang up.
        this.rangeIgnored = true;
        const length = response.headers.get('content-length');
        if (length !== null && /^\d+$/.test(length) && encoding === 'identity') this.size = Number(length);
        const body = await this.readBody(response, end, signal);
        if (body.ended) this.size = body.bytes.length;
        this.cache.insert(0, body.bytes);
        return body.bytes.length > from;
      }
      const retry = status === 408 || status === 429 || status >= 500;
      throw new RemoteReadError(`HTTP ${status}`, { unrecoverable: !retry, status });
    } finally {
      controller.abort(); // closes the connection if the body was not read to its end
    }
  }

  /** Reads at most `limit` bytes of the body; every byte received counts, kept or not. */
  private async readBody(response: Response, limit: number, signal: AbortSignal): Promise<{ bytes: Uint8Array; ended: boolean }> {
    const out = new Uint8Array(limit);
    let filled = 0;
    let ended = false;
    if (!response.body) return { bytes: out.subarray(0, 0), ended: true };
    const reader = response.body.getReader();
    try {
      while (filled < limit) {
        const { done, value } = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        this.bytesFetched += value.byteLength;
        const take = Math.min(value.byteLength, limit - filled);
        out.set(value.subarray(0, take), filled);
        filled += take;
      }
    } catch (error) {
      throw transportError(error, signal);
    } finally {
      reader.cancel().catch(() => undefined);
    }
    return { bytes: out.subarray(0, filled), ended };
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

function transportError(error: unknown, signal: AbortSignal): RemoteReadError {
  if (error instanceof RemoteReadError) return error;
  const timedOut = signal.aborted && (signal.reason as { name?: string } | undefined)?.name === 'TimeoutError';
  return new RemoteReadError(timedOut ? 'timed out' : `network error: ${(error as Error)?.message ?? error}`, { unrecoverable: false, cause: error });
}

/**
 * Reads a remote image's metadata without downloading the whole file: the URL is checked
 * against `allowedHosts` first (nothing is fetched otherwise), then only the head and the EXIF
 * block are requested. `bytesFetched` counts every body byte received; `fileSize` is null when
 * no response told it.
 */
export async function extractMetadataFromUrl(
  url: string,
  options: RemoteReadOptions,
): Promise<{ metadata: ImageMetadata; bytesFetched: number; fileSize: number | null }> {
  const target = checkRemoteUrl(url, options.allowedHosts);
  const source = new RemoteSource(target, options);
  const metadata = await extractFromSource(source);
  return { metadata, bytesFetched: source.bytesFetched, fileSize: source.size };
}
