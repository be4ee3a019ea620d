import { createHash, randomUUID } from 'node:crypto';
import { can, isMember, type Principal } from '../auth/abilities.js';
import type { Import } from '../db/schema.js';
import { AccessDenied, BadRequest, NotFound, ServiceUnavailable } from '../errors.js';
import type { JobPort } from '../jobs/port.js';
import type { Logger } from '../logger.js';
import type { ImportRepository } from '../repositories/imports.js';
import { formatTime } from '../serializers/image.js';
import { checkAlbumId } from './albums.js';
import type { ImageService, ProcessingResult } from './images.js';
import type { TagService } from './tags.js';

export interface ImportServiceDeps {
  imports: ImportRepository;
  images: ImageService;
  tags: TagService;
  jobs: () => JobPort;
  logger: Logger;
}

/** An import as the API shows it, plus `status` and `error`: why it failed (or why the last attempt did). */
export interface ImportJson {
  id: string;
  organization_id: string;
  image_id: string | null;
  import_type: string | null;
  album_id: string;
  params: unknown;
  created_at: string;
  updated_at: string;
  /** `pending` until the job made the image (`done`) or gave up (`failed`). */
  status: 'pending' | 'done' | 'failed';
  error: string | null;
}

/** What the import job needs, kept with the import (never shown: headers may hold credentials). */
export interface ImportRequest {
  url: string;
  filename: string | null;
  metadatas: Record<string, unknown> | null;
  tags: string[];
  headers: Record<string, string>;
  principal: Principal;
}

export const IMPORT_LIMITS = { urlLength: 2048, filenameLength: 255, metadataBytes: 16 * 1024, tags: 20, headers: 20, headerValueLength: 1024 } as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
/** Headers the fetch sets itself or that would change how the connection works. */
const RESERVED_HEADERS = new Set([
  'host', 'connection', 'content-length', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'keep-alive',
  'proxy-authorization', 'proxy-connection', 'expect', 'range', 'accept-encoding',
]);

/**
 * Imports from a URL: `POST /imports` records what to fetch (`image_upload` on the album) and
 * hands it to the `import` job (`@albumkit/worker`), which fetches the file under its remote
 * policy, stores it on Cloudinary and calls `complete`, so the image is made as an upload's is.
 */
export class ImportService {
  constructor(private readonly deps: ImportServiceDeps) {}

  async create(principal: Principal, body: Record<string, unknown>): Promise<ImportJson> {
    const albumId = checkAlbumId(typeof body.album_id === 'string' ? body.album_id : '');
    if (!can(principal, albumId, 'image_upload')) throw new AccessDenied('image_upload needed on the album');
    if (body.import_type !== undefined && body.import_type !== 'url') throw new BadRequest('import_type: only "url" is supported');
    const url = readUrl(body.url);
    const filename = readFilename(body.filename);
    const metadataKey = body.metadatas !== undefined ? 'metadatas' : 'metadata';
    const metadatas = readMetadatas(body[metadataKey], metadataKey);
    const tags = readTags(body.tags);
    for (const tag of tags) if (!this.deps.tags.mayTag(principal, albumId, tag)) throw new AccessDenied(`image_tag with the tag ${JSON.stringify(tag)} needed on the album`);
    const headers = readHeaders(body.headers);
    const jobs = this.deps.jobs();
    if (!jobs.supports('import')) throw new ServiceUnavailable('imports need the import job of @albumkit/worker');

    // As the API shows them: what was posted (headers left out), and the router's two names.
    const params: Record<string, unknown> = { album_id: albumId };
    if (filename !== null) params.filename = filename;
    if (metadatas !== null) params[metadataKey] = metadatas;
    if (tags.length > 0) params.tags = tags;
    params.url = url;
    params.controller = 'api/v1/imports';
    params.action = 'create';
    const request: ImportRequest = { url, filename, metadatas, tags, headers, principal };
    const dedupKey = createHash('sha256').update(canonical([albumId, url, filename, metadatas, tags, headers])).digest('hex');
    const { row, created, retried } = await this.deps.imports.insertOrFind({
      id: randomUUID(),
      organizationId: principal.organizationId,
      albumId,
      userId: principal.userId,
      dedupKey,
      params,
      request,
    });
    // A repeated submission of a pending import is enqueued again too: the job id makes it one job,
    // and an import whose enqueue was lost gets its job this way.
    if (created || retried || row.status === 'pending') await jobs.enqueue('import', { organizationId: row.organization_id, importId: row.id });
    return importJson(row);
  }

  /** `GET /imports/:id`: for members, the user who asked, or a token that may upload to its album. */
  async get(principal: Principal, id: string): Promise<ImportJson> {
    if (!UUID.test(id)) throw new NotFound('Import');
    const row = await this.deps.imports.find(principal.organizationId, id.toLowerCase());
    if (!row) throw new NotFound('Import');
    const own = row.user_id !== null && row.user_id === principal.userId;
    if (!isMember(principal) && !own && !can(principal, row.album_id, 'image_upload')) throw new NotFound('Import');
    return importJson(row);
  }

