/**
 * Domain errors carry the HTTP status they map to. The handler turns them into responses in
 * one place (`http/handler.ts`); anything else that escapes is an unexpected 500.
 */
/** Every `error` code an albumkit response can carry: a client may switch on them. */
export type ErrorCode =
  | 'bad_request'
  | 'access_denied'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'service_unavailable'
  | 'internal_error';

export class AlbumkitError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Missing, invalid or insufficient credentials: 401 with an empty body and `X-message`. */
export class AccessDenied extends AlbumkitError {
  constructor(readonly reason = 'access denied') {
    super(401, 'access_denied', 'Access denied');
  }
}

export class NotFound extends AlbumkitError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}

export class BadRequest extends AlbumkitError {
  constructor(message: string, details?: unknown) {
    super(400, 'bad_request', message, details);
  }
}

/** The request is valid but the state it meets refuses it (an upload whose image is in the trash). */
export class Conflict extends AlbumkitError {
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
  }
}

export class PayloadTooLarge extends AlbumkitError {
  constructor(message: string) {
    super(413, 'payload_too_large', message);
  }
}

export class UnsupportedMediaType extends AlbumkitError {
  constructor(contentType: string) {
    super(415, 'unsupported_media_type', `Unsupported content type: ${contentType}`);
  }
}

/** A dependency (database, queue) is unreachable: the client may retry later. */
export class ServiceUnavailable extends AlbumkitError {
  constructor(message = 'Service temporarily unavailable') {
    super(503, 'service_unavailable', message);
  }
}

/** Configuration that cannot work: thrown at start-up, naming the setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
