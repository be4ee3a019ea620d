import type { Kysely, Transaction } from 'kysely';
import type { Database, Image, ImageUpdate, NewImage } from '../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface ImagePageCursor {
  createdAt: Date;
  id: string;
}

export interface SyncRow extends Image {
  user_sfid: string | null;
}

/** Images: every query is scoped by organization. */
export class ImageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(organizationId: string, id: string, db: Db = this.db): Promise<Image | undefined> {
    return db.selectFrom('images').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
  }

  findForUpdate(organizationId: string, id: string, db: Db = this.db): Promise<Image | undefined> {
    return db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  update(organizationId: string, id: string, changes: ImageUpdate, db: Db = this.db): Promise<Image> {
    return db
      .updateTable('images')
      .set(changes)
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Unprocessed images created before `olderThan`, oldest first. */
  unprocessed(olderThan: Date, limit: number): Promise<Image[]> {
    return this.db
      .selectFrom('images')
      .selectAll()
      .where('processed', '=', false)
      .where('created_at', '<', olderThan)
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  findByUploadKey(organizationId: string, uploadKey: string, db: Db = this.db): Promise<Image | undefined> {
    return db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('upload_key', '=', uploadKey)
      .executeTakeFirst();
  }

  /** Inserts the image unless one exists for the same upload; undefined when it already did. */
  insertIfAbsent(image: NewImage, db: Db = this.db): Promise<Image | undefined> {
    return db
      .insertInto('images')
      .values(image)
      .onConflict((oc) => oc.columns(['organization_id', 'upload_key']).where('upload_key', 'is not', null).doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  insert(image: NewImage, db: Db = this.db): Promise<Image> {
    return db.insertInto('images').values(image).returningAll().executeTakeFirstOrThrow();
  }

  /** One page of an album, oldest first, after the cursor (keyset pagination on the listing index). */
  listAlbum(organizationId: string, albumId: string, limit: number, after?: ImagePageCursor): Promise<Image[]> {
    let query = this.db
      .selectFrom('images')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('album_id', '=', albumId);
    if (after) {
      // A row comparison, so that PostgreSQL seeks the listing index instead of filtering rows.
      query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
    }
    return query.orderBy('created_at').orderBy('id').limit(limit).execute();
  }

  /** Images of the organization among `ids`, with their uploader's Salesforce id; albums restricts to those albums. */
  findForSync(organizationId: string, ids: string[], albums?: string[]): Promise<SyncRow[]> {
    if (ids.length === 0 || (albums && albums.length === 0)) return Promise.resolve([]);
    let query = this.db
      .selectFrom('images')
      .leftJoin('users', 'users.id', 'images.user_id')
      .selectAll('images')
      .select('users.sfid as user_sfid')
      .where('images.organization_id', '=', organizationId)
      .where('images.id', 'in', ids);
    if (albums) query = query.where('images.album_id', 'in', albums);
    return query.execute();
  }

  /** Tag names of each image, sorted by name. */
  async tagNames(imageIds: string[]): Promise<Map<string, string[]>> {
    const byImage = new Map<string, string[]>();
    if (imageIds.length === 0) return byImage;
    const rows = await this.db.selectFrom('image_tags').select(['image_id', 'name']).where('image_id', 'in', imageIds).orderBy('name').execute();
    for (const row of rows) {
      const names = byImage.get(row.image_id);
      if (names) names.push(row.name);
      else byImage.set(row.image_id, [row.name]);
    }
    return byImage;
  }

  async addTags(imageId: string, names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.db
      .insertInto('image_tags')
      .values(names.map((name) => ({ image_id: imageId, name })))
      .onConflict((oc) => oc.columns(['image_id', 'name']).doNothing())
      .execute();
  }

  /** Marks the album's images not yet listed by an "upload done" event, and returns their ids, oldest first. */
  async takeUnreported(organizationId: string, albumId: string, db: Db = this.db): Promise<string[]> {
    const rows = await db
      .updateTable('images')
      .set({ reported_at: new Date() })
      .where('organization_id', '=', organizationId)
      .where('album_id', '=', albumId)
      .where('reported_at', 'is', null)
      .returning(['id', 'created_at'])
      .execute();
    return rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : 1)).map((r) => r.id);
  }
}