  /** The import the job has to work on: undefined once done or failed (a late duplicate job). */
  async pending(organizationId: string, id: string): Promise<{ row: Import; request: ImportRequest } | undefined> {
    const row = await this.deps.imports.find(organizationId, id);
    if (!row || row.status !== 'pending') return undefined;
    await this.deps.imports.started(row.id);
    return { row, request: row.request as unknown as ImportRequest };
  }

  /** The file is on Cloudinary (its upload result): kept, so a retry does not upload it again. */
  stored(id: string, upload: Record<string, unknown>): Promise<void> {
    return this.deps.imports.stored(id, upload);
  }

  /**
   * Makes the image of the stored upload through the path of an upload notification (one image
   * per upload, events, webhooks, EXIF: inline from `processed`, else the metadata job), tags it,
   * and marks the import done.
   */
  async complete(row: Import, request: ImportRequest, upload: Record<string, unknown>, processed?: ProcessingResult): Promise<string> {
    const { image } = await this.deps.images.createFromUpload(
      { organizationId: row.organization_id, userId: row.user_id },
      row.album_id,
      upload,
      request.metadatas ?? undefined,
      // The worker got this upload result from Cloudinary's API itself.
      { source: 'notification', verifySignature: false, ...(processed ? { processed } : {}) },
    );
    for (const tag of request.tags) {
      try {
        await this.deps.tags.tagImages(request.principal, tag, [image.id]);
      } catch (error) {
        // The tag went or the rights changed since the import was asked: the image stays.
        this.deps.logger.warn({ err: error, importId: row.id, tag }, 'imported image not tagged');
      }
    }
    await this.deps.imports.done(row.id, image.id);
    return image.id;
  }

  /** Records why an attempt failed; `final` ends the import as failed. */
  failed(id: string, reason: string, final: boolean): Promise<void> {
    return this.deps.imports.failed(id, reason, final);
  }
}

export function importJson(row: Import): ImportJson {
  return {
    id: row.id,
    organization_id: row.organization_id,
    image_id: row.image_id,
    import_type: row.import_type,
    album_id: row.album_id,
    params: row.params,
    created_at: formatTime(row.created_at),
    updated_at: formatTime(row.updated_at),
    status: row.status,
    error: row.error,
  };
}

function readUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new BadRequest('url: the URL of the file to import is expected');
  if (value.length > IMPORT_LIMITS.urlLength) throw new BadRequest(`url: at most ${IMPORT_LIMITS.urlLength} characters`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new BadRequest('url: not an absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new BadRequest('url: http or https only');
  if (parsed.username || parsed.password) throw new BadRequest('url: credentials in the URL are refused (send them in headers)');
  return value;
}

function readFilename(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new BadRequest('filename: a string is expected');
  if (value.length > IMPORT_LIMITS.filenameLength || /[\u0000-\u001f/\\]/.test(value)) throw new BadRequest(`filename: a file name of at most ${IMPORT_LIMITS.filenameLength} characters, without "/", "\\" or control characters`);
  return value;
}

function readMetadatas(value: unknown, key: string): Record<string, unknown> | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadRequest(`${key}: an object is expected`);
  if (Buffer.byteLength(JSON.stringify(value)) > IMPORT_LIMITS.metadataBytes) throw new BadRequest(`${key}: at most ${IMPORT_LIMITS.metadataBytes} bytes of JSON`);
  return value as Record<string, unknown>;
}

function readTags(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : typeof value === 'object' ? Object.values(value as object) : [value];
  if (list.length > IMPORT_LIMITS.tags) throw new BadRequest(`tags: at most ${IMPORT_LIMITS.tags}`);
  if (!list.every((tag) => typeof tag === 'string' && tag.length > 0 && tag.length <= 255)) throw new BadRequest('tags: tag names (1 to 255 characters) are expected');
  return [...new Set(list as string[])];
}

function readHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadRequest('headers: an object of header names and values is expected');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > IMPORT_LIMITS.headers) throw new BadRequest(`headers: at most ${IMPORT_LIMITS.headers}`);
  const headers: Record<string, string> = {};
  for (const [name, v] of entries) {
    if (!HEADER_NAME.test(name)) throw new BadRequest(`headers.${name.slice(0, 64)}: not a header name`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new BadRequest(`headers.${name}: set by the fetch itself`);
    if (typeof v !== 'string' || v.length > IMPORT_LIMITS.headerValueLength || /[\r\n\u0000]/.test(v)) throw new BadRequest(`headers.${name}: a value of at most ${IMPORT_LIMITS.headerValueLength} characters on one line is expected`);
    headers[name.toLowerCase()] = v;
  }
  return headers;
}

/** JSON with object keys sorted, so that equal submissions digest alike. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}
