import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { can, canRead, isMember, type Principal } from '../auth/abilities.js';
import { verifyUploadResultSignature } from '../cloudinary/signing.js';
import type { AlbumkitConfig } from '../config.js';
import type { AlbumEvent, Database, Image, ImageUpdate } from '../db/schema.js';
import { readUploadResult } from '../domain/upload-result.js';
import { AccessDenied, BadRequest, Conflict, NotFound } from '../errors.js';
import { chooseGps, type LatLng } from '../domain/gps.js';
import type { JobPort } from '../jobs/port.js';
import type { Logger } from '../logger.js';
import type { EventService } from './events.js';
import { decodeKeyset, encodeKeyset } from '../domain/cursor.js';
import { isContested, type ImageCondition, type ImageRepository, type SyncRow } from '../repositories/images.js';
import { compileSearch, matchAll, parseSearch, tagTexts, type ParsedSearch } from '../search/index.js';
import { checkAlbumId, isAlbumId } from './albums.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ImageServiceDeps {
  db: Kysely<Database>;
  images: ImageRepository;
  events: EventService;
  jobs: () => JobPort;
  config: AlbumkitConfig;
  logger: Logger;
  /** Told after an image changed, committed (the database announces it to other processes too). */
  changed?: (imageId: string) => void;
}

/** What reading an image's file found (the worker's metadata job). */
export interface ProcessingResult {
  exifs?: Record<string, unknown>;
  gpsExifs?: LatLng | null;
  takenAt?: Date | null;
  /** Displayed size (after EXIF orientation). */
  width?: number | null;
  height?: number | null;
  /** Why the file could not be read; the image is processed all the same. */
  error?: string | null;
}

/** Who an image is created for: the album's organization and, when known, the uploading user. */
export interface UploadScope {
  organizationId: string;
  userId: string | null;
}

/** What `PUT /images/:id` may change. */
export interface ImageEdit {
  /** Degrees, a multiple of 90 (normalised to 0, 90, 180 or 270). */
  rotation?: number;
  /** In the original's displayed pixels; all zeros removes the crop. */
  crop?: { x: number; y: number; w: number; h: number };
  title?: string | null;
  description?: string | null;
}

export interface ImagePage {
  images: Image[];
  next: string | null;
}

/** Rules of images: creating one per upload, reading, listing, duplicating, syncing. */
export class ImageService {
  constructor(private readonly deps: ImageServiceDeps) {}

  /**
   * A client posts its upload result: needs `image_upload` on the album, and the upload must be
   * this album's (see `checkBinding`). When Cloudinary's notification made the image first, the
   * fields the client owns (what it posted, its metadatas) are merged into it.
   */
  async upload(principal: Principal, albumId: string, upload: unknown, metadatas: unknown): Promise<Image> {
    checkAlbumId(albumId);
    if (!can(principal, albumId, 'image_upload')) throw new AccessDenied('image_upload needed');
    const { image } = await this.createFromUpload(
      { organizationId: principal.organizationId, userId: principal.userId },
      albumId,
      upload,
      metadatas,
      { source: 'client', verifySignature: this.deps.config.verifyUploadSignatures },
    );
    return image;
  }

