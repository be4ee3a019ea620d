import { RemoteReadError } from './errors.js';

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/**
 * Checks a URL before any connection: http(s) only, no userinfo, and a host on the allow-list.
 * An entry "host" allows that exact hostname on the scheme's default port; "host:port" allows
 * that port. No suffix or wildcard matching, and no DNS lookup: the list names hosts, so the
 * cloud metadata address (169.254.169.254), localhost and the like are refused unless listed.
 * The returned URL (its `href`) is what gets fetched, so no other parser sees the raw string.
 */
export function checkRemoteUrl(url: string, allowedHosts: readonly string[]): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RemoteReadError('refused: not a valid absolute URL', { unrecoverable: true });
  }
  if (!(parsed.protocol in DEFAULT_PORTS)) throw new RemoteReadError(`refused: scheme ${parsed.protocol} (http and https only)`, { unrecoverable: true });
  if (parsed.username || parsed.password) throw new RemoteReadError('refused: credentials in the URL', { unrecoverable: true });

  const allowed = new Set(allowedHosts.map((h) => h.trim().toLowerCase()).filter(Boolean));
  const port = parsed.port || DEFAULT_PORTS[parsed.protocol]!;
  const candidates = [`${parsed.hostname}:${port}`];
  if (port === DEFAULT_PORTS[parsed.protocol]) candidates.push(parsed.hostname);
  if (!candidates.some((c) => allowed.has(c))) throw new RemoteReadError(`refused: host ${parsed.host} is not allowed`, { unrecoverable: true });
  return parsed;
}
