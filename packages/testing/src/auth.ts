import { HttpError, echo } from './http.js';
import type { Fields } from './form.js';
import { apiSignature, apiStringToSign, safeEqual } from './signatures.js';

export interface ApiCredentials {
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  timestampToleranceSeconds: number;
}

/**
 * Refuses an API request the way Cloudinary does: 401 for the account or signature, 400 for a
 * missing or stale `timestamp`. Throws HttpError; returns nothing when the request is genuine.
 */
export function verifySignedRequest(cloud: string, fields: Fields, credentials: ApiCredentials, nowMs = Date.now()): void {
  if (cloud !== credentials.cloudName) throw new HttpError(401, `Invalid cloud_name ${echo(cloud)}`);

  const apiKey = fields.api_key;
  if (typeof apiKey !== 'string' || apiKey === '') throw new HttpError(401, 'Must supply api_key');
  if (!safeEqual(apiKey, credentials.apiKey)) throw new HttpError(401, `Unknown API key ${echo(apiKey)}`);

  const timestamp = fields.timestamp;
  if (typeof timestamp !== 'string' || timestamp === '') throw new HttpError(400, 'Missing required parameter - timestamp');
  if (!/^\d{1,12}$/.test(timestamp)) throw new HttpError(400, `Invalid timestamp ${echo(timestamp)}`);
  checkFreshness(Number(timestamp), credentials.timestampToleranceSeconds, nowMs);

  const signature = fields.signature;
  if (typeof signature !== 'string' || signature === '') throw new HttpError(401, 'Missing required parameter - signature');
  const expected = apiSignature(fields, credentials.apiSecret);
  if (!safeEqual(signature.toLowerCase(), expected)) {
    throw new HttpError(401, `Invalid Signature ${echo(signature, 64)}. String to sign - '${apiStringToSign(fields)}'.`);
  }
}

/**
 * Signed upload forms may carry a `timestamp` ahead of now (albumkit signs the form's expiry, a
 * week ahead, as the API always did and Cloudinary accepts); old ones are stale.
 */
export const MAX_FUTURE_SECONDS = 31 * 24 * 3600;

function checkFreshness(timestamp: number, toleranceSeconds: number, nowMs: number): void {
  const now = Math.floor(nowMs / 1000);
  if (now - timestamp <= toleranceSeconds && timestamp - now <= MAX_FUTURE_SECONDS) return;
  const format = (seconds: number) => new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000');
  throw new HttpError(
    400,
    `Stale request - reported time is ${format(timestamp)} which is out of the allowed range of ` +
      `${format(now - toleranceSeconds)} to ${format(now + MAX_FUTURE_SECONDS)}`,
  );
}
