import type { Kysely } from 'kysely';
import { can, isMember, type Principal } from '../auth/abilities.js';
import type { Clipboard, Database, Image } from '../db/schema.js';
import { AccessDenied, BadRequest, NotFound } from '../errors.js';
import type { AlbumRepository } from '../repositories/albums.js';
import type { ImageRepository } from '../repositories/images.js';
import { checkAlbumId } from './albums.js';
import type { EventService } from './events.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface ClipboardJson {
  id: string;
  user_id: string | null;
  organization_id: string;
  created_at: string;
}

/**
 * Copy and paste: a clipboard holds images copied from albums the token may copy from
 * (`image_copy`); pasting (`paste` on the target album) makes copies that share the Cloudinary
 * asset, as duplicates do. A clipboard is its organization's, and its user's.
 */
export class ClipboardService {
  constructor(private readonly deps: { db: Kysely<Database>; images: ImageRepository; albums: AlbumRepository; events: EventService; changed?: (imageId: string) => void }) {}

  async create(principal: Principal, id: string, imageIds: string[]): Promise<Clipboard> {
    if (!UUID.test(id)) throw new BadRequest('id: a UUID chosen by the client is expected');
    const ids = [...new Set(imageIds.map((i) => i.toLowerCase()))];
    if (ids.length === 0) throw new BadRequest('image_ids: at least one image is expected');
    if (!ids.every((i) => UUID.test(i))) throw new AccessDenied('not an image id');
    const { db } = this.deps;
    const rows = await db
      .selectFrom('images')
      .select(['id', 'album_id'])
      .where('organization_id', '=', principal.organizationId)
      .where('id', 'in', ids)
      .where('deleted_at', 'is', null)
      .execute();
    if (rows.length !== ids.length || rows.some((row) => !can(principal, row.album_id, 'image_copy') && !isMember(principal))) {
      throw new AccessDenied('image_copy needed on every image');
    }
    const clipboard = await db
      .insertInto('clipboards')
      .values({ id: id.toLowerCase(), organization_id: principal.organizationId, user_id: principal.userId, image_ids: ids })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!clipboard) throw new BadRequest('id: a clipboard of that id exists');
    return clipboard;
  }

  /** Pastes a clipboard of the organization into an album (`paste` on it, created on demand): the copies, in clipboard order. */
  async paste(principal: Principal, id: string, albumId: string): Promise<Image[]> {
    checkAlbumId(albumId);
    if (!UUID.test(id)) throw new NotFound('Clipboard');
    if (!can(principal, albumId, 'paste') && !isMember(principal)) throw new AccessDenied('paste needed');
    const { db, images, albums } = this.deps;
    const clipboard = await db
      .selectFrom('clipboards')
      .selectAll()
      .where('id', '=', id.toLowerCase())
      .where('organization_id', '=', principal.organizationId)
      .executeTakeFirst();
    if (!clipboard) throw new NotFound('Clipboard');
    const { copies, recorded } = await db.transaction().execute(async (trx) => {
      await albums.findOrCreate(principal.organizationId, albumId, trx);
      const copies = await images.copyInto(principal.organizationId, clipboard.image_ids, albumId, new Date(), trx);
      const recorded = await this.deps.events.recordMany(
        principal.organizationId,
        'copy_image',
        copies.map((copy) => ({ albumId, payload: { album_id: albumId, image_id: copy.id, source_image_id: copy.group_id! } })),
        trx,
      );
      return { copies, recorded };
    });
    for (const copy of copies) this.deps.changed?.(copy.id);
    await this.deps.events.dispatch(recorded);
    return copies;
  }
}

export function serializeClipboard(clipboard: Clipboard, formatTime: (date: Date) => string): ClipboardJson {
  return { id: clipboard.id, user_id: clipboard.user_id, organization_id: clipboard.organization_id, created_at: formatTime(clipboard.created_at) };
}
