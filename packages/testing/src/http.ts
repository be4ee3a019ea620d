import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error that maps to an HTTP answer; anything else reaching the router is a bug (500). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Cloudinary answers browser uploads and deliveries from any origin. */
export const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Range, ETag, X-Cld-Error',
} as const;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...CORS_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/** Cloudinary's API error shape: `{"error":{"message":"..."}}`. */
export function sendApiError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { message: error.message } });
}

/**
 * Delivery errors carry no JSON body on Cloudinary: the reason travels in `X-Cld-Error`.
 */
export function sendDeliveryError(req: IncomingMessage, res: ServerResponse, error: HttpError): void {
  const reason = error.message.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
  const body = req.method === 'HEAD' ? '' : `${reason}\n`;
  res.writeHead(error.status, {
    ...CORS_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(`${reason}\n`),
    'Cache-Control': 'no-store',
    'X-Cld-Error': reason,
  });
  res.end(body);
}

/** Shortens an untrusted value before echoing it in an error message. */
export function echo(value: string, max = 100): string {
  return value.length > max ? `${value.slice(0, max)}...` : value;
}
