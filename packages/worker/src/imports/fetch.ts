import http from 'node:http';
import https from 'node:https';
import { checkLiteralAddress, checkRemoteUrl, pinnedLookup, RemoteTargetError } from '@albumkit/core';
import { RemoteReadError } from '../metadata/errors.js';

export interface RemoteFilePolicy {
  /** Most bytes of one file; a larger one is refused (by its Content-Length, or once that many arrived). */
  maxBytes: number;
  /** The whole fetch, redirects included. */
  timeoutMs: number;
  /** Redirects followed at most. */
  maxRedirects: number;
  /**
   * Hosts that may be reached although they resolve to private, loopback or link-local
   * addresses (an intranet server): `host` (default port), `host:port` or `host:*` (any port), matched exactly.
   * Every other host must resolve only to public addresses.
   */
  allowPrivateHosts: readonly string[];
}

export const DEFAULT_REMOTE_FILE_POLICY: RemoteFilePolicy = { maxBytes: 25 * 1024 * 1024, timeoutMs: 30_000, maxRedirects: 5, allowPrivateHosts: [] };

export interface RemoteFile {
  bytes: Buffer;
  contentType: string | null;
  /** The URL the file came from, after redirects. */
  url: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Fetches a file from a URL someone outside gave. Each hop is checked before it is connected
 * to: http(s) only, no credentials in the URL, and the host's addresses public (no loopback,
 * private, link-local, CGNAT, multicast, reserved or cloud-metadata targets) unless the host is
 * listed in `allowPrivateHosts`. The connection goes to the very address that was checked (the
 * lookup is pinned), so a name that resolves differently a moment later cannot slip through.
 * Redirects are followed by hand, each target checked the same way; the caller's headers go only
 * to the first URL's origin. Size and time are capped.
 */
export async function fetchRemoteFile(url: string, headers: Record<string, string>, policy: RemoteFilePolicy): Promise<RemoteFile> {
  const deadline = Date.now() + policy.timeoutMs;
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; ; hop++) {
    const target = checkTarget(current);
    const sameOrigin = target.origin === origin;
    const answer = await request(target, sameOrigin ? headers : {}, policy, deadline);
    if (answer.kind === 'file') return { ...answer.file, url: target.href };
    if (hop >= policy.maxRedirects) throw new RemoteReadError(`too many redirects (more than ${policy.maxRedirects})`, { unrecoverable: true });
    try {
      current = new URL(answer.location, target).href;
    } catch {
      throw new RemoteReadError('redirect to an invalid URL', { unrecoverable: true });
    }
  }
}

/** The remote policy's refusals, as the errors of a remote read (permanent ones are not retried). */
function readError(error: unknown): RemoteReadError {
  if (error instanceof RemoteReadError) return error;
  if (error instanceof RemoteTargetError) return new RemoteReadError(error.message, { unrecoverable: error.permanent, cause: error.cause });
  return new RemoteReadError(`network error: ${(error as Error).message}`, { unrecoverable: false, cause: error });
}

function checkTarget(url: string): URL {
  try {
    return checkRemoteUrl(url);
  } catch (error) {
    throw readError(error);
  }
}

type Answer = { kind: 'file'; file: Omit<RemoteFile, 'url'> } | { kind: 'redirect'; location: string };

function request(target: URL, headers: Record<string, string>, policy: RemoteFilePolicy, deadline: number): Promise<Answer> {
  try {
    checkLiteralAddress(target, policy.allowPrivateHosts);
  } catch (error) {
    return Promise.reject(readError(error));
  }
  const left = deadline - Date.now();
  if (left <= 0) return Promise.reject(timedOut(policy));
  return new Promise<Answer>((resolve, reject) => {
    const client = target.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(readError(error));
    };
    const timer = setTimeout(() => fail(timedOut(policy)), left);
    const req = client.request(
      target,
      {
        method: 'GET',
        headers: { ...headers, 'accept-encoding': 'identity', 'user-agent': 'albumkit-import' },
        lookup: pinnedLookup(target, policy.allowPrivateHosts),
        agent: false,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (REDIRECTS.has(status)) {
          const location = res.headers.location;
          res.resume();
          if (!location) return fail(new RemoteReadError(`redirect (${status}) without a Location`, { unrecoverable: true, status }));
          settled = true;
          clearTimeout(timer);
          req.destroy();
          return resolve({ kind: 'redirect', location });
        }
        if (status < 200 || status >= 300) {
          res.resume();
          const retry = status === 408 || status === 429 || status >= 500;
          return fail(new RemoteReadError(`HTTP ${status}`, { unrecoverable: !retry, status }));
        }
        const length = res.headers['content-length'];
        if (length !== undefined && /^\d+$/.test(length) && Number(length) > policy.maxBytes) {
          return fail(new RemoteReadError(`too large: ${length} bytes (at most ${policy.maxBytes})`, { unrecoverable: true, status }));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > policy.maxBytes) return fail(new RemoteReadError(`too large: more than ${policy.maxBytes} bytes`, { unrecoverable: true, status }));
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ kind: 'file', file: { bytes: Buffer.concat(chunks, size), contentType: res.headers['content-type'] ?? null } });
        });
        res.on('error', fail);
        res.on('aborted', () => fail(new RemoteReadError('the server closed the connection mid-file', { unrecoverable: false })));
      },
    );
    req.on('error', fail);
    req.end();
  });
}

function timedOut(policy: RemoteFilePolicy): RemoteReadError {
  return new RemoteReadError(`timed out after ${policy.timeoutMs} ms`, { unrecoverable: false });
}
