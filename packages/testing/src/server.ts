import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { handleDelivery } from './delivery.js';
import { handleDestroy } from './destroy.js';
import { CORS_HEADERS, HttpError, sendApiError, sendDeliveryError } from './http.js';
import { Notifier, type NotificationAttempt } from './notifications.js';
import { AssetStore } from './storage.js';
import { handleUpload, type ApiContext } from './upload.js';

export interface LocalCloudinaryOptions {
  /** Default 'demo'. */
  cloudName?: string;
  /** Default '123456789012345'. */
  apiKey?: string;
  /** Default 'local-secret'. */
  apiSecret?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Storage folder; default a fresh temporary folder, removed by close(). */
  dir?: string;
  /** Delays before each notification retry; default [1000, 5000, 30000]. */
  notificationRetryDelaysMs?: number[];
  /** An upload `timestamp` further than this from now is refused as stale; default 3600. */
  timestampToleranceSeconds?: number;
}

export interface LocalCloudinary {
  /** Base URL of both the upload API and delivery, e.g. `http://127.0.0.1:40123`. */
  url: string;
  cloudName: string;
  apiKey: string;
  apiSecret: string;
  /** `cloudinary://key:secret@cloud?upload_prefix=<url>&delivery_prefix=<url>` */
  cloudinaryUrl: string;
  /** Every notification delivery attempt, in order. */
  notifications: NotificationAttempt[];
  close(): Promise<void>;
}

/** Longest request target accepted; real delivery URLs are far shorter. */
const MAX_URL_LENGTH = 2048;

/** Starts a local Cloudinary-compatible server: signed upload API, notifications, signed delivery. */
export async function startLocalCloudinary(options: LocalCloudinaryOptions = {}): Promise<LocalCloudinary> {
  const cloudName = options.cloudName ?? 'demo';
  const apiKey = options.apiKey ?? '123456789012345';
  const apiSecret = options.apiSecret ?? 'local-secret';
  const host = options.host ?? '127.0.0.1';
  const retryDelays = options.notificationRetryDelaysMs ?? [1000, 5000, 30000];
  const tolerance = options.timestampToleranceSeconds ?? 3600;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cloudName)) throw new Error(`Invalid cloudName: ${cloudName}`);
  if (!apiKey || !apiSecret || /[\s:@/]/.test(apiKey) || /\s/.test(apiSecret)) throw new Error('Invalid apiKey or apiSecret');
  if (retryDelays.some((delay) => !Number.isFinite(delay) || delay < 0)) throw new Error('Invalid notificationRetryDelaysMs');
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new Error('Invalid timestampToleranceSeconds');

  const ownsDir = options.dir === undefined;
  const dir = ownsDir ? await mkdtemp(join(tmpdir(), 'albumkit-cloudinary-')) : resolve(options.dir!);
  await mkdir(dir, { recursive: true });

  const notifier = new Notifier(apiSecret, retryDelays);
  const store = new AssetStore(dir, cloudName);
  const context: ApiContext = {
    credentials: { cloudName, apiKey, apiSecret, timestampToleranceSeconds: tolerance },
    baseUrl: '', // known once listening
    store,
    notifier,
  };

  const server = createServer((req, res) => {
    route(req, res, context).catch((error: unknown) => fail(req, res, error));
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  context.baseUrl = url;

  let closed: Promise<void> | undefined;
  return {
    url,
    cloudName,
    apiKey,
    apiSecret,
    cloudinaryUrl: `cloudinary://${encodeURIComponent(apiKey)}:${encodeURIComponent(apiSecret)}@${cloudName}?upload_prefix=${url}&delivery_prefix=${url}`,
    notifications: notifier.log,
    close() {
      closed ??= (async () => {
        await notifier.close();
        await new Promise<void>((resolveClose) => {
          server.close(() => resolveClose());
          server.closeAllConnections();
        });
        if (ownsDir) await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

async function route(req: IncomingMessage, res: ServerResponse, context: ApiContext): Promise<void> {
  const target = req.url ?? '/';
  if (target.length > MAX_URL_LENGTH) throw new HttpError(414, 'URL too long');
  // The raw (still percent-encoded) path: delivery signatures cover it as written.
  const path = target.split('?')[0]!;
  const segments = path.split('/').slice(1);

  if (segments[0] === 'v1_1') {
    const [, cloud, resourceType, action, ...extra] = segments;
    if (req.method === 'OPTIONS') return preflight(req, res);
    if (!cloud || !resourceType || extra.length > 0 || (action !== 'upload' && action !== 'destroy')) {
      req.resume();
      throw new HttpError(404, 'Not found');
    }
    if (req.method !== 'POST') {
      req.resume();
      throw new HttpError(405, `Use POST for ${action}`);
    }
    if (action === 'upload') return handleUpload(req, res, context, cloud, resourceType);
    return handleDestroy(req, res, context, cloud, resourceType);
  }

  req.resume(); // deliveries have no body worth reading
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'Use GET or HEAD');
  const [cloud, ...rest] = segments;
  if (cloud !== context.credentials.cloudName) throw new HttpError(404, 'Resource not found');
  return handleDelivery(req, res, { apiSecret: context.credentials.apiSecret, store: context.store }, rest);
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.writeHead(204, {
    ...CORS_HEADERS,
    'Access-Control-Allow-Methods': 'POST, OPTIONS',
    'Access-Control-Allow-Headers': String(req.headers['access-control-request-headers'] ?? 'Content-Type').slice(0, 500),
    'Access-Control-Max-Age': '600',
  });
  res.end();
}

function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    // Mid-stream (typically the client went away): nothing sensible left to say.
    res.destroy();
    return;
  }
  const httpError = error instanceof HttpError ? error : new HttpError(500, 'Internal error of the local Cloudinary server');
  if (!(error instanceof HttpError)) console.error('[albumkit-cloudinary]', error);
  if ((req.url ?? '').startsWith('/v1_1/')) sendApiError(res, httpError);
  else sendDeliveryError(req, res, httpError);
}

