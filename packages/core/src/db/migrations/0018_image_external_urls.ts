import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * External URLs (`POST /image_external_urls`): a lasting public link to one image with the
 * transformations it was asked for, served by `GET /image_external_urls/:id`. The link outlives
 * the image on purpose (no foreign key): once the image is trashed or purged it leads to the
 * deleted-image placeholder instead of failing.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('image_external_urls')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('image_id', 'uuid', (c) => c.notNull())
    .addColumn('user_id', 'uuid')
    /** What was asked, as the API shows it back (`{image_id, transformations}`). */
    .addColumn('infos', 'jsonb', (c) => c.notNull())
    /** The checked transformation steps (`c_fit,w_100`), applied after the image's `full` rendition. */
    .addColumn('steps', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('image_external_urls_image').on('image_external_urls').columns(['organization_id', 'image_id']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('image_external_urls').ifExists().execute();
}
