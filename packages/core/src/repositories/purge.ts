import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/** An asset of the outbox (`asset_destroys`, migration 0010), as a purge run reads it. */
export interface QueuedAsset {
  publicId: string;
  type: string;
  /** Exact (microseconds) text of when it was last queued: a claim holds only if nobody queued it again since. */
  queuedAt: string;
}

export interface PurgeCandidates {
  assets: QueuedAsset[];
  /** Virtual transaction ids of the transactions writing `images` when the candidates were read. */
  writers: string[];
}

/**
 * What the purge needs of the database: deleting trashed rows by batches while queueing their
 * assets, and the outbox of assets to destroy. SQL text: each step is one statement.
 */
export class PurgeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Deletes up to `limit` images trashed at or before `cutoff` (their tags and annotation go
   * with them) and queues their assets, in one statement. A row restored meanwhile is not
   * deleted (the delete re-checks `deleted_at` on the row it locks); rows another purge holds are
   * skipped. Every asset is queued, used elsewhere or not: whether it may be destroyed is decided
   * later, once this statement is committed (see `claim`). Returns how many rows went.
   */
  async deleteTrashed(cutoff: Date, limit: number, organizationId?: string): Promise<number> {
    const { rows } = await sql<{ images: number }>`
      with doomed as (
        select id from images
        where deleted_at is not null and deleted_at <= ${cutoff}::timestamptz
          and (${organizationId ?? null}::uuid is null or organization_id = ${organizationId ?? null}::uuid)
        order by deleted_at
        limit ${limit}
        for update skip locked
      ), removed as (
        delete from images i using doomed
        where i.id = doomed.id and i.deleted_at is not null and i.deleted_at <= ${cutoff}::timestamptz
        returning i.organization_id, i.cloudinary_public_id, i.cloudinary_type
      ), queued as (
        insert into asset_destroys (public_id, type, organization_id, queued_at, due_at)
        select distinct on (cloudinary_public_id, cloudinary_type) cloudinary_public_id, cloudinary_type, organization_id, clock_timestamp(), now()
        from removed
        order by cloudinary_public_id, cloudinary_type
        on conflict (public_id, type) do update set queued_at = excluded.queued_at, due_at = least(asset_destroys.due_at, excluded.due_at)
      )
      select count(*)::int as images from removed`.execute(this.db);
    return rows[0]?.images ?? 0;
  }

  /**
   * Outbox entries due at `dueBy` (a timestamptz as exact text), and the transactions writing `images` right after they were
   * read. Any statement that copied an image of one of these assets from a snapshot where that
   * image was still there (a duplicate or a paste racing the purge) is among those writers until
   * it commits: once they have all finished, a look at `images` sees every copy.
   */
  async candidates(dueBy: string, limit: number): Promise<PurgeCandidates> {
    const { rows } = await sql<{ assets: Array<{ public_id: string; type: string; queued_at: string }> | null; writers: string[] | null }>`
      select
        (select json_agg(c) from (
          select public_id, type, queued_at from asset_destroys where due_at <= ${dueBy}::timestamptz order by due_at limit ${limit}
        ) c) as assets,
        array(
          select distinct virtualtransaction from pg_locks
          where locktype = 'relation' and relation = 'images'::regclass and mode = 'RowExclusiveLock' and granted and pid <> pg_backend_pid()
        ) as writers`.execute(this.db);
    const row = rows[0];
    return {
      assets: (row?.assets ?? []).map((a) => ({ publicId: a.public_id, type: a.type, queuedAt: a.queued_at })),
      writers: row?.writers ?? [],
    };
  }

  /** How many of these transactions are still running. */
  async running(writers: string[]): Promise<number> {
    if (writers.length === 0) return 0;
    const { rows } = await sql<{ n: number }>`
      select count(distinct virtualtransaction)::int as n from pg_locks where virtualtransaction = any(${writers}::text[])`.execute(this.db);
    return rows[0]?.n ?? 0;
  }

  /**
   * Decides the candidates, in one transaction: each entry still as it was read is locked; an
   * asset some image still uses (live or trashed, in any organization) leaves the outbox (whoever
   * deletes its last image queues it again); the others are leased for `leaseSeconds` and
   * returned, to be destroyed. An entry queued again since it was read waits for the next round.
   */
  async claim(candidates: QueuedAsset[], leaseSeconds: number): Promise<{ destroy: QueuedAsset[]; kept: number }> {
    if (candidates.length === 0) return { destroy: [], kept: 0 };
    const ids = candidates.map((c) => c.publicId);
    const types = candidates.map((c) => c.type);
    const queued = candidates.map((c) => c.queuedAt);
    return this.db.transaction().execute(async (trx) => {
      // Locked first, then looked at in a later statement: its snapshot sees every purge that
      // committed before the lock (one still running waits on the lock to queue again).
      const { rows: locked } = await sql<{ public_id: string; type: string; queued_at: string }>`
        select d.public_id, d.type, to_json(d.queued_at) #>> '{}' as queued_at from asset_destroys d
        join unnest(${ids}::text[], ${types}::text[], ${queued}::timestamptz[]) as c (public_id, type, queued_at)
          on d.public_id = c.public_id and d.type = c.type and d.queued_at = c.queued_at
        order by d.public_id, d.type
        for update of d skip locked`.execute(trx);
      if (locked.length === 0) return { destroy: [], kept: 0 };
      const { rows: kept } = await sql<{ public_id: string; type: string }>`
        delete from asset_destroys d
        using unnest(${locked.map((l) => l.public_id)}::text[], ${locked.map((l) => l.type)}::text[]) as c (public_id, type)
        where d.public_id = c.public_id and d.type = c.type
          and exists (select 1 from images i where i.cloudinary_public_id = d.public_id and i.cloudinary_type = d.type)
        returning d.public_id, d.type`.execute(trx);
      const key = (a: { public_id: string; type: string }) => `${a.type}/${a.public_id}`;
      const keptKeys = new Set(kept.map(key));
      const destroy = locked.filter((l) => !keptKeys.has(key(l)));
      if (destroy.length > 0) {
        await sql`
          update asset_destroys d set due_at = now() + make_interval(secs => ${leaseSeconds}), attempts = attempts + 1
          from unnest(${destroy.map((l) => l.public_id)}::text[], ${destroy.map((l) => l.type)}::text[]) as c (public_id, type)
          where d.public_id = c.public_id and d.type = c.type`.execute(trx);
      }
      return { destroy: destroy.map((l) => ({ publicId: l.public_id, type: l.type, queuedAt: l.queued_at })), kept: kept.length };
    });
  }

  /** Removes destroyed assets from the outbox (unless queued again meanwhile). */
  async done(assets: QueuedAsset[]): Promise<void> {
    if (assets.length === 0) return;
    await sql`
      delete from asset_destroys d
      using unnest(${assets.map((a) => a.publicId)}::text[], ${assets.map((a) => a.type)}::text[], ${assets.map((a) => a.queuedAt)}::timestamptz[]) as c (public_id, type, queued_at)
      where d.public_id = c.public_id and d.type = c.type and d.queued_at = c.queued_at`.execute(this.db);
  }

  /** A destroy that failed: due again at once, for the next run, with its reason. */
  async failed(asset: QueuedAsset, reason: string): Promise<void> {
    await sql`
      update asset_destroys set due_at = now(), last_error = ${reason.slice(0, 1000)}
      where public_id = ${asset.publicId} and type = ${asset.type}`.execute(this.db);
  }

  /** Entries waiting in the outbox (operations, tests). */
  async pending(): Promise<Array<{ publicId: string; type: string; attempts: number; lastError: string | null }>> {
    const { rows } = await sql<{ public_id: string; type: string; attempts: number; last_error: string | null }>`
      select public_id, type, attempts, last_error from asset_destroys order by queued_at`.execute(this.db);
    return rows.map((r) => ({ publicId: r.public_id, type: r.type, attempts: r.attempts, lastError: r.last_error }));
  }
}
