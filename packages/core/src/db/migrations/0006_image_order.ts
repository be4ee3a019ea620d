import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The order images were created in. `created_at` has millisecond precision, and a client
 * uploading quickly creates several images in the same millisecond; "upload done" lists them in
 * the order they were uploaded.
 */
export async function up(db: Db): Promise<void> {
  await sql`ALTER TABLE images ADD COLUMN seq bigserial`.execute(db);
}

export async function down(db: Db): Promise<void> {
  await sql`ALTER TABLE images DROP COLUMN IF EXISTS seq`.execute(db);
}
