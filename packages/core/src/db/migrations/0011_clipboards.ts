import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Clipboards: images a user copied (`POST /clipboards`, the id chosen by the client) to paste
 * into another album later. The ids are kept as given; what is pasted is what is still live.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('clipboards')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid')
    .addColumn('image_ids', sql`uuid[]`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('clipboards').ifExists().execute();
}
