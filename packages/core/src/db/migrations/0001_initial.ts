import { sql, type Kysely } from 'kysely';

// Migrations take `Kysely<any>`: they describe the schema at their point in history, not today's.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

const now = sql`now()`;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('organizations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('sfid', 'text')
    .addColumn('email', 'text')
    .addColumn('name', 'text')
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('users_organization_id').on('users').column('organization_id').execute();

  await db.schema
    .createTable('organization_secrets')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('revoked_at', 'timestamptz(3)')
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema
    .createIndex('organization_secrets_organization_id')
    .on('organization_secrets')
    .column('organization_id')
    .execute();

  await db.schema
    .createTable('albums')
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('images_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('views_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .addPrimaryKeyConstraint('albums_pkey', ['organization_id', 'id'])
    .execute();

  await db.schema
    .createTable('images')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull())
    .addColumn('album_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('upload_key', 'text')
    .addColumn('cloudinary_public_id', 'text', (c) => c.notNull())
    .addColumn('cloudinary_version', 'text', (c) => c.notNull())
    .addColumn('cloudinary_type', 'text', (c) => c.notNull())
    .addColumn('infos', 'json', (c) => c.notNull())
    .addColumn('exifs', 'json', (c) => c.notNull())
    .addColumn('metadatas', 'json', (c) => c.notNull())
    .addColumn('gps', 'json')
    .addColumn('gps_ip', 'json')
    .addColumn('gps_exifs', 'json')
    .addColumn('gps_html', 'json')
    .addColumn('taken_at', 'timestamptz(3)')
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('rotation', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('crop_x', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('crop_y', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('crop_w', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('crop_h', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('original_width', 'integer', (c) => c.notNull())
    .addColumn('original_height', 'integer', (c) => c.notNull())
    .addColumn('filename', 'text')
    .addColumn('format', 'text')
    .addColumn('title', 'text')
    .addColumn('description', 'text')
    .addColumn('page', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('group_id', 'uuid')
    .addColumn('color', 'text', (c) => c.notNull().defaultTo('#'))
    .addColumn('processed', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('processing_error', 'text')
    .addColumn('reported_at', 'timestamptz(3)')
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .addColumn('updated_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .addForeignKeyConstraint('images_album_fkey', ['organization_id', 'album_id'], 'albums', ['organization_id', 'id'], (c) =>
      c.onDelete('cascade'),
    )
    .execute();
  // Album listing, keyset-paginated by (created_at, id).
  await db.schema
    .createIndex('images_album_created')
    .on('images')
    .columns(['organization_id', 'album_id', 'created_at', 'id'])
    .execute();
  // One image per Cloudinary upload, whichever path (client post, notification) arrives first.
  await db.schema
    .createIndex('images_upload_key')
    .unique()
    .on('images')
    .columns(['organization_id', 'upload_key'])
    .where(sql.ref('upload_key'), 'is not', null)
    .execute();
  // Images not yet listed by an "upload done" event.
  await db.schema
    .createIndex('images_unreported')
    .on('images')
    .columns(['organization_id', 'album_id', 'created_at'])
    .where(sql.ref('reported_at'), 'is', null)
    .execute();
  await db.schema
    .createIndex('images_group_id')
    .on('images')
    .column('group_id')
    .where(sql.ref('group_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('image_tags')
    .addColumn('image_id', 'uuid', (c) => c.notNull().references('images.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('image_tags_pkey', ['image_id', 'name'])
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('album_id', 'text')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'json', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(now))
    .execute();
  await db.schema.createIndex('events_organization_created').on('events').columns(['organization_id', 'created_at']).execute();
}

export async function down(db: Db): Promise<void> {
  for (const table of ['events', 'image_tags', 'images', 'albums', 'organization_secrets', 'users', 'organizations']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
