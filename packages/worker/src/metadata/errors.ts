/**
 * The file is not an image we can read (unknown format, or its container is broken).
 * `unrecoverable`: reading the same bytes again gives the same answer, so a job queue
 * (see `isUnrecoverable` in @albumkit/core) must not retry it.
 */
export class MetadataError extends Error {
  readonly unrecoverable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataError';
  }
}

/**
 * Reading a remote file failed or was refused. Refusals (host not allowed, redirect, 4xx,
 * size limit) are unrecoverable; timeouts, network errors and 5xx/408/429 may succeed later.
 */
export class RemoteReadError extends Error {
  readonly unrecoverable: boolean;
  /** HTTP status when the server answered, else null. */
  readonly status: number | null;
  constructor(message: string, options: { unrecoverable: boolean; status?: number | null; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RemoteReadError';
    this.unrecoverable = options.unrecoverable;
    this.status = options.status ?? null;
  }
}

/**
 * The remote read hit `maxBytes` before the metadata was found. Container readers catch it
 * when what they already have is worth returning (e.g. a PNG's size before a late eXIf).
 */
export class ByteLimitExceeded extends RemoteReadError {
  constructor(maxBytes: number) {
    super(`metadata not found within the first ${maxBytes} bytes read`, { unrecoverable: true });
    this.name = 'ByteLimitExceeded';
  }
}

/** Readers keep what they already found when the byte budget runs out, instead of failing. */
export function isByteLimit(error: unknown): error is ByteLimitExceeded {
  return error instanceof ByteLimitExceeded;
}
