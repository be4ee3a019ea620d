import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The trash: a deleted image keeps its row with `deleted_at` set until it is restored or purged.
 * Live reads go through indexes that hold live rows only (the album listing is rebuilt as a
 * partial index, so that trashed rows cost the listing nothing); the trash is listed newest
 * deletion first per organization.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('images').addColumn('deleted_at', 'timestamptz').execute();
  await db.schema
    .createIndex('images_album_live')
    .on('images')
    .columns(['organization_id', 'album_id', 'created_at', 'id'])
    .where(sql.ref('deleted_at'), 'is', null)
    .execute();
  await db.schema.dropIndex('images_album_created').execute();
  await db.schema
    .createIndex('images_trash')
    .on('images')
    .columns(['organization_id', 'deleted_at desc', 'id'])
    .where(sql.ref('deleted_at'), 'is not', null)
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('images_trash').ifExists().execute();
  await db.schema.createIndex('images_album_created').on('images').columns(['organization_id', 'album_id', 'created_at', 'id']).execute();
  await db.schema.dropIndex('images_album_live').ifExists().execute();
  await db.schema.alterTable('images').dropColumn('deleted_at').execute();
}