  /**
   * The image of a Cloudinary upload, created once: the client's post and Cloudinary's
   * notification both land here, and a unique index on (organization, upload) makes the second
   * one find the first one's image. The client's post then merges what it owns into it; the
   * notification never overwrites anything.
   */
  async createFromUpload(
    scope: UploadScope,
    albumId: string,
    upload: unknown,
    metadatas: unknown,
    options: {
      /** `client`: posted by an API client; `notification`: Cloudinary's, through a token bound to the album. */
      source: 'client' | 'notification';
      verifySignature: boolean;
      /** What reading the file found already (the notification job reads `image_metadata` inline): the image is created processed. */
      processed?: ProcessingResult;
      /** Set on the one retry after removing an image a client posted into another album. */
      afterRemoval?: boolean;
    },
  ): Promise<{ image: Image; created: boolean }> {
    const facts = readUploadResult(upload);
    if (metadatas !== undefined && metadatas !== null && (typeof metadatas !== 'object' || Array.isArray(metadatas))) {
      throw new BadRequest('metadatas: must be an object');
    }
    if (options.verifySignature) {
      if (!facts.signature) throw new BadRequest('cloudinary.signature: required');
      const ok = verifyUploadResultSignature(
        { public_id: facts.publicId, version: facts.version, signature: facts.signature },
        this.deps.config.cloudinary.apiSecret,
      );
      if (!ok) throw new BadRequest('cloudinary.signature: does not match this Cloudinary account');
    }
    const client = options.source === 'client';
    if (client && options.verifySignature) await this.checkBinding(scope.organizationId, albumId, facts.uploadKey);
    const gpsHtml = facts.gpsHtml ? JSON.stringify(facts.gpsHtml) : null;
    const { processed } = options;
    const { images } = this.deps;
    const id = randomUUID();
    const payload = { album_id: albumId, image_id: id };
    const eventRows = (processed ? (['new_image', 'processed_image'] as const) : (['new_image'] as const)).map((type) => ({
      id: randomUUID(),
      type,
      payload: JSON.stringify(payload),
    }));
    const infos = JSON.stringify(upload);
    const posted = metadatas === undefined || metadatas === null ? null : JSON.stringify(metadatas);
    // One statement: image, album on first use, events, count, notification handled.
    const inserted = await images.insertUpload(
      {
        id,
        organization_id: scope.organizationId,
        album_id: albumId,
        user_id: scope.userId,
        upload_key: facts.uploadKey,
        cloudinary_public_id: facts.publicId,
        cloudinary_version: facts.version,
        cloudinary_type: facts.type,
        infos,
        exifs: JSON.stringify(facts.exifs),
        metadatas: posted ?? '{}',
        gps: gpsHtml,
        gps_html: gpsHtml,
        gps_exifs: null,
        gps_ip: null,
        taken_at: facts.takenAt,
        width: facts.width,
        height: facts.height,
        original_width: facts.width,
        original_height: facts.height,
        filename: facts.filename,
        format: facts.format,
        title: null,
        description: null,
        group_id: null,
        processing_error: null,
        reported_at: null,
        ...(processed
          ? processedChanges(
              { exifs: facts.exifs, gps_html: facts.gpsHtml, gps_ip: null, taken_at: facts.takenAt, width: facts.width, height: facts.height, infos: upload },
              processed,
            )
          : {}),
      },
      eventRows,
    );
    let result: { image: Image; created: boolean; recorded: AlbumEvent[] };
    if (inserted) {
      // Cloudinary's word on which album's form made the upload is final: images a client posted
      // of it elsewhere (it had another album's upload result) go.
      if (!client && isContested(inserted)) await this.removeImpostors(facts.uploadKey, scope.organizationId, albumId);
      const recorded = eventRows.map((e) => ({ id: e.id, organization_id: scope.organizationId, album_id: albumId, type: e.type, payload, created_at: inserted.created_at }));
      result = { image: inserted, created: true, recorded };
    } else {
      let existing = await images.findByUploadKey(scope.organizationId, facts.uploadKey);
      if (!existing) throw new Error('upload conflict without an existing image');
      if (existing.album_id !== albumId) {
        if (client) throw new AccessDenied('this upload belongs to another album');
        // Once: an impostor inserted again in between is a conflict the job's retry settles.
        if (options.afterRemoval) throw new Error('upload conflict: held in another album again');
        await this.removeImpostors(facts.uploadKey, scope.organizationId, albumId);
        return this.createFromUpload(scope, albumId, upload, metadatas, { ...options, afterRemoval: true });
      }
      // A client posting again the upload of an image the user trashed (a late retry): it stays
      // in the trash, untouched; the client is told where it is.
      if (client && existing.deleted_at) {
        throw new Conflict(`this upload's image is in the trash: restore it with DELETE /trashed_images/${existing.id}`, { image_id: existing.id });
      }
      if (client) {
        const merged = await images.mergeClientUpload(scope.organizationId, albumId, facts.uploadKey, {
          infos,
          metadatas: posted,
          gpsHtml,
          filename: facts.filename,
        });
        if (merged) {
          existing = merged;
          this.deps.changed?.(merged.id);
        }
      }
      result = { image: existing, created: false, recorded: [] };
    }
    await this.deps.events.dispatch(result.recorded);
    if (!result.image.processed) {
      // An existing unprocessed image is handed on too: a process that died between creating the
      // image and enqueueing its processing leaves that work to whichever path delivers the upload next.
      if (processed) return { image: (await this.markProcessed(scope.organizationId, result.image.id, processed)) ?? result.image, created: result.created };
      await this.enqueueProcessing(result.image);
    }
    return { image: result.image, created: result.created };
  }

