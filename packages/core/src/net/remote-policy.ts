import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The remote policy shared by every connection albumkit opens to a URL someone gave it (imports,
 * webhook receivers): http(s) only, no credentials in the URL, and only public addresses unless
 * the host is listed as allowed to be private. The check is made on the very address connected
 * to (a pinned lookup), so a name that resolves differently a moment later cannot slip through.
 */

export const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** Why a target was refused, or could not be resolved; `permanent` when trying again cannot help. */
export class RemoteTargetError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Public unicast only: `ipaddr.js` names every special range (loopback, private, linkLocal, carrierGradeNat, uniqueLocal, reserved…). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/** Parses a URL and checks its form: absolute, http(s), no user or password. */
export function checkRemoteUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RemoteTargetError('refused: not a valid absolute URL', true);
  }
  if (!(parsed.protocol in DEFAULT_PORTS)) throw new RemoteTargetError(`refused: scheme ${parsed.protocol} (http and https only)`, true);
  if (parsed.username || parsed.password) throw new RemoteTargetError('refused: credentials in the URL', true);
  return parsed;
}

/**
 * Whether a URL's host may reach non-public addresses. Entries: `host` (the scheme's default
 * port), `host:port`, or `host:*` (any port), matched exactly and case-insensitively; IPv6 in brackets.
 */
export function privateHostAllowed(target: URL, allowed: readonly string[]): boolean {
  const host = target.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  const port = target.port || DEFAULT_PORTS[target.protocol]!;
  const defaultPort = port === DEFAULT_PORTS[target.protocol];
  return allowed.some((entry) => {
    const wanted = entry.trim().toLowerCase();
    for (const name of [host, `[${host}]`]) {
      if (wanted === `${name}:${port}` || wanted === `${name}:*` || (defaultPort && wanted === name)) return true;
    }
    return false;
  });
}

/** Refuses a literal IP host that is not public (and not allowed), before any connection. */
export function checkLiteralAddress(target: URL, allowed: readonly string[]): void {
  const literal = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !privateHostAllowed(target, allowed) && !isPublicAddress(literal)) {
    throw new RemoteTargetError(`refused: ${literal} is not a public address`, true);
  }
}

/** A lookup that answers only checked addresses; net.connect uses what it answers, so the check is the connection's. */
export function pinnedLookup(target: URL, allowed: readonly string[]): LookupFunction {
  const allowPrivate = privateHostAllowed(target, allowed);
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, ...(options.family ? { family: options.family } : {}) })
      .then((found) => {
        if (found.length === 0) throw new RemoteTargetError(`refused: ${hostname} has no address`, true);
        const refused = found.find((entry) => !allowPrivate && !isPublicAddress(entry.address));
        if (refused) throw new RemoteTargetError(`refused: ${hostname} resolves to ${refused.address}, not a public address`, true);
        if (options.all) callback(null, found);
        else callback(null, found[0]!.address, found[0]!.family);
      })
      .catch((error: unknown) => {
        const failure =
          error instanceof RemoteTargetError
            ? error
            : new RemoteTargetError(`cannot resolve ${hostname}: ${(error as Error).message}`, (error as { code?: string }).code === 'ENOTFOUND', { cause: error });
        callback(failure as NodeJS.ErrnoException, '', 4);
      });
  };
}
