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
