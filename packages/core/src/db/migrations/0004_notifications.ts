import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Every accepted Cloudinary notification, recorded before the 201: Cloudinary does not send it
 * again, so a queue that loses its job (a Redis crash without persistence) must not lose it.
 * `done_at` is set once its image exists; a sweep re-enqueues the others.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('upload_key', 'text', (c) => c.notNull())
    .addColumn('album_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'uuid')
    .addColumn('upload', 'json', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('done_at', 'timestamptz(3)')
    .addPrimaryKeyConstraint('notifications_pkey', ['organization_id', 'upload_key'])
    .execute();
  await db.schema
    .createIndex('notifications_pending')
    .on('notifications')
    .column('received_at')
    .where(sql.ref('done_at'), 'is', null)
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('notifications').ifExists().execute();
}
