import { z } from 'zod';
import type { Principal } from '../../auth/abilities.js';
import type { Tokens } from '../../auth/tokens.js';
import type { AlbumkitConfig } from '../../config.js';
import type { Album, Image } from '../../db/schema.js';
import { BadRequest } from '../../errors.js';
import { serializeAlbum } from '../../serializers/album.js';
import type { ImageSerializer } from '../../serializers/image.js';
import type { AlbumService } from '../../services/albums.js';
import type { ImageJsonReader } from '../../services/image-json.js';
import type { ImageService } from '../../services/images.js';
import type { ClipboardService } from '../../services/clipboards.js';
import type { TagService } from '../../services/tags.js';
import type { IntegratorService } from '../../services/integrator.js';
import type { NotificationService } from '../../services/notifications.js';
import type { DeliveryService } from '../../services/delivery.js';
import type { ImportService } from '../../services/imports.js';
import type { DownloadService } from '../../services/downloads.js';
import type { ImageLinkService } from '../../services/image-links.js';
import type { ProxyUrlSigner } from '../../cloudinary/urls.js';
import { checkShape } from '../body.js';
import type { RouteResult } from '../route.js';

/** What route modules are built from: the services, and the configuration's limits. */
export interface RouteDeps {
  config: AlbumkitConfig;
  tokens: Tokens;
  albums: AlbumService;
  images: ImageService;
  imageJson: ImageJsonReader;
  notifications: NotificationService;
  integrator: IntegratorService;
  clipboards: ClipboardService;
  tags: TagService;
  imageSerializer: ImageSerializer;
  /** Where the links albumkit hands out lead (the public routes). */
  delivery: DeliveryService;
  /** External URLs, image URLs, embed codes, uploaders. */
  imageLinks: ImageLinkService;
  /** Imports from a URL. */
  imports: ImportService;
  /** Zip downloads. */
  downloads: DownloadService;
  /** Signs and checks the proxied links (`external_urls`, image external URLs). */
  proxy: ProxyUrlSigner;
}

export const albumId = z.string().min(1).max(255).describe('A UUID, or an external id such as a Salesforce record id');
export const imageId = z.string().min(1).max(64).describe('Image id (UUID)');
export const albumParams = z.object({ id: albumId });
export const imageParams = z.object({ id: imageId });

/** A decimal count in a query string, within bounds. */
export function count(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, `an integer from ${min} to ${max} is expected`)
    .transform(Number)
    .pipe(z.number().int().min(min, `an integer from ${min} to ${max} is expected`).max(max, `an integer from ${min} to ${max} is expected`));
}

/** `ids[]=a&ids[]=b` or `ids=a`, as a list. */
export function idList(max: number) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (typeof value === 'string' ? [value] : value))
    .pipe(z.array(z.string().max(64, 'an image id is at most 64 characters')).max(max, `at most ${max} ids per request`));
}

/** Paging of image lists: `limit` and the `X-Next-Cursor` of the previous page. */
export function pageQuery(config: AlbumkitConfig) {
  const { pageSize } = config.limits;
  return z.looseObject({
    limit: count(1, pageSize).optional().describe(`Images per page (default 50, at most ${pageSize})`),
    cursor: z.string().max(512).optional().describe('`X-Next-Cursor` of the previous page'),
  });
}
/** A page of a list: its items' JSON, and `X-Next-Cursor` when there is a next page. */
export function pageResult<T>(items: T[], serialize: (item: T) => unknown, next: string | null): RouteResult {
  return { status: 200, json: items.map(serialize), headers: next ? { 'X-Next-Cursor': next } : undefined };
}

export const nextCursor = { 'X-Next-Cursor': 'The cursor of the next page; absent on the last page' };

export const token = { 401: { description: 'No valid token, or a right the token lacks: empty body, `X-message: Access denied`', contentType: 'text/html' } };
export const notFound = { 404: { description: 'No such image or album in the organization' } };

/** The album JSON: its upload form for this token and its thumbnails (latest images). */
export function albumJson(albums: AlbumService, imageSerializer: ImageSerializer) {
  /**
   * `rightsOf`: the album whose rights the token's upload form follows (a renamed album's former
   * id, as recorded); `fresh`: an album created by this request, which has no images to read.
   */
  return async (principal: Principal, album: Album, options: { rightsOf?: string; fresh?: boolean } = {}) => {
    const [form, thumbnails] = await Promise.all([
      albums.uploadForm(principal, album, undefined, options.rightsOf),
      options.fresh ? new Map<string, Image[]>() : albums.thumbnails(album.organization_id, [album.id]),
    ]);
    return serializeAlbum(album, form, (thumbnails.get(album.id) ?? []).map((image) => imageSerializer.serialize(image)));
  };
}


/** A JSON field that may come as an object (JSON body) or as JSON text (a form). */
export function jsonField(value: unknown, name: string, config: AlbumkitConfig): unknown {
  if (typeof value !== 'string') return value ?? null;
  if (value === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new BadRequest(`${name}: invalid JSON`);
  }
  checkShape(parsed, config.limits, name);
  return parsed;
}

/** A yes/no field: `true`/`false` (a form), or a JSON boolean. */
export const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'], 'true or false is expected')])
  .transform((value) => value === true || value === 'true' || value === '1');
