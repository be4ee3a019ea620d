import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { HeaderValue } from '@albumkit/core';
import { AdapterHttpError, ClientAbortedError, payloadTooLarge } from './errors.js';

/**
 * Request bodies: read as bytes, never parsed here (the core parses JSON and Rails-style forms
 * with its own limits). Reading stops as soon as `limit` is exceeded.
 */

function header(headers: Record<string, HeaderValue>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Checks the framing headers before reading anything: declared length, content encoding. */
export function checkDeclaredBody(headers: Record<string, HeaderValue>, limit: number): void {
  const length = header(headers, 'content-length');
  if (length !== undefined) {
    const declared = Number(length);
    if (!/^\d+$/.test(length.trim()) || !Number.isSafeInteger(declared)) {
      throw new AdapterHttpError(400, 'bad_request', 'malformed Content-Length', true);
    }
    if (declared > limit) throw payloadTooLarge(limit);
  }
  const encoding = header(headers, 'content-encoding')?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw new AdapterHttpError(415, 'unsupported_media_type', `Content-Encoding ${encoding} is not supported`, true);
  }
}

/** True when the request announces no body at all (no length, no chunked transfer). */
export function hasNoBody(headers: Record<string, HeaderValue>): boolean {
  const length = header(headers, 'content-length');
  return header(headers, 'transfer-encoding') === undefined && (length === undefined || length.trim() === '0');
}

function isAbort(error: unknown, req: IncomingMessage): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return req.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR';
}

/**
 * Reads a node request stream into one buffer, pulling chunk by chunk (back-pressure: the
 * socket is only read as fast as we consume). Throws 413 as soon as the limit is exceeded,
 * leaving the rest unread; `ClientAbortedError` when the client goes away.
 */
export async function readNodeStream(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    // destroyOnReturn: false keeps the socket open after an early exit so the 413 can be sent.
    for await (const chunk of req.iterator({ destroyOnReturn: false })) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buffer.byteLength;
      if (size > limit) {
        req.pause();
        throw payloadTooLarge(limit);
      }
      chunks.push(buffer);
    }
  } catch (error) {
    if (error instanceof AdapterHttpError) throw error;
    if (isAbort(error, req)) throw new ClientAbortedError(error);
    throw error;
  }
  // A request whose socket closed before `end` yields no error on every Node version.
  if (!req.complete) throw new ClientAbortedError();
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** Reads a WHATWG request body (fetch runtimes) with the same limit and early stop. */
export async function readWebStream(body: ReadableStream<Uint8Array>, limit: number, signal?: AbortSignal): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        throw payloadTooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof AdapterHttpError) throw error;
    if (signal?.aborted || (error as { name?: string })?.name === 'AbortError') throw new ClientAbortedError(error);
    throw new ClientAbortedError(error);
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** True when someone (a host body parser) already read from the node request stream. */
export function isConsumed(req: IncomingMessage): boolean {
  return req.readableEnded || Readable.isDisturbed(req);
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%5B/gi, '[').replace(/%5D/gi, ']');
}

/**
 * No albumkit configuration accepts more than 64 levels of nesting (`limits.depth` ≤ 64). A
 * host-parsed value nested deeper (a hostile `{"a":{"a":…}}` ten thousand levels deep) would
 * overflow the stack of `JSON.stringify`; it is cut at 66 levels instead, which the core then
 * refuses with its usual 400, exactly as when it parses the raw bytes itself.
 */
const MAX_DEPTH = 66;

function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= max) return true;
    for (const child of Object.values(current)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

function truncate(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return {};
  if (Array.isArray(value)) return value.map((item) => truncate(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, truncate(v, depth + 1)]));
}

function boundDepth(value: unknown): unknown {
  return nestsDeeperThan(value, MAX_DEPTH) ? truncate(value, 0) : value;
}

function encodeInto(out: string[], key: string, value: unknown): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object') {
    out.push(`${encodeKey(key)}=${encodeURIComponent(value === null ? '' : String(value))}`);
    return;
  }
  if (Array.isArray(value)) {
    const primitives = value.every((v) => v === null || typeof v !== 'object');
    value.forEach((item, i) => {
      // `a[]=1&a[]=2` for lists of values (a key already ending in `[]` is repeated as is);
      // `a[0][k]=…` for lists of objects.
      const itemKey = primitives ? (key.endsWith('[]') ? key : `${key}[]`) : `${key}[${i}]`;
      encodeInto(out, itemKey, item);
    });
    return;
  }
  for (const [k, v] of Object.entries(value)) encodeInto(out, key ? `${key}[${k}]` : k, v);
}

/**
 * Re-encodes a form body that a host parser (`express.urlencoded`, `koa-bodyparser`) turned
 * into an object, Rails style: nested objects become `a[b]=…`, lists `a[]=…`. Works for both
 * flat (`{'a[b]': '1'}`, `extended: false`) and nested (`{a: {b: '1'}}`, `extended: true`)
 * results; the core then parses it again under its own limits.
 */
export function encodeForm(body: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(body)) encodeInto(out, k, v);
  return out.join('&');
}

/**
 * The body bytes when a host parser already consumed the stream: what it kept (`rawBody`,
 * `express.raw()`/`text()` results), else a reconstruction from the parsed value. JSON is
 * re-serialized with `JSON.stringify`, byte-exact only for compact JSON (as Cloudinary sends);
 * use `rawBodySaver` to keep the exact bytes.
 */
export function bodyFromHost(kept: unknown, parsed: unknown, contentType: string | undefined): Uint8Array | string | undefined {
  if (typeof kept === 'string' || kept instanceof Uint8Array) return kept;
  if (typeof parsed === 'string' || parsed instanceof Uint8Array) return parsed;
  if (parsed === undefined || parsed === null) return undefined;
  const type = mediaType(contentType);
  if (type === 'application/json' || type.endsWith('+json')) return JSON.stringify(boundDepth(parsed));
  if (type === 'application/x-www-form-urlencoded' && typeof parsed === 'object' && !Array.isArray(parsed)) {
    return encodeForm(boundDepth(parsed) as Record<string, unknown>);
  }
  // Some other parser (multipart, xml…) consumed the stream: nothing faithful to give the core.
  throw new AdapterHttpError(415, 'unsupported_media_type', `${type || 'this content type'} is not supported`);
}

export function byteLength(body: Uint8Array | string): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}