  /**
   * A client-posted upload result must not be an upload that belongs elsewhere. Its Cloudinary
   * signature proves only that the account holds the asset (and image JSON shows it to every
   * reader); what says where an upload belongs is Cloudinary's notification, recorded with the
   * organization and album of the token in its form's `notification_url`, and any image already
   * made of it. An upload held by another organization or album is refused; one that no one
   * holds yet is accepted, and the notification, when it comes, removes it from where it does
   * not belong (`removeImpostors`).
   */
  private async checkBinding(organizationId: string, albumId: string, uploadKey: string): Promise<void> {
    const holders = await this.deps.images.uploadHolders(uploadKey);
    if (holders.some((h) => h.organization_id !== organizationId || h.album_id !== albumId)) {
      throw new AccessDenied('upload belongs to another album');
    }
  }

  private async removeImpostors(uploadKey: string, organizationId: string, albumId: string): Promise<void> {
    const removed = await this.deps.images.removeImpostors(uploadKey, organizationId, albumId);
    if (removed > 0) this.deps.logger.warn({ uploadKey, organizationId, albumId, removed }, 'removed images of an upload that a client posted into another album');
  }

  /** Hands a new image to the metadata job (when a worker runs one); failures are logged, a sweep retries. */
  async enqueueProcessing(image: Image): Promise<void> {
    try {
      const jobs = this.deps.jobs();
      if (jobs.supports('metadata')) await jobs.enqueue('metadata', { organizationId: image.organization_id, imageId: image.id });
    } catch (error) {
      this.deps.logger.error({ err: error, imageId: image.id }, 'could not enqueue image processing');
    }
  }

  /**
   * Records what the metadata job found and marks the image processed (once: a job that runs
   * again finds it processed and changes nothing). Emits "processed image".
   */
  async markProcessed(organizationId: string, imageId: string, result: ProcessingResult): Promise<Image | undefined> {
    const { db, images, events } = this.deps;
    const outcome = await db.transaction().execute(async (trx) => {
      const image = await images.findForUpdate(organizationId, imageId, trx);
      if (!image || image.processed) return { image, event: undefined };
      const updated = await images.update(organizationId, imageId, { ...processedChanges(image, result), updated_at: new Date() }, trx);
      const event = await events.record(organizationId, updated.album_id, 'processed_image', this.eventPayload(updated), trx);
      return { image: updated, event };
    });
    if (outcome.event) {
      this.deps.changed?.(imageId);
      await events.dispatch([outcome.event]);
    }
    return outcome.image;
  }

  /**
   * Edits an image: `rotation` needs `image_rotate`, a crop (with its rotation) `image_crop`,
   * `title`/`description` `image_caption`; several fields need all of their abilities. A crop is
   * in the original's displayed pixels and must lie inside it (all zeros removes it). After a
   * crop `width/height` are the crop's, and they swap at 90 and 270 degrees. A change is one
   * `update_image` event; an edit that changes nothing records none.
   */
  async edit(principal: Principal, id: string, edit: ImageEdit): Promise<Image> {
    if (!UUID.test(id)) throw new NotFound('Image');
    const { db, images, events } = this.deps;
    const outcome = await db.transaction().execute(async (trx) => {
      const image = await images.findForUpdate(principal.organizationId, id.toLowerCase(), trx);
      if (!image) {
        if (!isMember(principal)) throw new AccessDenied('no such image for this token');
        throw new NotFound('Image');
      }
      const album = image.album_id;
      if (edit.crop !== undefined && !can(principal, album, 'image_crop')) throw new AccessDenied('image_crop needed');
      if (edit.crop === undefined && edit.rotation !== undefined && !can(principal, album, 'image_rotate')) throw new AccessDenied('image_rotate needed');
      if ((edit.title !== undefined || edit.description !== undefined) && !can(principal, album, 'image_caption')) throw new AccessDenied('image_caption needed');
      const changes = editChanges(image, edit);
      if (Object.keys(changes).length === 0) return { image, event: undefined };
      const updated = await images.update(principal.organizationId, image.id, { ...changes, updated_at: new Date() }, trx);
      const event = await events.record(principal.organizationId, album, 'update_image', this.eventPayload(updated), trx);
      return { image: updated, event };
    });
    if (outcome.event) {
      this.deps.changed?.(outcome.image.id);
      await events.dispatch([outcome.event]);
    }
    return outcome.image;
  }

