import { Worker } from 'node:worker_threads';

/**
 * HEIC/HEIF decoding. sharp's prebuilt libvips reads an HEIC's header but has no HEVC decoder,
 * so the pixels come from libheif compiled to WebAssembly (`libheif-js`, no install step, no
 * native code), in a worker thread (worker/heic-decoder.cjs), and are handed to sharp as raw
 * pixels for every transformation.
 *
 * Orientation: an HEIF file carries its rotation and mirroring as `irot`/`imir` properties,
 * which libheif applies while decoding (the sizes it reports are after them), so the pixels are
 * already as displayed, like a JPEG after sharp's `autoOrient()`. The EXIF Orientation tag of an
 * HEIC only mirrors those properties (iPhones write both) and is not applied a second time, as
 * the HEIF specification and libvips' own HEIF loader do.
 */

/**
 * Largest HEIC decoded, in pixels (the same bound sharp is given for every other format):
 * above it the file is refused before any pixel is allocated. Decoding costs about 6 bytes a
 * pixel inside the worker and 3 to 4 outside it, so the bound keeps one decode near 1 GB, and
 * decodes run one at a time.
 */
export const MAX_HEIC_PIXELS = 100_000_000;

/** A decode taking longer than this is abandoned (the worker is stopped). */
const DECODE_TIMEOUT_MS = 60_000;
/** The worker (and the WebAssembly memory it holds) goes away after this long unused. */
const IDLE_MS = 5_000;

/** Pixels decoded from an HEIC: interleaved 8-bit RGB or RGBA, rows top to bottom, as displayed. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 3 | 4;
  pixels: Buffer;
}

export type HeicFailure = 'invalid' | 'too-large' | 'failed';

export class HeicDecodeError extends Error {
  constructor(
    readonly reason: HeicFailure,
    message: string,
    /** The size the file announces, when it could be read. */
    readonly size?: { width: number; height: number },
  ) {
    super(message);
    this.name = 'HeicDecodeError';
  }
}

/** `ftyp` brands of HEVC-coded HEIF images (AVIF, AV1-coded, is sharp's own business). */
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);

/** True when the bytes start like an ISO-BMFF HEIC/HEIF file. */
export function looksLikeHeic(data: Uint8Array): boolean {
  if (data.length < 12) return false;
  const text = Buffer.from(data.buffer, data.byteOffset, 12).toString('latin1');
  return text.slice(4, 8) === 'ftyp' && HEIC_BRANDS.has(text.slice(8, 12));
}

interface WorkerAnswer {
  id: number;
  ok: boolean;
  reason?: HeicFailure;
  message?: string;
  width?: number;
  height?: number;
  channels?: 3 | 4;
  pixels?: Uint8Array;
}

const WORKER_FILE = new URL('../worker/heic-decoder.cjs', import.meta.url);

/**
 * One worker, one decode at a time (queued): memory stays bounded by one image whatever the
 * number of requests. The worker is started on demand and stopped when idle, crashed or stuck.
 */
class HeicDecoder {
  private worker: Worker | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private nextId = 1;
  private idleTimer: NodeJS.Timeout | undefined;

  decode(data: Uint8Array, maxPixels: number): Promise<DecodedImage> {
    this.pending++;
    clearTimeout(this.idleTimer);
    const job = this.queue.then(() => this.run(data, maxPixels));
    this.queue = job.catch(() => undefined).finally(() => {
      if (--this.pending === 0) this.idleTimer = setTimeout(() => this.stop(), IDLE_MS).unref();
    });
    return job;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_FILE);
    worker.unref(); // never keeps the process alive
    worker.once('exit', () => {
      if (this.worker === worker) this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }

  private stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }

  private run(data: Uint8Array, maxPixels: number): Promise<DecodedImage> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<DecodedImage>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const fail = (error: Error) => {
        done();
        if (this.worker === worker) this.stop(); // a crashed or stuck decoder is not reused
        reject(error);
      };
      const onMessage = (answer: WorkerAnswer) => {
        if (answer.id !== id) return;
        done();
        if (answer.ok) {
          const pixels = answer.pixels!;
          resolve({
            width: answer.width!,
            height: answer.height!,
            channels: answer.channels!,
            pixels: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength),
          });
          return;
        }
        const size = answer.width && answer.height ? { width: answer.width, height: answer.height } : undefined;
        if (answer.reason === 'failed') this.stop(); // libheif may be left broken
        reject(new HeicDecodeError(answer.reason ?? 'failed', answer.message ?? 'HEIC decoding failed', size));
      };
      const onError = (error: Error) => fail(new HeicDecodeError('failed', `HEIC decoder crashed: ${error.message}`));
      const onExit = (code: number) => fail(new HeicDecodeError('failed', `HEIC decoder stopped (exit code ${code})`));
      const timer = setTimeout(() => fail(new HeicDecodeError('failed', `HEIC decoding took more than ${DECODE_TIMEOUT_MS / 1000} s`)), DECODE_TIMEOUT_MS);
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage({ id, data, maxPixels });
    });
  }
}

const decoder = new HeicDecoder();

/**
 * Decodes an HEIC/HEIF file's primary image. Rejects with a HeicDecodeError: `invalid` (not a
 * readable HEIF file), `too-large` (more than `maxPixels`, refused before decoding) or `failed`.
 */
export function decodeHeic(data: Uint8Array, maxPixels = MAX_HEIC_PIXELS): Promise<DecodedImage> {
  return decoder.decode(data, maxPixels);
}
