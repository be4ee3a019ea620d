import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Zip downloads (`POST /downloads`): the images a token picked, in order, and whose download it
 * is (the user, or the integrator secret), so that only its owner adds to it. The zip itself is
 * streamed on request, never stored.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('downloads')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('organization_id', 'uuid', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid')
    .addColumn('secret_id', 'uuid')
    .addColumn('image_ids', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('downloads').ifExists().execute();
}
