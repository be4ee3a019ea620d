import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * An album's image count in 16 rows instead of one: every upload into an album used to update
 * the same album row, so concurrent uploads waited on its lock. Count = albums.images_count (what
 * was counted before this migration) + the sum of the shards.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('album_image_counts')
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('album_id', 'text', (c) => c.notNull())
    .addColumn('shard', 'smallint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('album_image_counts_pkey', ['organization_id', 'album_id', 'shard'])
    .addForeignKeyConstraint('album_image_counts_album_fkey', ['organization_id', 'album_id'], 'albums', ['organization_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('album_image_counts').ifExists().execute();
}
