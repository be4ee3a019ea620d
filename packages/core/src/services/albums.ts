import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { can, canRead, hasAnyAbility, isMember, type Principal } from '../auth/abilities.js';
import type { Tokens } from '../auth/tokens.js';
import { apiSignature } from '../cloudinary/signing.js';
import { decodeKeyset, encodeKeyset } from '../domain/cursor.js';
import type { AlbumkitConfig } from '../config.js';
import type { Album, Database, Image } from '../db/schema.js';
import { AccessDenied, BadRequest, NotFound } from '../errors.js';
import type { AlbumRepository } from '../repositories/albums.js';
import type { EventService } from './events.js';
import type { ImageRepository } from '../repositories/images.js';
import type { UploadForm } from '../serializers/album.js';

/** Images shown with an album (`thumbnails`). */
export const ALBUM_THUMBNAILS = 4;

/** Most image ids in one "upload done" event; more images, more events. */
export const UPLOAD_DONE_BATCH = 50;
const ALBUM_ID = /^[\w\-.:]{1,255}$/;

export function isAlbumId(id: string): boolean {
  return ALBUM_ID.test(id);
}

export function checkAlbumId(id: string): string {
  if (!ALBUM_ID.test(id)) throw new BadRequest('album id: 1 to 255 letters, digits, "_", "-", "." or ":"');
  return id;
}

export interface AlbumServiceDeps {
  db: Kysely<Database>;
  albums: AlbumRepository;
  images: ImageRepository;
  events: EventService;
  tokens: Tokens;
  config: AlbumkitConfig;
}

/** Rules of albums: who may open or create one, its upload form, and "upload done". */
export class AlbumService {
  private readonly uploadUrl: string;
  private readonly notificationBase: string;

  constructor(private readonly deps: AlbumServiceDeps) {
    const { cloudinary, publicUrl } = deps.config;
    this.uploadUrl = `${cloudinary.uploadPrefix.replace(/\/+$/, '')}/v1_1/${cloudinary.cloudName}/auto/upload`;
    this.notificationBase = `${publicUrl.replace(/\/+$/, '')}/cloudinary?token=`;
  }

  /** A new album with a fresh UUID: members of the organization and admins. */
  async create(principal: Principal): Promise<Album> {
    if (!isMember(principal)) throw new AccessDenied('only members create albums');
    const album = await this.deps.albums.create(principal.organizationId, randomUUID());
    if (!album) throw new Error('album id collision');
    return album;
  }

  /** The album; created on first use when the token grants an ability on it. */
  async open(principal: Principal, id: string): Promise<Album> {
    checkAlbumId(id);
    if (!canRead(principal, id, 'see')) throw new AccessDenied('no ability on album');
    const album = await this.deps.albums.find(principal.organizationId, id);
    if (album) return album;
    if (!hasAnyAbility(principal, id)) throw new NotFound('Album');
    return this.deps.albums.findOrCreate(principal.organizationId, id);
  }

  /**
   * The signed direct-upload form of the album, valid for `uploadFormTtlSeconds`; null for a
   * principal that may not upload there (the form and its notification token are upload rights).
   */
  async uploadForm(principal: Principal, album: Album, now = Math.floor(Date.now() / 1000), rightsOf = album.id): Promise<UploadForm | null> {
    if (!can(principal, rightsOf, 'image_upload')) return null;
    const { cloudinary, uploadFormTtlSeconds, notificationTokenGraceSeconds } = this.deps.config;
    const expiresAt = now + uploadFormTtlSeconds;
    // The notification token outlives the form only by the time an upload made at its last
    // moment needs to be notified, retries included.
    const token = await this.deps.tokens.issueNotificationToken(principal, album.id, expiresAt + notificationTokenGraceSeconds);
    const signed = {
      colors: 1,
      faces: 1,
      image_metadata: 1,
      notification_url: this.notificationBase + token,
      phash: 1,
      tags: album.id,
      timestamp: expiresAt,
      type: 'authenticated',
    } as const;
    return {
      url: this.uploadUrl,
      expires_at: expiresAt,
      name: album.id,
      id: `${album.organization_id}-${album.id}`,
      params: { ...signed, signature: apiSignature(signed, cloudinary.apiSecret), api_key: cloudinary.apiKey },
      test_url: '/upload_test',
    };
  }

  /** Each album's thumbnails: its latest four live images. */
  thumbnails(organizationId: string, albumIds: string[]): Promise<Map<string, Image[]>> {
    return this.deps.images.latestOf(organizationId, albumIds, ALBUM_THUMBNAILS);
  }

