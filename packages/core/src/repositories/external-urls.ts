import type { Kysely } from 'kysely';
import type { Database, ImageExternalUrl } from '../db/schema.js';

export interface NewExternalUrl {
  id: string;
  organizationId: string;
  imageId: string;
  userId: string | null;
  infos: unknown;
  steps: string[];
}

/** External URLs (`image_external_urls`): written once, read by id from a public link. */
export class ExternalUrlRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertMany(rows: readonly NewExternalUrl[]): Promise<ImageExternalUrl[]> {
    if (rows.length === 0) return [];
    return this.db
      .insertInto('image_external_urls')
      .values(
        rows.map((row) => ({
          id: row.id,
          organization_id: row.organizationId,
          image_id: row.imageId,
          user_id: row.userId,
          infos: JSON.stringify(row.infos),
          steps: JSON.stringify(row.steps),
        })),
      )
      .returningAll()
      .execute();
  }

  /** By id alone: the link is public, its id (a random UUID) is what it shares. */
  find(id: string): Promise<ImageExternalUrl | undefined> {
    return this.db.selectFrom('image_external_urls').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
