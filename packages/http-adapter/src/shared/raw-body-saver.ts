import type { IncomingMessage } from 'node:http';

/**
 * A `verify` hook for `express.json()` / `express.urlencoded()` / body-parser that keeps the
 * exact bytes on `req.rawBody`, so that albumkit checks Cloudinary signatures over the bytes
 * received rather than over a re-serialization:
 *
 * ```js
 * app.use(express.json({ verify: rawBodySaver }));
 * ```
 */
export function rawBodySaver(req: IncomingMessage, _res: unknown, buffer: Buffer): void {
  (req as IncomingMessage & { rawBody?: Buffer }).rawBody = buffer;
}