  /** A page of the organization's albums, newest first: all of them for a member, else those the token names. */
  async list(principal: Principal, limit: number, cursor: string | undefined): Promise<{ albums: Album[]; next: string | null }> {
    const only = isMember(principal) ? undefined : Object.keys(principal.abilities).filter((id) => isAlbumId(id) && hasAnyAbility(principal, id));
    const position = cursor ? decodeKeyset(cursor, ALBUM_ID) : undefined;
    const after = position && { createdAt: position.at, id: position.id };
    const rows = await this.deps.albums.list(principal.organizationId, limit + 1, after, only);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { albums: page, next: rows.length > limit && last ? encodeKeyset(last.created_at, last.id) : null };
  }

  /**
   * Renames an album (`rename` on it): its images, counts and pending uploads follow. With
   * `merge`, an existing destination receives the images and the source is removed; without it,
   * an existing destination is a 400. Undefined when the source does not exist (the recorded API
   * answers that with an empty 200).
   */
  async rename(principal: Principal, id: string, to: string, merge: boolean): Promise<Album | undefined> {
    checkAlbumId(id);
    if (!isAlbumId(to)) throw new BadRequest('album.public_id: 1 to 255 letters, digits, "_", "-", "." or ":"');
    const { db, albums } = this.deps;
    const organizationId = principal.organizationId;
    if (!(await albums.find(organizationId, id))) return undefined;
    if (!can(principal, id, 'rename')) throw new AccessDenied('rename needed');
    if (to === id) return albums.find(organizationId, id);
    await db.transaction().execute(async (trx) => {
      // Both rows locked in a fixed order: two renames crossing each other wait, never deadlock.
      const [first, second] = id < to ? [id, to] : [to, id];
      const locked = new Map([[first, await albums.lock(organizationId, first, trx)], [second, await albums.lock(organizationId, second, trx)]]);
      if (!locked.get(id)) throw new NotFound('Album');
      if (locked.get(to)) {
        if (!merge) throw new BadRequest(`album.public_id: album ${to} exists; merge=true moves the images into it`);
        await albums.merge(organizationId, id, to, trx);
      } else {
        await albums.rename(organizationId, id, to, trx);
      }
    });
    return albums.find(organizationId, to);
  }

  /**
   * Copies every live image of an album into another (created when missing), sharing their
   * Cloudinary assets, with their tags when asked: a member, or `image_duplicate` on the source
   * and any ability on the destination.
   */
  async duplicate(principal: Principal, id: string, to: string, withTags: boolean): Promise<Album> {
    checkAlbumId(id);
    if (!isAlbumId(to)) throw new BadRequest('destination_id: 1 to 255 letters, digits, "_", "-", "." or ":"');
    if (to === id) throw new BadRequest('destination_id: another album is expected');
    if (!isMember(principal) && !(can(principal, id, 'image_duplicate') && hasAnyAbility(principal, to))) throw new AccessDenied('image_duplicate needed');
    const { db, albums, images } = this.deps;
    const organizationId = principal.organizationId;
    if (!(await albums.find(organizationId, id))) throw new NotFound('Album');
    const recorded = await db.transaction().execute(async (trx) => {
      await albums.findOrCreate(organizationId, to, trx);
      const copies = await images.duplicateAlbum(organizationId, id, to, new Date(), withTags, trx);
      return this.deps.events.recordMany(organizationId, 'copy_image', copies.map((c) => ({ albumId: to, payload: { album_id: to, image_id: c.id, source_image_id: c.group_id } })), trx);
    });
    await this.deps.events.dispatch(recorded);
    return (await albums.find(organizationId, to))!;
  }

  /**
   * Records that the client finished a batch: one "upload done" event per 50 images uploaded
   * since the album's previous one (one event when there were none), then returns the album.
   */
  async uploadDone(principal: Principal, id: string, platform: string): Promise<Album> {
    checkAlbumId(id);
    if (!can(principal, id, 'image_upload')) throw new AccessDenied('image_upload needed');
    const { db, albums, images, events } = this.deps;
    const { album, recorded } = await db.transaction().execute(async (trx) => {
      const album = await albums.findOrCreate(principal.organizationId, id, trx);
      const ids = await images.takeUnreported(principal.organizationId, id, trx);
      const recorded = [];
      for (let i = 0; i === 0 || i < ids.length; i += UPLOAD_DONE_BATCH) {
        const batch = ids.slice(i, i + UPLOAD_DONE_BATCH);
        const payload = { count: batch.length, platform, album_id: id, image_ids: batch };
        recorded.push(await events.record(principal.organizationId, id, 'upload_done', payload, trx));
      }
      return { album, recorded };
    });
    await events.dispatch(recorded);
    return album;
  }
}