  /**
   * Moves images to other albums of the organization, all or nothing: each image must be live
   * and the token a member, or hold `image_delete` on its album and `image_upload` on the
   * destination. Destinations are created on demand as `GET /albums/:id` does. Returns the moved
   * images, newest first; one `move_image` event each (`from_album_id` in the payload).
   */
  async move(principal: Principal, operations: Array<{ id: string; to: string }>): Promise<Image[]> {
    const wanted = new Map<string, string>();
    for (const { id, to } of operations) {
      if (!UUID.test(id)) throw new AccessDenied('not an image id');
      checkAlbumId(to);
      wanted.set(id.toLowerCase(), to);
    }
    if (wanted.size === 0) return [];
    const { db, images, events } = this.deps;
    const organizationId = principal.organizationId;
    const outcome = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('images')
        .select(['id', 'album_id'])
        .where('organization_id', '=', organizationId)
        .where('id', 'in', [...wanted.keys()])
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .forUpdate()
        .execute();
      const allowed = (from: string, to: string) => isMember(principal) || (can(principal, from, 'image_delete') && can(principal, to, 'image_upload'));
      if (rows.length !== wanted.size || rows.some((row) => !allowed(row.album_id, wanted.get(row.id)!))) throw new AccessDenied('image_delete and image_upload needed');
      for (const to of new Set(wanted.values())) {
        await trx.insertInto('albums').values({ organization_id: organizationId, id: to }).onConflict((oc) => oc.columns(['organization_id', 'id']).doNothing()).execute();
      }
      const moved = await images.move(organizationId, [...wanted].map(([id, to]) => ({ id, to })), new Date(), trx);
      const recorded = await events.recordMany(organizationId, 'move_image', moved.map((image) => ({ albumId: image.album_id, payload: { ...this.eventPayload(image), from_album_id: image.from_album_id } })), trx);
      return { moved, recorded, unchanged: rows.filter((row) => row.album_id === wanted.get(row.id)).map((row) => row.id) };
    });
    for (const image of outcome.moved) this.deps.changed?.(image.id);
    await events.dispatch(outcome.recorded);
    const already = await Promise.all(outcome.unchanged.map((id) => images.find(organizationId, id)));
    return [...outcome.moved, ...already.filter((image): image is Image => image !== undefined)].sort(
      (a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1),
    );
  }

  /** Moves one image to the trash (`image_delete` on its album). */
  async trashOne(principal: Principal, id: string): Promise<void> {
    if (!UUID.test(id)) throw new NotFound('Image');
    const image = await this.deps.images.find(principal.organizationId, id.toLowerCase());
    if (!image) {
      if (!isMember(principal)) throw new AccessDenied('no such image for this token');
      throw new NotFound('Image');
    }
    // The rights (an ability, or a token's query) are the bulk path's, checked under its lock.
    await this.trash(principal, [image.id]).catch(async (error) => {
      // Trashed by someone else meanwhile: gone, as asked. Still live: a refusal.
      if (error instanceof AccessDenied && !(await this.deps.images.find(principal.organizationId, image.id))) return [];
      throw error;
    });
  }

  /**
   * Moves images to the trash (`image_delete` on each one's album): all or nothing. An id that
   * is not a live image of the organization the token may delete refuses the whole call (401,
   * nothing deleted). Returns the trashed images, newest first; one `delete_image` event each.
   */
  async trash(principal: Principal, ids: string[]): Promise<Image[]> {
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    if (unique.length === 0) return [];
    if (!unique.every((id) => UUID.test(id))) throw new AccessDenied('not an image id');
    const { db, images, events } = this.deps;
    // Compiled before the transaction: compiling reads the tags (on PGlite, one connection).
    const condition = await this.tokenCondition(principal);
    const outcome = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('images')
        .select(['id', 'album_id'])
        .where('organization_id', '=', principal.organizationId)
        .where('id', 'in', unique)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .forUpdate()
        .execute();
      const matching = condition ? await images.matching(principal.organizationId, unique, condition, trx) : undefined;
      // A token bound to a query deletes only what matches it: with `image_delete: true` in its claims, all of that.
      const deletable = (row: { id: string; album_id: string }) =>
        principal.query ? (!matching || matching.has(row.id)) && (principal.deleteMatching === true || can(principal, row.album_id, 'image_delete')) : can(principal, row.album_id, 'image_delete');
      if (rows.length !== unique.length || !rows.every(deletable)) {
        throw new AccessDenied('image_delete needed on every image');
      }
      const trashed = await images.trash(principal.organizationId, unique, new Date(), trx);
      if (trashed.length !== unique.length) throw new AccessDenied('an image left meanwhile');
      const recorded = await events.recordMany(principal.organizationId, 'delete_image', trashed.map((image) => ({ albumId: image.album_id, payload: this.eventPayload(image) })), trx);
      return { trashed, recorded };
    });
    for (const image of outcome.trashed) this.deps.changed?.(image.id);
    await events.dispatch(outcome.recorded);
    return outcome.trashed.sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1));
  }

  /**
   * A page of the trash, latest deletion first: a member's token (or an admin's) sees its
   * organization's, optionally of one album; any other token only an album it holds `trash` on.
   */
  async listTrash(principal: Principal, albumId: string | undefined, limit: number, cursor: string | undefined): Promise<{ images: Image[]; next: string | null }> {
    if (albumId !== undefined) checkAlbumId(albumId);
    if (!isMember(principal) && (albumId === undefined || !can(principal, albumId, 'trash'))) throw new AccessDenied('trash needed');
    const position = cursor ? decodeKeyset(cursor, UUID) : undefined;
    const after = position && { deletedAt: position.at, id: position.id };
    const rows = await this.deps.images.listTrash(principal.organizationId, albumId, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { images: page, next: rows.length > limit && last ? encodeKeyset(last.deleted_at!, last.id) : null };
  }

  /** Takes an image out of the trash (a member, an admin, or `trash` on its album); one `restore_image` event. */
  async restore(principal: Principal, id: string): Promise<Image> {
    if (!UUID.test(id)) throw new NotFound('Image');
    const { db, images, events } = this.deps;
    const trashed = await images.findTrashed(principal.organizationId, id.toLowerCase());
    if (!trashed) {
      if (!isMember(principal)) throw new AccessDenied('no such image for this token');
      throw new NotFound('Image');
    }
    if (!isMember(principal) && !can(principal, trashed.album_id, 'trash')) throw new AccessDenied('trash needed');
    const outcome = await db.transaction().execute(async (trx) => {
      const restored = await images.restore(principal.organizationId, trashed.id, new Date(), [trashed.album_id], trx);
      if (!restored) return undefined;
      return { restored, event: await events.record(principal.organizationId, restored.album_id, 'restore_image', this.eventPayload(restored), trx) };
    });
    // Restored meanwhile by someone else: it is live, which is what was asked.
    if (!outcome) {
      const live = await images.find(principal.organizationId, trashed.id);
      if (!live) throw new NotFound('Image');
      return live;
    }
    this.deps.changed?.(outcome.restored.id);
    await events.dispatch([outcome.event]);
    return outcome.restored;
  }

  /** Images created but not processed before `olderThan`: work a lost job left behind. */
  unprocessed(olderThan: Date, limit: number): Promise<Image[]> {
    return this.deps.images.unprocessed(olderThan, limit);
  }

  private eventPayload(image: Image) {
    return { album_id: image.album_id, image_id: image.id };
  }

  /** One image: needs `image_list` on its album (members and admins of its organization may). */
  async get(principal: Principal, id: string): Promise<Image> {
    if (!UUID.test(id)) throw new NotFound('Image');
    const image = await this.deps.images.find(principal.organizationId, id.toLowerCase());
    if (!image) {
      if (!isMember(principal)) throw new AccessDenied('no such image for this token');
      throw new NotFound('Image');
    }
    if (principal.query) await this.checkQuery(principal, image.id);
    else this.checkRead(principal, image.album_id);
    return image;
  }

  /** A token bound to a query reads an image only when it matches (whatever its album rights). */
  private async checkQuery(principal: Principal, id: string): Promise<void> {
    if ((await this.withinQuery(principal, [id])).length === 0) throw new AccessDenied('the image does not match the token\'s query');
  }

  /** The ids among `ids` (in order) that the token's query lets it read; all of them for a token without one. */
  async withinQuery(principal: Principal, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return ids;
    const condition = await this.tokenCondition(principal);
    if (!condition) return ids;
    const matching = await this.deps.images.matching(principal.organizationId, ids, condition);
    return ids.filter((id) => matching.has(id));
  }

  /**
   * Search (`GET /search`): the organization's live images matching `q` and the token's own query,
   * newest first unless `order` says otherwise. A token bound to a query searches inside it; any
   * other token that is not a member searches the albums it may list.
   */
  async search(principal: Principal, q: string, limit: number, order: 'asc' | 'desc', cursor: string | undefined): Promise<ImagePage> {
    const parsed = parseSearch(q);
    const conditions: ImageCondition[] = [];
    if (!matchAll(parsed)) conditions.push(await this.compile(principal.organizationId, parsed));
    const own = await this.tokenCondition(principal);
    if (own) conditions.push(own);
    const albums = principal.query ? undefined : this.syncAlbums(principal);
    const position = cursor ? decodeKeyset(cursor, UUID) : undefined;
    const rows = await this.deps.images.search(principal.organizationId, conditions, albums, limit + 1, order, position && { createdAt: position.at, id: position.id });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { images: page, next: rows.length > limit && last ? encodeKeyset(last.created_at, last.id) : null };
  }

  /** An image of the organization, without a rights check: for callers that check their own. */
  find(organizationId: string, id: string): Promise<Image | undefined> {
    return this.deps.images.find(organizationId, id);
  }

  /** Images of the organization by id, trashed ones included, without a rights check. */
  findMany(organizationId: string, ids: readonly string[]): Promise<Image[]> {
    return this.deps.images.findMany(organizationId, ids);
  }

  /** Reading an image of the token's organization needs `image_list` on its album (or membership). */
  checkRead(principal: Principal, albumId: string): void {
    if (!canRead(principal, albumId, 'image_list')) throw new AccessDenied('image_list needed');
  }

  /** A page of the album's images, oldest first; `cursor` is the `next` of the previous page. */
  async list(principal: Principal, albumId: string, limit: number, cursor: string | undefined): Promise<ImagePage> {
    checkAlbumId(albumId);
    // A token bound to a query lists what matches it, in any album of its organization.
    if (!principal.query && !canRead(principal, albumId, 'image_list')) throw new AccessDenied('image_list needed');
    return this.page(principal.organizationId, albumId, limit, cursor, await this.tokenCondition(principal));
  }

  /** A page of an album's images without a rights check: for callers that checked their own. */
  async page(organizationId: string, albumId: string, limit: number, cursor: string | undefined, condition?: ImageCondition): Promise<ImagePage> {
    const position = cursor ? decodeKeyset(cursor, UUID) : undefined;
    const after = position && { createdAt: position.at, id: position.id };
    const rows = await this.deps.images.listAlbum(organizationId, albumId, limit + 1, after, condition);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { images: page, next: rows.length > limit && last ? encodeKeyset(last.created_at, last.id) : null };
  }

  /** A copy of the image in the same album: new id, `group_id` = the source's id. Needs `image_duplicate`. */
  async duplicate(principal: Principal, id: string): Promise<Image> {
    if (!UUID.test(id)) throw new NotFound('Image');
    const { images } = this.deps;
    const sourceId = id.toLowerCase();
    // Only keys that can be album ids: a token may carry anything as a key.
    const albums = principal.admin ? undefined : Object.keys(principal.abilities).filter((album) => isAlbumId(album) && can(principal, album, 'image_duplicate'));
    // One statement on the way that matters: the source is read, copied and counted together.
    const eventId = randomUUID();
    const copy = await images.insertDuplicate(principal.organizationId, sourceId, { id: randomUUID(), at: new Date(), eventId }, albums);
    if (copy) {
      // Recorded by the statement that made the copy.
      const payload = { ...this.eventPayload(copy), source_image_id: sourceId };
      await this.deps.events.dispatch([{ id: eventId, organization_id: copy.organization_id, album_id: copy.album_id, type: 'copy_image', payload, created_at: copy.created_at }]);
      return copy;
    }
    const source = await images.find(principal.organizationId, sourceId);
    if (!source && isMember(principal)) throw new NotFound('Image');
    throw new AccessDenied('image_duplicate needed');
  }

  /** The condition a token's own query (claim `q`) puts on every image it reads; none for `*`. */
  private async tokenCondition(principal: Principal): Promise<ImageCondition | undefined> {
    if (!principal.query) return undefined;
    const parsed = parseSearch(principal.query);
    return matchAll(parsed) ? undefined : this.compile(principal.organizationId, parsed);
  }

  /**
   * A parsed query as a condition, its tags looked up first (one query): their ids become
   * parameters, so that PostgreSQL plans by each tag's own frequency. A wildcard naming more
   * than 1,000 tags is left to the database.
   */
  private async compile(organizationId: string, parsed: ParsedSearch): Promise<ImageCondition> {
    const texts = tagTexts(parsed);
    const tagIds = new Map<string, string[]>();
    if (texts.length > 0) {
      const rows = await this.deps.db
        .selectFrom('tags')
        .select(['id', sql<string>`lower(name)`.as('lower')])
        .where('organization_id', '=', organizationId)
        .where((eb) => eb.or(texts.map((t) => (t.like === null ? eb(sql`lower(name)`, '=', t.exact.toLowerCase()) : eb(sql`lower(name)`, 'like', t.like.toLowerCase())))))
        .limit(10_000)
        .execute();
      for (const text of texts) {
        const ids = rows.filter((row) => (text.like === null ? row.lower === text.exact.toLowerCase() : likeMatches(text.like.toLowerCase(), row.lower))).map((row) => row.id);
        if (ids.length <= 1000 && rows.length < 10_000) tagIds.set(text.key, ids);
      }
    }
    return compileSearch(parsed, { organizationId, tagIds });
  }

  /** The albums whose images a token may sync; undefined: every album of its organization. */
  syncAlbums(principal: Principal): string[] | undefined {
    // A token bound to a query: the query is its scope (see `withinQuery`).
    if (isMember(principal) || principal.query) return undefined;
    return Object.keys(principal.abilities).filter((album) => isAlbumId(album) && (can(principal, album, 'image_list') || can(principal, album, 'see')));
  }

  /** Images of the token's organization among `ids`, in `albums` (when given), with their uploader's Salesforce id. */
  syncRows(principal: Principal, ids: string[], albums: string[] | undefined): Promise<SyncRow[]> {
    return this.deps.images.findForSync(principal.organizationId, ids, albums);
  }

  tagNames(ids: string[]): Promise<Map<string, string[]>> {
    return this.deps.images.tagNames(ids);
  }

  uploaderSfids(principal: Principal, userIds: string[]): Promise<Map<string, string | null>> {
    return this.deps.images.userSfids(principal.organizationId, userIds);
  }
}

