import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { BATCH_FAILURES, Batches } from '../db/batches.js';
import type { AlbumEvent, Database } from '../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The record of every event albumkit emitted (delivery is the worker's concern). */
export class EventRepository {
  constructor(private readonly db: Kysely<Database>) {}

  record(organizationId: string, albumId: string | null, type: string, payload: unknown, db: Db = this.db): Promise<AlbumEvent> {
    return db
      .insertInto('events')
      .values({ id: randomUUID(), organization_id: organizationId, album_id: albumId, type, payload: JSON.stringify(payload) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Several events in one insert (a bulk change), in the order given. */
  async recordMany(organizationId: string, events: Array<{ albumId: string | null; type: string; payload: unknown }>, db: Db = this.db): Promise<AlbumEvent[]> {
    if (events.length === 0) return [];
    const rows = events.map((e) => ({ id: randomUUID(), organization_id: organizationId, album_id: e.albumId, type: e.type, payload: JSON.stringify(e.payload) }));
    const made: AlbumEvent[] = [];
    // 1,000 rows per statement: far below PostgreSQL's 65,535 parameters.
    for (let at = 0; at < rows.length; at += 1000) made.push(...(await db.insertInto('events').values(rows.slice(at, at + 1000)).returningAll().execute()));
    const byId = new Map(made.map((e) => [e.id, e]));
    return rows.map((row) => byId.get(row.id)!);
  }

  /** Events whose webhook jobs may not have been enqueued (the outbox), recorded before `before`, oldest first. */
  pendingWebhooks(before: Date, limit: number): Promise<AlbumEvent[]> {
    return this.db
      .selectFrom('events')
      .select(['id', 'organization_id', 'album_id', 'type', 'payload', 'created_at'])
      .where('webhooks_pending', '=', true)
      .where('created_at', '<', before)
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  /** The event's webhook jobs are enqueued: it leaves the outbox (events cleared meanwhile by others go in the same statement). */
  webhooksEnqueued(id: string): Promise<void> {
    return this.cleared.submit(id);
  }

  private readonly cleared = new Batches<string, void>(
    (ids) => this.clearPending(ids).then(() => ids.map(() => undefined)),
    (id) => this.clearPending([id]),
    { maxBatch: 500, maxInFlight: 2, ...BATCH_FAILURES },
  );

  private async clearPending(ids: readonly string[]): Promise<void> {
    await this.db.updateTable('events').set({ webhooks_pending: false }).where('id', 'in', [...ids]).where('webhooks_pending', '=', true).execute();
  }

  find(id: string): Promise<AlbumEvent | undefined> {
    return this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(organizationId: string, albumId?: string): Promise<AlbumEvent[]> {
    let query = this.db.selectFrom('events').selectAll().where('organization_id', '=', organizationId);
    if (albumId !== undefined) query = query.where('album_id', '=', albumId);
    return query.orderBy('created_at').execute();
  }
}
