import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import cloudinaryModule from 'cloudinary';
import type { LocalCloudinary } from '../src/index.js';

export const cloudinary = cloudinaryModule.v2;

export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/fixtures/photos/${name}`, import.meta.url));
}

export function fixtureBytes(name: string): Buffer {
  return readFileSync(fixture(name));
}

/**
 * Per-call options pointing the `cloudinary` package at the local server. The SDK picks its
 * http/https module when first loaded (from CLOUDINARY_URL), so an http agent is passed along.
 */
export function sdkOptions(server: LocalCloudinary) {
  return {
    cloud_name: server.cloudName,
    api_key: server.apiKey,
    api_secret: server.apiSecret,
    upload_prefix: server.url,
    agent: new Agent(),
  };
}

/** Options for `cloudinary.url` that produce `http://<host:port>/<cloud>/image/...`. */
export function urlOptions(server: LocalCloudinary) {
  return {
    cloud_name: server.cloudName,
    api_secret: server.apiSecret,
    secure: false,
    private_cdn: false,
    cname: new URL(server.url).host,
    urlAnalytics: false,
  };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** POSTs API parameters as multipart, signed with the SDK's reference signer unless a signature is given. */
export async function postSigned(
  server: LocalCloudinary,
  action: 'upload' | 'destroy',
  params: Record<string, string>,
  options: { file?: Buffer; signature?: string; signWith?: Record<string, string>; apiKey?: string; cloud?: string } = {},
): Promise<{ status: number; body: any }> {
  const signature = options.signature ?? cloudinary.utils.api_sign_request(options.signWith ?? params, server.apiSecret);
  const form = new FormData();
  for (const [key, value] of Object.entries(params)) form.append(key, value);
  form.append('signature', signature);
  form.append('api_key', options.apiKey ?? server.apiKey);
  if (options.file) form.append('file', new Blob([options.file]), 'photo.jpg');
  const response = await fetch(`${server.url}/v1_1/${options.cloud ?? server.cloudName}/image/${action}`, { method: 'POST', body: form });
  return { status: response.status, body: await response.json() };
}

export interface ReceivedNotification {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A notification receiver answering the given statuses in turn (then 200). */
export async function startReceiver(statuses: number[] = []) {
  const requests: ReceivedNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(statuses[requests.length - 1] ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/cloudinary/notifications`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export function sha1Hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
