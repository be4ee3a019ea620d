import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * The order images were created in. `created_at` has millisecond precision, and a client
 * uploading quickly creates several images in the same millisecond; "upload done" lists them in
 * the order they were uploaded.
 */
export async function up(db: Db): Promise<void> {
  // A nullable column and a default for new rows: no rewrite of the table (a serial column
  // would fill every existing row under an exclusive lock). Existing rows keep null: they sort
  // first, by created_at.
  await sql`CREATE SEQUENCE images_seq_seq AS bigint`.execute(db);
  await sql`ALTER TABLE images ADD COLUMN seq bigint`.execute(db);
  await sql`ALTER TABLE images ALTER COLUMN seq SET DEFAULT nextval('images_seq_seq')`.execute(db);
  await sql`ALTER SEQUENCE images_seq_seq OWNED BY images.seq`.execute(db);
}

export async function down(db: Db): Promise<void> {
  await sql`ALTER TABLE images DROP COLUMN IF EXISTS seq`.execute(db);
}
