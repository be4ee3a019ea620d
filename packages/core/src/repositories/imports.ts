import { sql, type Kysely } from 'kysely';
import type { Database, Import } from '../db/schema.js';

export interface NewImport {
  id: string;
  organizationId: string;
  albumId: string;
  userId: string | null;
  dedupKey: string;
  params: unknown;
  request: unknown;
}

/** Imports from a URL: one row per distinct submission, moved on by the import job. */
export class ImportRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * The import of this submission: a new one, the existing one of an identical earlier
   * submission, or that one set pending again when it had failed (`retried`).
   */
  async insertOrFind(row: NewImport): Promise<{ row: Import; created: boolean; retried: boolean }> {
    const inserted = await this.db
      .insertInto('imports')
      .values({
        id: row.id,
        organization_id: row.organizationId,
        album_id: row.albumId,
        user_id: row.userId,
        dedup_key: row.dedupKey,
        params: JSON.stringify(row.params),
        request: JSON.stringify(row.request),
      })
      .onConflict((oc) => oc.columns(['organization_id', 'dedup_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { row: inserted, created: true, retried: false };
    const retried = await this.db
      .updateTable('imports')
      .set({ status: 'pending', error: null, request: JSON.stringify(row.request), updated_at: sql`now()` })
      .where('organization_id', '=', row.organizationId)
      .where('dedup_key', '=', row.dedupKey)
      .where('status', '=', 'failed')
      .returningAll()
      .executeTakeFirst();
    if (retried) return { row: retried, created: false, retried: true };
    const existing = await this.db
      .selectFrom('imports')
      .selectAll()
      .where('organization_id', '=', row.organizationId)
      .where('dedup_key', '=', row.dedupKey)
      .executeTakeFirstOrThrow();
    return { row: existing, created: false, retried: false };
  }

  find(organizationId: string, id: string): Promise<Import | undefined> {
    return this.db.selectFrom('imports').selectAll().where('organization_id', '=', organizationId).where('id', '=', id).executeTakeFirst();
  }

  /** The job picked it up: it is a URL import from now on. */
  async started(id: string): Promise<void> {
    await this.db.updateTable('imports').set({ import_type: 'url', updated_at: sql`now()` }).where('id', '=', id).where('import_type', 'is', null).execute();
  }

  /** The file is on Cloudinary: a retry creates the image from this result instead of uploading again. */
  async stored(id: string, upload: unknown): Promise<void> {
    await this.db.updateTable('imports').set({ upload: JSON.stringify(upload), updated_at: sql`now()` }).where('id', '=', id).execute();
  }

  async done(id: string, imageId: string): Promise<void> {
    await this.db.updateTable('imports').set({ status: 'done', image_id: imageId, error: null, updated_at: sql`now()` }).where('id', '=', id).execute();
  }

  /** `final`: the import failed; otherwise the reason of the last attempt, while it is retried. */
  async failed(id: string, reason: string, final: boolean): Promise<void> {
    await this.db
      .updateTable('imports')
      .set({ error: reason.slice(0, 500), updated_at: sql`now()`, ...(final ? { status: 'failed' as const } : {}) })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }
}
