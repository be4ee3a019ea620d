import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Imports from a URL (`POST /imports`): what was asked, what the worker did (the Cloudinary
 * upload result once the file is stored, then the image), and why it failed when it did.
 * `dedup_key` (a digest of album, URL, name, metadata, tags and headers) makes a client's
 * repeated submission one import, so one image.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('imports')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('album_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'uuid')
    .addColumn('dedup_key', 'text', (c) => c.notNull())
    .addColumn('import_type', 'text')
    /** The parameters as the API shows them back (no request headers: they may hold credentials). */
    .addColumn('params', 'jsonb', (c) => c.notNull())
    /** What the worker needs: url, filename, metadatas, tags, headers, and the rights of the token that asked. */
    .addColumn('request', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('pending'))
    .addColumn('upload', 'jsonb')
    .addColumn('image_id', 'uuid')
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('imports_dedup', ['organization_id', 'dedup_key'])
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('imports').ifExists().execute();
}
