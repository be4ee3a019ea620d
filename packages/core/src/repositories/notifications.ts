import { sql, type Insertable, type Kysely } from 'kysely';
import { BATCH_FAILURES, Batches } from '../db/batches.js';
import type { Database, NotificationTable, StoredNotification } from '../db/schema.js';
import type { NotificationJob } from '../jobs/port.js';

type NewNotification = Insertable<NotificationTable>;

/** The record of accepted notifications: written before answering Cloudinary, marked done once handled. */
export class NotificationRepository {
  /** Notifications arriving while others are being recorded are recorded together (see `Batches`). */
  private readonly records = new Batches<NewNotification, void>(
    (rows) => this.insertMany(rows).then(() => rows.map(() => undefined)),
    (row) => this.insertMany([row]),
    { maxBatch: 100, maxInFlight: 4, ...BATCH_FAILURES },
  );

  constructor(private readonly db: Kysely<Database>) {}

  /** Records a notification; the same upload notified again is the same record. */
  record(job: NotificationJob, uploadKey: string): Promise<void> {
    return this.records.submit({
      organization_id: job.organizationId,
      upload_key: uploadKey,
      album_id: job.albumId,
      user_id: job.userId,
      upload: JSON.stringify(job.upload),
    });
  }

  private async insertMany(rows: NewNotification[]): Promise<void> {
    await this.db
      .insertInto('notifications')
      .values(rows)
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
      // A notification job that failed for good waits for `albumkit-worker replay`.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('dead_letters as d')
              .select(sql.lit(1).as('one'))
              .where('d.queue', '=', 'notification')
              .where('d.subject', '=', sql<string>`notifications.organization_id::text || '|' || notifications.upload_key`)
              .where('d.replayed_at', 'is', null),
          ),
        ),
      )
      .orderBy('received_at')
      .limit(limit)
      .execute();
  }
}
