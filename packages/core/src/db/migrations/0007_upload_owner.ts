import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * An upload (`<public_id>@<version>` on the one Cloudinary account) belongs to the organization
 * and album whose form made it. Looking up who holds an upload, across organizations, needs the
 * upload key alone indexed, in images and in the record of notifications.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createIndex('images_upload_key_owner')
    .on('images')
    .column('upload_key')
    .where(sql.ref('upload_key'), 'is not', null)
    .execute();
  await db.schema.createIndex('notifications_upload_key').on('notifications').column('upload_key').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('notifications_upload_key').ifExists().execute();
  await db.schema.dropIndex('images_upload_key_owner').ifExists().execute();
}
