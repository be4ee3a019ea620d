import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The purge's outbox: a Cloudinary asset whose image row was purged waits here until it is
 * destroyed, or found to be used by another image (a duplicate, a pasted copy), so that a process
 * that dies between the commit and the destroy call forgets nothing. `(public_id, type)` is the
 * asset as Cloudinary's destroy names it (every version of it). `images_asset` finds the images
 * that still use an asset, in any organization.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('asset_destroys')
    .addColumn('public_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('queued_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('due_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addPrimaryKeyConstraint('asset_destroys_pkey', ['public_id', 'type'])
    .execute();
  await db.schema.createIndex('asset_destroys_due').on('asset_destroys').columns(['due_at']).execute();
  await db.schema.createIndex('images_asset').on('images').columns(['cloudinary_public_id', 'cloudinary_type']).execute();
  await db.schema
    .createIndex('images_purgeable')
    .on('images')
    .columns(['deleted_at'])
    .where(sql.ref('deleted_at'), 'is not', null)
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('images_purgeable').ifExists().execute();
  await db.schema.dropIndex('images_asset').ifExists().execute();
  await db.schema.dropTable('asset_destroys').ifExists().execute();
}
