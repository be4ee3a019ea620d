import http from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  text: string;
  json: any;
}

/** Transport headers, set by node/the framework, never by albumkit: left out of comparisons. */
export const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

export async function request(url: string, init: RequestInit = {}): Promise<HttpResult> {
  const response = await fetch(url, init);
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers, text, json };
}

/** Lowercased header names without the transport ones, sorted. */
export function headerNames(headers: Record<string, string>): string[] {
  return Object.keys(headers)
    .map((n) => n.toLowerCase())
    .filter((n) => !TRANSPORT_HEADERS.has(n))
    .sort();
}

/**
 * Sends `total` bytes declared up front but writes only `sent` of them, then destroys the
 * socket: a client that gives up mid-upload.
 */
export function abortMidBody(url: string, total: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(total) } });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(Buffer.alloc(sent, 32), () => setTimeout(() => req.destroy(), 50));
  });
}

/**
 * Streams a chunked body and resolves with the status as soon as the server answers, with the
 * number of bytes written by then (an early 413 arrives long before `total`).
 */
export function streamUntilAnswered(url: string, total: number, headers: Record<string, string> = {}): Promise<{ status: number; written: number; body: string }> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, written, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (error) => (answered ? undefined : reject(error)));
    // Valid JSON (`{"f":"xxx…"}`) so that host JSON parsers read it all without complaint.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    req.write('{"f":"');
    const pump = (): void => {
      if (answered || req.destroyed) return;
      if (written >= total) {
        req.end('"}');
        return;
      }
      written += chunk.length;
      req.write(chunk, () => setTimeout(pump, 1));
    };
    pump();
  });
}
