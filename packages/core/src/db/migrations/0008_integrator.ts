import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * What the integrator endpoints read and keep: an organization's Salesforce id and sandbox flag
 * (`GET /organization`), and the annotation drawn over an image (`/images/:id/annotation`),
 * one per image, gone with the image.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .alterTable('organizations')
    .addColumn('sfid', 'text')
    .addColumn('sandbox', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .createTable('image_annotations')
    .addColumn('image_id', 'uuid', (c) => c.primaryKey().references('images.id').onDelete('cascade'))
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('svg', 'text')
    // `json`, like the other columns that hold what a client posted: kept as sent.
    .addColumn('object', 'json')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('image_annotations').ifExists().execute();
  await db.schema.alterTable('organizations').dropColumn('sandbox').dropColumn('sfid').execute();
}