/** The distinct image ids among what a client sent (others can match no image), lower case, in order. */
export function syncIds(ids: string[]): string[] {
  return [...new Set(ids.filter((id) => UUID.test(id)).map((id) => id.toLowerCase()))];
}

/**
 * The columns a processing result sets: its EXIF (the one canonical shape, whichever source it
 * read) when it read any, GPS chosen EXIF > browser > IP, the displayed size (as uploaded, and
 * as shown unless a crop decides that), and the predominant color Cloudinary found.
 */
function processedChanges(
  image: { exifs: unknown; gps_html: unknown; gps_ip: unknown; taken_at: Date | null; width: number; height: number; infos: unknown; crop_w?: number },
  result: ProcessingResult,
) {
  const exifs = result.exifs ?? image.exifs ?? {};
  const gpsExifs = result.gpsExifs ?? null;
  const width = result.width || image.width;
  const height = result.height || image.height;
  const cropped = (image.crop_w ?? 0) > 0;
  const color = predominantColor(image.infos);
  return {
    processed: true,
    processing_error: result.error ?? null,
    exifs: JSON.stringify(exifs),
    gps_exifs: gpsExifs ? JSON.stringify(gpsExifs) : null,
    gps: jsonOrNull(chooseGps(gpsExifs, image.gps_html as LatLng | null, image.gps_ip as LatLng | null)),
    taken_at: result.takenAt ?? image.taken_at,
    original_width: width,
    original_height: height,
    ...(cropped ? {} : { width, height }),
    ...(color ? { color } : {}),
  };
}

