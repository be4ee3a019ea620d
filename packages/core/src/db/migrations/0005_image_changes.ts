import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/** The channel on which PostgreSQL announces changed images (payload: the image id, or `*`). */
export const IMAGE_CHANGES_CHANNEL = 'albumkit_images';

/**
 * Every change to an image row, whoever makes it (this process, a worker, the host app's own
 * SQL), is announced on `albumkit_images` when its transaction commits, so that every process
 * drops its cached JSON of that image. Inserts need no announcement: nothing caches an image
 * before it exists.
 */
export async function up(db: Db): Promise<void> {
  await sql`
    CREATE FUNCTION albumkit_image_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_LEVEL = 'STATEMENT' THEN
        PERFORM pg_notify(${sql.lit(IMAGE_CHANGES_CHANNEL)}, '*');
      ELSE
        PERFORM pg_notify(${sql.lit(IMAGE_CHANGES_CHANNEL)}, OLD.id::text);
      END IF;
      RETURN NULL;
    END
    $$`.execute(db);
  await sql`CREATE TRIGGER images_changed AFTER UPDATE OR DELETE ON images FOR EACH ROW EXECUTE FUNCTION albumkit_image_changed()`.execute(db);
  await sql`CREATE TRIGGER images_truncated AFTER TRUNCATE ON images FOR EACH STATEMENT EXECUTE FUNCTION albumkit_image_changed()`.execute(db);
}

export async function down(db: Db): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS images_truncated ON images`.execute(db);
  await sql`DROP TRIGGER IF EXISTS images_changed ON images`.execute(db);
  await sql`DROP FUNCTION IF EXISTS albumkit_image_changed()`.execute(db);
}
