import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
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
   * addresses (an intranet server): `host` (default port) or `host:port`, matched exactly.
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

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };
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

function checkTarget(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RemoteReadError('refused: not a valid absolute URL', { unrecoverable: true });
  }
  if (!(parsed.protocol in DEFAULT_PORTS)) throw new RemoteReadError(`refused: scheme ${parsed.protocol} (http and https only)`, { unrecoverable: true });
  if (parsed.username || parsed.password) throw new RemoteReadError('refused: credentials in the URL', { unrecoverable: true });
  return parsed;
}

/** Whether a host (as in the URL, port included) may reach non-public addresses. */
function privateAllowed(target: URL, policy: RemoteFilePolicy): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = target.port || DEFAULT_PORTS[target.protocol]!;
  return policy.allowPrivateHosts.some((entry) => {
    const wanted = entry.trim().toLowerCase();
    return wanted === `${host}:${port}` || wanted === `[${host}]:${port}` || (port === DEFAULT_PORTS[target.protocol] && (wanted === host || wanted === `[${host}]`));
  });
}

/** Public unicast only: `ipaddr.js` names every special range (loopback, private, linkLocal, carrierGradeNat, uniqueLocal, reserved…). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** A lookup that answers only checked addresses; net.connect uses what it answers, so the check is the connection's. */
function pinnedLookup(target: URL, policy: RemoteFilePolicy): LookupFunction {
  const allowPrivate = privateAllowed(target, policy);
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, ...(options.family ? { family: options.family } : {}) })
      .then((found) => {
        if (found.length === 0) throw new RemoteReadError(`refused: ${hostname} has no address`, { unrecoverable: true });
        const refused = found.find((entry) => !allowPrivate && !isPublicAddress(entry.address));
        if (refused) throw new RemoteReadError(`refused: ${hostname} resolves to ${refused.address}, not a public address`, { unrecoverable: true });
        if (options.all) callback(null, found);
        else callback(null, found[0]!.address, found[0]!.family);
      })
      .catch((error: unknown) => {
        const failure =
          error instanceof RemoteReadError ? error : new RemoteReadError(`cannot resolve ${hostname}: ${(error as Error).message}`, { unrecoverable: (error as { code?: string }).code === 'ENOTFOUND', cause: error });
        callback(failure as NodeJS.ErrnoException, '', 4);
      });
  };
}

type Answer = { kind: 'file'; file: Omit<RemoteFile, 'url'> } | { kind: 'redirect'; location: string };

function request(target: URL, headers: Record<string, string>, policy: RemoteFilePolicy, deadline: number): Promise<Answer> {
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !privateAllowed(target, policy) && !isPublicAddress(literal)) {
    return Promise.reject(new RemoteReadError(`refused: ${literal} is not a public address`, { unrecoverable: true }));
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
      reject(error instanceof RemoteReadError ? error : new RemoteReadError(`network error: ${(error as Error).message}`, { unrecoverable: false, cause: error }));
    };
    const timer = setTimeout(() => fail(timedOut(policy)), left);
    const req = client.request(
      target,
      {
        method: 'GET',
        headers: { ...headers, 'accept-encoding': 'identity', 'user-agent': 'albumkit-import' },
        lookup: pinnedLookup(target, policy),
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
