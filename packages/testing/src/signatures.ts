import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Cloudinary's signing algorithms. They are checked against the `cloudinary` package
 * (`utils.api_sign_request`, `utils.url`) in test/signatures.test.ts.
 */

export type ParamValue = string | number | readonly (string | number)[] | null | undefined;

/** Parameters Cloudinary leaves out of an API request signature. */
const UNSIGNED = new Set(['file', 'api_key', 'cloud_name', 'resource_type', 'signature']);

/**
 * Signed parameters (empty ones dropped, arrays joined with `,`) sorted by key as `k=v` joined
 * with `&`. An `&` inside a value is written `%26` (signature version 2), so a value cannot
 * smuggle in another parameter.
 */
export function apiStringToSign(params: Readonly<Record<string, ParamValue>>): string {
  const parts: string[] = [];
  for (const key of Object.keys(params).sort()) {
    if (UNSIGNED.has(key)) continue;
    const raw = params[key];
    if (raw === null || raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(',') : String(raw);
    if (value === '') continue;
    parts.push(`${key}=${value}`.replaceAll('&', '%26'));
  }
  return parts.join('&');
}

export function sha1Hex(...parts: (string | Uint8Array)[]): string {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/** Hex SHA-1 signature of an upload or admin API request. */
export function apiSignature(params: Readonly<Record<string, ParamValue>>, apiSecret: string): string {
  return sha1Hex(apiStringToSign(params), apiSecret);
}

/**
 * The `signature` of an upload result. Cloudinary signs it with signature version 1 (no `%26`
 * escaping); public ids and versions never contain `&`, so the two versions agree.
 */
export function uploadResultSignature(publicId: string, version: number, apiSecret: string): string {
  return sha1Hex(`public_id=${publicId}&version=${version}`, apiSecret);
}

/**
 * The `XXXXXXXX` of `s--XXXXXXXX--` in a signed delivery URL, over
 * `<transformation>/<public_id>.<format>` (the version segment is not signed).
 */
export function deliverySignature(toSign: string, apiSecret: string): string {
  const digest = createHash('sha1').update(toSign).update(apiSecret).digest('base64');
  return digest.slice(0, 8).replaceAll('/', '_').replaceAll('+', '-');
}

/** `X-Cld-Signature` of a notification: hex SHA-1 of body + `X-Cld-Timestamp` + API secret. */
export function notificationSignature(body: string, timestamp: number, apiSecret: string): string {
  return sha1Hex(body, String(timestamp), apiSecret);
}

/** Constant-time string comparison (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