const HEX_COLOR = /^#[0-9a-f]{6}$/i;

/**
 * The first (most present) of Cloudinary's `colors`: `[["#EBF1F9", 13.2], …]` in JSON, the same
 * list flattened (`"#EBF1F9", "13.2", …`) when the upload result came form-encoded.
 */
export function predominantColor(infos: unknown): string | undefined {
  const colors = infos && typeof infos === 'object' ? (infos as { colors?: unknown }).colors : undefined;
  if (!Array.isArray(colors)) return undefined;
  const first = Array.isArray(colors[0]) ? colors[0][0] : colors[0];
  return typeof first === 'string' && HEX_COLOR.test(first) ? first.toUpperCase() : undefined;
}

/** The columns an edit changes (only those that differ), or a 400 naming the field. */
function editChanges(image: Image, edit: ImageEdit): ImageUpdate {
  const rotation = edit.rotation === undefined ? image.rotation : ((edit.rotation % 360) + 360) % 360;
  let crop = { x: image.crop_x, y: image.crop_y, w: image.crop_w, h: image.crop_h };
  if (edit.crop) {
    const { x, y, w, h } = edit.crop;
    const removed = x === 0 && y === 0 && w === 0 && h === 0;
    if (!removed) {
      const frameW = image.original_width || image.width;
      const frameH = image.original_height || image.height;
      if (!frameW || !frameH) throw new BadRequest("crop_w: the image's size is not known yet");
      if (w <= 0) throw new BadRequest('crop_w: a positive width is expected');
      if (h <= 0) throw new BadRequest('crop_h: a positive height is expected');
      if (x + w > frameW) throw new BadRequest(`crop_x: crop_x + crop_w must be at most the image width (${frameW})`);
      if (y + h > frameH) throw new BadRequest(`crop_y: crop_y + crop_h must be at most the image height (${frameH})`);
    }
    crop = edit.crop;
  }
  const baseW = crop.w > 0 && crop.h > 0 ? crop.w : image.original_width || image.width;
  const baseH = crop.w > 0 && crop.h > 0 ? crop.h : image.original_height || image.height;
  const turned = rotation === 90 || rotation === 270;
  const next = {
    rotation,
    crop_x: crop.x,
    crop_y: crop.y,
    crop_w: crop.w,
    crop_h: crop.h,
    width: turned ? baseH : baseW,
    height: turned ? baseW : baseH,
    title: edit.title === undefined ? image.title : edit.title,
    description: edit.description === undefined ? image.description : edit.description,
  };
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(next)) {
    if (image[key as keyof typeof next] !== value) changes[key] = value;
  }
  // Width and height follow the edit only when the user edited geometry.
  if (edit.rotation === undefined && edit.crop === undefined) {
    delete changes.width;
    delete changes.height;
  }
  return changes as ImageUpdate;
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Whether a LIKE pattern (with `\\` escapes) matches a text, as PostgreSQL's LIKE would. */
function likeMatches(pattern: string, text: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += escapeRegExp(c);
  }
  return new RegExp(`^${source}$`, 'u').test(text);
}

const escapeRegExp = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
