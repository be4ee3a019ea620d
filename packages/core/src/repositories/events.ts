import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
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

  find(id: string): Promise<AlbumEvent | undefined> {
    return this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(organizationId: string, albumId?: string): Promise<AlbumEvent[]> {
    let query = this.db.selectFrom('events').selectAll().where('organization_id', '=', organizationId);
    if (albumId !== undefined) query = query.where('album_id', '=', albumId);
    return query.orderBy('created_at').execute();
  }
}
