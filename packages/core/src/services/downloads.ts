import { createHmac, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import yazl from 'yazl';
import { canRead, type Principal } from '../auth/abilities.js';
import { safeEqual } from '../cloudinary/signing.js';
import type { DeliveryUrlSigner } from '../cloudinary/urls.js';
import type { Database, Download, Image } from '../db/schema.js';
import { AccessDenied, BadRequest, NotFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DownloadRepository } from '../repositories/downloads.js';
import type { ImageService } from './images.js';

export interface DownloadServiceDeps {
  db: Kysely<Database>;
  downloads: DownloadRepository;
  images: ImageService;
  delivery: DeliveryUrlSigner;
  /** Origin of the public routes (the zip link lives there). */
  origin: string;
  /** Key of the zip links' signature. */
  key: string;
  /** How long a zip link works. */
  ttlSeconds: number;
  logger: Logger;
}

export const DOWNLOAD_LIMITS = { perRequest: 1000, perDownload: 5000 } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Longest file name inside the zip, extension included. */
const NAME_LENGTH = 120;
/** How long the delivery host may take to start sending one original. */
const ORIGINAL_HEADERS_TIMEOUT_MS = 30_000;

export class InvalidDownloadLink extends Error {}

/** One file of a zip: its name inside, and where its bytes come from. */
export interface ZipEntry {
  imageId: string;
  name: string;
  url: string;
  mtime: Date;
}

export interface ZipPlan {
  entries: ZipEntry[];
  /** Images of the download that are not there any more (trashed, purged): listed in `MISSING.txt`. */
  missing: Array<{ imageId: string; reason: string }>;
}

/**
 * Zip downloads: `POST /downloads` (claim `download: true`) records which images, the signed
 * link streams them as one ZIP, stored (not deflated: photos do not shrink), one original at a
 * time, so memory stays flat whatever the size.
 */
export class DownloadService {
  constructor(private readonly deps: DownloadServiceDeps) {}

  async create(principal: Principal, body: Record<string, unknown>): Promise<{ id: string; zip_url: string }> {
    if (!principal.admin && !principal.download) throw new AccessDenied('the download right is needed');
    let ids = readIds(body.image_ids);
    if (ids.length === 0 && principal.query) ids = await this.matching(principal);
    if (ids.length === 0) throw new BadRequest('image_ids: at least one image is expected');
    await this.checkReadable(principal, ids);
    const existing = body.id;
    if (existing !== undefined && existing !== null && existing !== '') {
      if (typeof existing !== 'string' || !UUID.test(existing)) throw new NotFound('Download');
      const updated = await this.deps.db.transaction().execute(async (trx) => {
        const row = await this.deps.downloads.lockForUpdate(trx, principal.organizationId, existing.toLowerCase());
        // Another user's download is as good as missing.
        if (!row || !this.owns(principal, row)) throw new NotFound('Download');
        const merged = [...new Set([...(row.image_ids as string[]), ...ids])];
        if (merged.length > DOWNLOAD_LIMITS.perDownload) throw new BadRequest(`image_ids: a download holds at most ${DOWNLOAD_LIMITS.perDownload} images`);
        return this.deps.downloads.setImages(row.id, merged, trx);
      });
      return { id: updated.id, zip_url: this.zipUrl(updated.id) };
    }
    const created = await this.deps.downloads.create({
      id: randomUUID(),
      organizationId: principal.organizationId,
      userId: principal.userId,
      secretId: principal.secretId,
      imageIds: ids,
    });
    return { id: created.id, zip_url: this.zipUrl(created.id) };
  }

  /** The signed, expiring link of a download's zip (at the host's root). */
  zipUrl(id: string, now = Math.floor(Date.now() / 1000)): string {
    const expires = now + this.deps.ttlSeconds;
    return `${this.deps.origin}/downloads/${id}/zip?expires=${expires}&signature=${this.sign(id, expires)}`;
  }

  /** What the zip of a signed link holds; `InvalidDownloadLink` for a bad or expired signature. */
  async plan(id: string, expires: string | undefined, signature: string | undefined, now = Math.floor(Date.now() / 1000)): Promise<ZipPlan> {
    if (!UUID.test(id) || !expires || !/^\d{1,12}$/.test(expires) || !signature) throw new InvalidDownloadLink();
    if (!safeEqual(signature, this.sign(id.toLowerCase(), Number(expires))) || Number(expires) < now) throw new InvalidDownloadLink();
    const download = await this.deps.downloads.findById(id.toLowerCase());
    if (!download) throw new NotFound('Download');
    const wanted = download.image_ids as string[];
    const found = new Map<string, Image>();
    for (let at = 0; at < wanted.length; at += 1000) {
      const batch = await this.deps.images.findMany(download.organization_id, wanted.slice(at, at + 1000));
      for (const image of batch) found.set(image.id, image);
    }
    const names = new UniqueNames();
    const plan: ZipPlan = { entries: [], missing: [] };
    for (const imageId of wanted) {
      const image = found.get(imageId);
      if (!image) plan.missing.push({ imageId, reason: 'deleted' });
      else if (image.deleted_at) plan.missing.push({ imageId, reason: 'in the trash' });
      else {
        const asset = { publicId: image.cloudinary_public_id, version: image.cloudinary_version, type: image.cloudinary_type };
        const format = image.format ?? 'jpg';
        plan.entries.push({ imageId, name: names.take(fileName(image, format)), url: this.deps.delivery.url(asset, '', format), mtime: image.created_at });
      }
    }
    return plan;
  }

  /** The ZIP of a plan, streamed (see `zipStream`). */
  stream(plan: ZipPlan): AsyncGenerator<Uint8Array> {
    return zipStream(plan, this.deps.logger);
  }

  private sign(id: string, expires: number): string {
    return createHmac('sha256', this.deps.key).update(`download:${id}:${expires}`).digest('base64url');
  }

  private owns(principal: Principal, row: Download): boolean {
    if (principal.userId) return row.user_id === principal.userId;
    return principal.secretId !== null && row.secret_id === principal.secretId;
  }

  /** Every image of the organization the token's query matches, newest first, up to the cap. */
  private async matching(principal: Principal): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.images.search(principal, '*', 100, 'desc', cursor);
      ids.push(...page.images.map((image) => image.id));
      cursor = page.next ?? undefined;
      if (ids.length > DOWNLOAD_LIMITS.perDownload) throw new BadRequest(`the token's query matches more than ${DOWNLOAD_LIMITS.perDownload} images`);
    } while (cursor);
    return ids;
  }

  /** All or nothing: every image live in the organization and listable by the token (and inside its query). */
  private async checkReadable(principal: Principal, ids: string[]): Promise<void> {
    const images = await this.deps.images.findMany(principal.organizationId, ids);
    const live = images.filter((image) => !image.deleted_at);
    if (live.length !== ids.length) throw new AccessDenied('image_list is needed on every image');
    // As for reading one image: a token bound to a query reads what matches it, whatever its album rights.
    if (principal.query) {
      if ((await this.deps.images.withinQuery(principal, ids)).length !== ids.length) throw new AccessDenied("an image does not match the token's query");
    } else if (live.some((image) => !canRead(principal, image.album_id, 'image_list'))) {
      throw new AccessDenied('image_list is needed on every image');
    }
  }
}

