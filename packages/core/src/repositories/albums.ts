import { sql, type Kysely, type Transaction } from 'kysely';
import type { Album, Database } from '../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Shards of an album's image count: uploads into one album spread their increments over them. */
export const COUNT_SHARDS = 16;

/** Albums: always addressed by (organization, id). */
export class AlbumRepository {
  constructor(private readonly db: Kysely<Database>) {}

  find(organizationId: string, id: string, db: Db = this.db): Promise<Album | undefined> {
    return db
      .selectFrom('albums')
      .select(['organization_id', 'id', 'views_count', 'created_at', 'updated_at'])
      .select(
        sql<number>`albums.images_count + coalesce((select sum(c.count) from album_image_counts c where c.organization_id = albums.organization_id and c.album_id = albums.id), 0)::int`.as(
          'images_count',
        ),
      )
      .where('organization_id', '=', organizationId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** The album, created when it does not exist yet (safe under concurrency). */
  async findOrCreate(organizationId: string, id: string, db: Db = this.db): Promise<Album> {
    // Usually the album exists: one read, and an insert only the first time.
    const existing = await this.find(organizationId, id, db);
    if (existing) return existing;
    const created = await db
      .insertInto('albums')
      .values({ organization_id: organizationId, id })
      .onConflict((oc) => oc.columns(['organization_id', 'id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return created ?? (await this.find(organizationId, id, db))!;
  }

  /** A page of the organization's albums (or of `only` these), newest first, after the cursor. */
  list(organizationId: string, limit: number, after?: { createdAt: Date; id: string }, only?: string[]): Promise<Album[]> {
    if (only && only.length === 0) return Promise.resolve([]);
    let query = this.db
      .selectFrom('albums')
      .select(['organization_id', 'id', 'views_count', 'created_at', 'updated_at'])
      .select(
        sql<number>`albums.images_count + coalesce((select sum(c.count) from album_image_counts c where c.organization_id = albums.organization_id and c.album_id = albums.id), 0)::int`.as(
          'images_count',
        ),
      )
      .where('organization_id', '=', organizationId);
    if (only) query = query.where('id', 'in', only);
    if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)));
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** The album locked for the transaction (renames and merges of one album go one at a time). */
  async lock(organizationId: string, id: string, db: Db): Promise<boolean> {
    const row = await db.selectFrom('albums').select('id').where('organization_id', '=', organizationId).where('id', '=', id).forUpdate().executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Gives an album a new id: a new row with its counters and dates, its images, counts and
   * upload records moved to it, the old row removed; in the caller's transaction.
   */
  async rename(organizationId: string, from: string, to: string, db: Db): Promise<void> {
    await sql`
      insert into albums (organization_id, id, images_count, views_count, created_at, updated_at)
      select organization_id, ${to}, images_count, views_count, created_at, now() from albums
      where organization_id = ${organizationId}::uuid and id = ${from}`.execute(db);
    await this.moveContents(organizationId, from, to, db);
  }

  /** Moves every image (trashed ones too) and the count of one album into another, then removes the first. */
  async merge(organizationId: string, from: string, to: string, db: Db): Promise<void> {
    await sql`
      update albums set images_count = albums.images_count + src.images_count, updated_at = now()
      from albums src
      where albums.organization_id = ${organizationId}::uuid and albums.id = ${to}
        and src.organization_id = ${organizationId}::uuid and src.id = ${from}`.execute(db);
    await this.moveContents(organizationId, from, to, db);
  }

  private async moveContents(organizationId: string, from: string, to: string, db: Db): Promise<void> {
    await sql`update images set album_id = ${to}, updated_at = now() where organization_id = ${organizationId}::uuid and album_id = ${from}`.execute(db);
    await sql`
      insert into album_image_counts (organization_id, album_id, shard, count)
      select organization_id, ${to}, shard, count from album_image_counts
      where organization_id = ${organizationId}::uuid and album_id = ${from}
      on conflict (organization_id, album_id, shard) do update set count = album_image_counts.count + excluded.count`.execute(db);
    await sql`update notifications set album_id = ${to} where organization_id = ${organizationId}::uuid and album_id = ${from}`.execute(db);
    await sql`delete from albums where organization_id = ${organizationId}::uuid and id = ${from}`.execute(db);
  }

  /** Creates a new album; undefined when the id is taken. */
  create(organizationId: string, id: string): Promise<Album | undefined> {
    return this.db
      .insertInto('albums')
      .values({ organization_id: organizationId, id })
      .onConflict((oc) => oc.columns(['organization_id', 'id']).doNothing())
      .returningAll()
      .executeTakeFirst();
  }
}
