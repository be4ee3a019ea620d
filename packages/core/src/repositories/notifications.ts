import type { Kysely } from 'kysely';
import type { Database, StoredNotification } from '../db/schema.js';
import type { NotificationJob } from '../jobs/port.js';

/** The record of accepted notifications: written before answering Cloudinary, marked done once handled. */
export class NotificationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records a notification; the same upload notified again is the same record. */
  async record(job: NotificationJob, uploadKey: string): Promise<void> {
    await this.db
      .insertInto('notifications')
      .values({
        organization_id: job.organizationId,
        upload_key: uploadKey,
        album_id: job.albumId,
        user_id: job.userId,
        upload: JSON.stringify(job.upload),
      })
      .onConflict((oc) => oc.columns(['organization_id', 'upload_key']).doNothing())
      .execute();
  }

  /** Notifications received before `olderThan` and not handled yet, oldest first. */
  pending(olderThan: Date, limit: number): Promise<StoredNotification[]> {
    return this.db
      .selectFrom('notifications')
      .selectAll()
      .where('done_at', 'is', null)
      .where('received_at', '<', olderThan)
      .orderBy('received_at')
      .limit(limit)
      .execute();
  }
}
