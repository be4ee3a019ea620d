import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { CloudinaryAdmin } from '../cloudinary/admin.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { PurgeRepository, QueuedAsset } from '../repositories/purge.js';

export interface PurgeRunOptions {
  /** Images trashed at least this many days ago go; default: the configuration's `trashRetentionDays`. 0: the whole trash. */
  olderThanDays?: number;
  /** Only this organization's trash (the outbox of assets is always drained whole). */
  organizationId?: string;
}

export interface PurgeResult {
  /** Image rows deleted. */
  images: number;
  /** Cloudinary assets destroyed (no other image used them). */
  assets: number;
}

export interface PurgeServiceOptions {
  db: Kysely<Database>;
  purge: PurgeRepository;
  cloudinary: Pick<CloudinaryAdmin, 'destroy'>;
  retentionDays: number;
  logger: Logger;
  /** Rows per delete statement, and outbox entries per round. Default 500. */
  batchSize?: number;
  /** Destroy calls in flight at once. Default 8. */
  destroyConcurrency?: number;
  /** Longest wait for the writers of `images` that were running when a round began (ms); then the round waits for the next run. Default 30,000. */
  writersWaitMs?: number;
  /** How long a claimed asset is left to its destroy before another run may take it again (a process that died), in seconds. Default 300. */
  leaseSeconds?: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * The purge of the trash: images trashed longer ago than the retention are deleted by batches,
 * their Cloudinary assets queued in the `asset_destroys` outbox in the same statement; then the
 * outbox is drained: an asset another image still uses (a duplicate, a pasted copy, in any
 * album or organization) is kept, the others are destroyed, each after its rows' deletion has
 * committed and every copy that could have raced it is visible. A destroy that fails stays in
 * the outbox for the next run. Memory stays flat: one batch at a time.
 */
export class PurgeService {
  private readonly batchSize: number;

  constructor(private readonly deps: PurgeServiceOptions) {
    this.batchSize = deps.batchSize ?? 500;
  }

  async run(options: PurgeRunOptions = {}): Promise<PurgeResult> {
    const days = options.olderThanDays ?? this.deps.retentionDays;
    if (!Number.isFinite(days) || days < 0) throw new RangeError('olderThanDays: a number of days, 0 or more, is expected');
    const cutoff = new Date(Date.now() - days * DAY_MS);
    let images = 0;
    for (;;) {
      const deleted = await this.deps.purge.deleteTrashed(cutoff, this.batchSize, options.organizationId);
      images += deleted;
      if (deleted < this.batchSize) break;
    }
    const assets = await this.drainOutbox();
    // Clipboards go with the same retention: a copy not pasted by then is forgotten.
    let clipboards = this.deps.db.deleteFrom('clipboards').where('created_at', '<', cutoff);
    if (options.organizationId) clipboards = clipboards.where('organization_id', '=', options.organizationId);
    await clipboards.execute();
    return { images, assets };
  }

  /** Destroys what the outbox holds (due now: what this run queued and what earlier runs left). */
  private async drainOutbox(): Promise<number> {
    const { purge, logger } = this.deps;
    // The database's clock: a destroy that fails is due again at its `now()`, after this run.
    // Kept as exact text (microseconds): a JS Date would cut it to the millisecond, before the
    // `due_at` of an asset queued in the same millisecond, which would then wait for the next run.
    const { rows } = await sql<{ now: string }>`select to_json(clock_timestamp()) #>> '{}' as now`.execute(this.deps.db);
    const dueBy = rows[0]!.now;
    let destroyed = 0;
    for (;;) {
      const { assets, writers } = await purge.candidates(dueBy, this.batchSize);
      if (assets.length === 0) break;
      if (!(await this.writersFinished(writers))) {
        logger.warn({ writers: writers.length }, 'trash purge: writes to images still running; assets left for the next run');
        break;
      }
      const { destroy, kept } = await purge.claim(assets, this.deps.leaseSeconds ?? 300);
      // Nothing decided: the entries are another run's, or were queued again; the next run sees them.
      if (destroy.length === 0 && kept === 0) break;
      const { done, failures } = await this.destroyAll(destroy);
      await purge.done(done);
      destroyed += done.length;
      if (failures > 0 && done.length === 0) {
        logger.warn({ failures }, 'trash purge: Cloudinary destroys failing; the rest waits for the next run');
        break;
      }
    }
    return destroyed;
  }

  /** Waits until none of these transactions runs any more; false after `writersWaitMs`. */
  private async writersFinished(writers: string[]): Promise<boolean> {
    const deadline = Date.now() + (this.deps.writersWaitMs ?? 30_000);
    for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
      if ((await this.deps.purge.running(writers)) === 0) return true;
      if (Date.now() > deadline) return false;
      await sleep(pause);
    }
  }

  private async destroyAll(assets: QueuedAsset[]): Promise<{ done: QueuedAsset[]; failures: number }> {
    const done: QueuedAsset[] = [];
    let failures = 0;
    let next = 0;
    const work = async () => {
      while (next < assets.length) {
        const asset = assets[next++]!;
        try {
          await this.deps.cloudinary.destroy(asset);
          done.push(asset);
        } catch (error) {
          failures++;
          const reason = error instanceof Error ? error.message : String(error);
          await this.deps.purge.failed(asset, reason);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.destroyConcurrency ?? 8, assets.length) }, work));
    if (failures > 0) this.deps.logger.warn({ failures, of: assets.length }, 'trash purge: destroys failed, kept in the outbox');
    return { done, failures };
  }
}
