import qs from 'qs';
import type { Limits } from '../config.js';
import { BadRequest, PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

/**
 * Request bodies and query strings: JSON, and form-encoded with Rails-style nested keys
 * (`cloudinary[image_metadata][JFIFVersion]=1.01`, `ids[]=…`) parsed by `qs`. Every size, depth
 * and count that comes from outside is capped.
 */

export type Parsed = Record<string, unknown>;

function qsOptions(limits: Limits): qs.IParseOptions {
  return {
    depth: limits.depth,
    strictDepth: true,
    arrayLimit: limits.arrayLength,
    parameterLimit: limits.parameters,
    throwOnLimitExceeded: true,
    allowPrototypes: false,
    // `a[0]=x` and `a[]=x` both make arrays, as Rails does; sparse indices are compacted.
    parseArrays: true,
  };
}

function parseForm(text: string, limits: Limits, what: string): Parsed {
  try {
    return qs.parse(text, qsOptions(limits)) as Parsed;
  } catch (error) {
    throw new BadRequest(`${what}: ${(error as Error).message}`);
  }
}

export function parseQuery(query: string | Record<string, unknown> | undefined, limits: Limits): Parsed {
  if (query === undefined || query === '') return {};
  if (typeof query === 'string') {
    if (query.length > limits.bodyBytes) throw new BadRequest('query string too long');
    return parseForm(query, limits, 'query');
  }
  checkShape(query, limits, 'query');
  return query;
}

/** Walks a parsed value and refuses excessive depth, array length or object width. */
export function checkShape(value: unknown, limits: Limits, what: string, depth = 0): void {
  if (value === null || typeof value !== 'object') return;
  if (depth > limits.depth) throw new BadRequest(`${what}: nested deeper than ${limits.depth} levels`);
  if (Array.isArray(value)) {
    if (value.length > limits.arrayLength) throw new BadRequest(`${what}: array longer than ${limits.arrayLength} items`);
    for (const item of value) checkShape(item, limits, what, depth + 1);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length > limits.arrayLength) throw new BadRequest(`${what}: object with more than ${limits.arrayLength} keys`);
  for (const key of keys) checkShape((value as Record<string, unknown>)[key], limits, what, depth + 1);
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The request body as an object: from the raw bytes when present, else from a host-parsed body. */
export function parseBody(raw: Uint8Array | string | undefined, hostParsed: unknown, contentType: string | undefined, limits: Limits): Parsed {
  const type = mediaType(contentType);
  if (raw !== undefined) {
    const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
    if (size > limits.bodyBytes) throw new PayloadTooLarge(`request body larger than ${limits.bodyBytes} bytes`);
    if (size === 0) return {};
    const text = typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
    if (type === 'application/json' || type.endsWith('+json')) {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new BadRequest('body: invalid JSON');
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequest('body: a JSON object is expected');
      checkShape(value, limits, 'body');
      return value as Parsed;
    }
    if (type === 'application/x-www-form-urlencoded' || type === '') return parseForm(text, limits, 'body');
    throw new UnsupportedMediaType(type);
  }
  if (hostParsed === undefined || hostParsed === null) return {};
  if (typeof hostParsed === 'string' || hostParsed instanceof Uint8Array) return parseBody(hostParsed, undefined, contentType, limits);
  if (typeof hostParsed !== 'object' || Array.isArray(hostParsed)) throw new BadRequest('body: an object is expected');
  checkShape(hostParsed, limits, 'body');
  return hostParsed as Parsed;
}
