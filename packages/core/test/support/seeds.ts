import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One recorded API page: the request as sent and the response as received. */
export interface Seed {
  file: string;
  title: string;
  method: string;
  route: string;
  requestHeaders: Record<string, string>;
  requestBody: string | undefined;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
}

const SEEDS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'seeds');

function unescapeHtml(text: string): string {
  return text.replaceAll('&quot;', '"').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

function pre(section: string, heading: string): string | undefined {
  const match = new RegExp(`#### ${heading}\\s*<pre>([\\s\\S]*?)</pre>`).exec(section);
  return match ? unescapeHtml(match[1]!) : undefined;
}

function headers(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (text ?? '').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export function parseSeed(file: string, text: string): Seed {
  const [request, response] = text.split('### Response');
  if (!request || !response) throw new Error(`${file}: no response section`);
  const route = pre(request, 'Route');
  if (!route) throw new Error(`${file}: no route`);
  const [method, path] = route.trim().split(/\s+/);
  return {
    file,
    title: /^## (.+)$/m.exec(text)?.[1] ?? file,
    method: method!,
    route: path!,
    requestHeaders: headers(pre(request, 'Headers')),
    requestBody: pre(request, 'Body'),
    status: Number(pre(response, 'Status')?.trim().split(' ')[0]),
    responseHeaders: headers(pre(response, 'Headers')),
    responseBody: JSON.parse(pre(response, 'Body')!),
  };
}

export function loadSeeds(): Seed[] {
  return readdirSync(SEEDS_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => parseSeed(f, readFileSync(join(SEEDS_DIR, f), 'utf8')));
}

/** The claims of a seed's token (its signature is the recorder's, unknown to us). */
export function seedTokenClaims(seed: Seed): Record<string, unknown> {
  const token = /token="([^"]+)"/.exec(seed.requestHeaders.Authorization ?? '')?.[1];
  if (!token) throw new Error(`${seed.file}: no token`);
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
}