function readIds(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : typeof value === 'object' ? Object.values(value as object) : [value];
  if (list.length > DOWNLOAD_LIMITS.perRequest) throw new BadRequest(`image_ids: at most ${DOWNLOAD_LIMITS.perRequest} per request`);
  if (!list.every((id) => typeof id === 'string' && UUID.test(id))) throw new BadRequest('image_ids: image ids (UUIDs) are expected');
  return [...new Set((list as string[]).map((id) => id.toLowerCase()))];
}

/** A name that is safe in any unzip tool: no folders, no control or reserved characters, the format's extension. */
export function fileName(image: Pick<Image, 'filename' | 'cloudinary_public_id' | 'id'>, format: string): string {
  const given = image.filename || image.cloudinary_public_id.split('/').pop() || image.id;
  let base = given
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  const extension = `.${format.toLowerCase().replace(/[^a-z0-9]/g, '')}`;
  if (base.toLowerCase().endsWith(extension) || (format === 'jpg' && /\.jpe?g$/i.test(base))) base = base.slice(0, base.lastIndexOf('.'));
  // Windows device names are refused whatever the extension.
  if (/^(con|prn|aux|nul|com\d|lpt\d)$/i.test(base)) base = `_${base}`;
  base = [...base].slice(0, NAME_LENGTH - extension.length).join('') || image.id;
  return `${base}${extension}`;
}

/** Names made unique inside one zip, case-insensitively (`photo.jpg`, `photo (2).jpg`, …). */
export class UniqueNames {
  private readonly taken = new Set<string>();

  take(name: string): string {
    const dot = name.lastIndexOf('.');
    const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${extension}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}

/**
 * The ZIP of a plan, as it is produced: each original is fetched when the previous one is
 * written, piped through yazl (stored, ZIP64 where needed) and never held whole; an original the
 * delivery host does not give joins `MISSING.txt`, the manifest written last. Stopping the
 * iteration (the client went away) aborts the fetch in flight.
 */
export async function* zipStream(plan: ZipPlan, logger?: Logger): AsyncGenerator<Uint8Array> {
  const zip = new yazl.ZipFile();
  const stop = new AbortController();
  const missing = [...plan.missing];
  const produce = async () => {
    for (const entry of plan.entries) {
      if (stop.signal.aborted) return;
      const headers = new AbortController();
      const timer = setTimeout(() => headers.abort(), ORIGINAL_HEADERS_TIMEOUT_MS);
      let response: Response;
      try {
        response = await fetch(entry.url, { redirect: 'error', signal: AbortSignal.any([stop.signal, headers.signal]) });
      } catch (error) {
        if (stop.signal.aborted) return;
        missing.push({ imageId: entry.imageId, reason: `the original could not be fetched (${(error as Error).message})` });
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (!response.ok || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        missing.push({ imageId: entry.imageId, reason: `the original is not available (HTTP ${response.status})` });
        continue;
      }
      const source = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
      const done = finished(source);
      zip.addReadStream(source, entry.name, { compress: false, mtime: entry.mtime });
      await done;
    }
    if (missing.length > 0) {
      const lines = missing.map((m) => `${m.imageId}\t${m.reason}`);
      zip.addBuffer(Buffer.from(`Images of this download that are not in it:\n${lines.join('\n')}\n`), 'MISSING.txt', { compress: false });
    }
    zip.end();
  };
  const producing = produce().catch((error: unknown) => {
    if (!stop.signal.aborted) logger?.error({ err: error }, 'zip download failed mid-stream');
    (zip.outputStream as Readable).destroy(error as Error);
  });
  try {
    for await (const chunk of zip.outputStream as AsyncIterable<Uint8Array>) yield chunk;
  } finally {
    // The fetch in flight fails with the abort and the producer ends; it is not waited for.
    stop.abort();
    void producing;
  }
}
