import { sql, type Kysely } from 'kysely';
import type { Database, Download } from '../db/schema.js';

/** Zip downloads: created, added to by their owner, read by the signed zip link. */
export class DownloadRepository {
  constructor(private readonly db: Kysely<Database>) {}

  create(row: { id: string; organizationId: string; userId: string | null; secretId: string | null; imageIds: string[] }): Promise<Download> {
    return this.db
      .insertInto('downloads')
      .values({ id: row.id, organization_id: row.organizationId, user_id: row.userId, secret_id: row.secretId, image_ids: JSON.stringify(row.imageIds) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  find(organizationId: string, id: string): Promise<Download | undefined> {
    return this.db.selectFrom('downloads').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
  }

  /** By id alone: for the signed zip link, whose signature names the download. */
  findById(id: string): Promise<Download | undefined> {
    return this.db.selectFrom('downloads').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Sets the list (the service merged it, under the row lock of `lockForUpdate`). */
  async setImages(id: string, imageIds: string[], db: Kysely<Database> = this.db): Promise<Download> {
    return db.updateTable('downloads').set({ image_ids: JSON.stringify(imageIds), updated_at: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  }

  lockForUpdate(db: Kysely<Database>, organizationId: string, id: string): Promise<Download | undefined> {
    return db.selectFrom('downloads').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).forUpdate().executeTakeFirst();
  }
}
