import { apiSignature, type AlbumkitConfig } from '@albumkit/core';
import { RemoteReadError } from '../metadata/errors.js';

/**
 * Stores a fetched file on Cloudinary with a signed upload (the same options as an album's
 * upload form, so the result reads as an upload's: EXIF in `image_metadata`, the album as tag,
 * `authenticated` delivery). Resolves to the upload result. Cloudinary's 4xx (not an image, too
 * large) is final; its 5xx and network errors may succeed on a retry.
 */
export async function uploadToCloudinary(
  cloudinary: AlbumkitConfig['cloudinary'],
  file: Buffer,
  options: { filename: string; albumId: string; timeoutMs?: number; now?: number },
): Promise<Record<string, unknown>> {
  const signed = {
    colors: 1,
    faces: 1,
    image_metadata: 1,
    phash: 1,
    tags: options.albumId,
    timestamp: options.now ?? Math.floor(Date.now() / 1000),
    type: 'authenticated',
  };
  const form = new FormData();
  for (const [key, value] of Object.entries(signed)) form.append(key, String(value));
  form.append('signature', apiSignature(signed, cloudinary.apiSecret));
  form.append('api_key', cloudinary.apiKey);
  form.append('file', new Blob([file]), options.filename);
  const endpoint = `${cloudinary.uploadPrefix.replace(/\/+$/, '')}/v1_1/${encodeURIComponent(cloudinary.cloudName)}/image/upload`;
  let response: Response;
  try {
    response = await fetch(endpoint, { method: 'POST', body: form, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
  } catch (error) {
    throw new RemoteReadError(`Cloudinary upload: ${(error as Error).message}`, { unrecoverable: false, cause: error });
  }
  const text = await response.text().catch(() => '');
  let answer: Record<string, unknown> | undefined;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    answer = undefined;
  }
  if (response.status === 200 && answer && typeof answer.public_id === 'string') return answer;
  const message = (answer?.error as { message?: unknown } | undefined)?.message;
  const reason = typeof message === 'string' ? message : text.slice(0, 200) || 'no body';
  const retry = response.status === 420 || response.status === 429 || response.status >= 500;
  throw new RemoteReadError(`Cloudinary upload refused (${response.status}): ${reason}`, { unrecoverable: !retry, status: response.status });
}
