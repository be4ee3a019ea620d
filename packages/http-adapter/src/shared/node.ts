import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { bodyFromHost, checkDeclaredBody, hasNoBody, isConsumed, readNodeStream } from './body.js';
import type { AdapterResponse } from './pipeline.js';

/** A node request as host frameworks leave it: maybe with a parsed `body` or a kept `rawBody`. */
export type HostRequest = IncomingMessage & { body?: unknown; rawBody?: unknown };

/**
 * The raw body of a node request: read from the stream when nobody did, else what the host's
 * body parser kept or a faithful reconstruction of what it parsed.
 */
export function nodeBody(req: HostRequest, limit: number): Promise<Uint8Array | string | undefined> | Uint8Array | string | undefined {
  if (isConsumed(req)) return bodyFromHost(req.rawBody, req.body, req.headers['content-type']);
  if (hasNoBody(req.headers)) return undefined;
  checkDeclaredBody(req.headers, limit);
  return readNodeStream(req, limit);
}

/**
 * For answers sent before the body was fully read (413): no keep-alive, and once the answer is
 * flushed, what is still in flight is discarded (never buffered) for at most a second, so that
 * the client reads the answer instead of a connection reset, then the socket is closed.
 */
export function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  res.once('finish', () => {
    req.resume();
    setTimeout(() => req.socket?.destroy(), 1000).unref();
  });
}

/** Writes a response on a node `ServerResponse` unless the client is gone or it was already sent. */
export function writeNodeResponse(res: ServerResponse, response: AdapterResponse): void {
  if (res.headersSent || res.writableEnded || res.destroyed) return;
  if (response.close) closeAfterResponse(res.req, res);
  res.writeHead(response.status, response.headers);
  if (response.stream) {
    // With backpressure; a client that goes away stops the producer (its iterator's `return()`).
    pipeline(Readable.from(response.stream, { objectMode: false }), res, () => {});
    return;
  }
  res.end(response.body);
}
