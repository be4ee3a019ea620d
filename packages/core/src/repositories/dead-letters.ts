import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database, DeadLetter } from '../db/schema.js';
import { jobSubject, type JobName } from '../jobs/port.js';

export interface NewDeadLetter {
  /** The job's name (`notification`, `webhook`, …), not the prefixed queue name. */
  queue: string;
  jobId: string;
  data: unknown;
  reason: string;
  attempts: number;
  retryable: boolean;
  failedAt: Date;
}

function subjectOf(queue: string, data: unknown): string | null {
  try {
    return jobSubject(queue as JobName, data as never);
  } catch {
    return null; // data of another shape: recorded all the same
  }
}

/** Jobs that failed for good, kept in PostgreSQL (Redis may be wiped) until replayed. */
export class DeadLetterRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records failures; one already recorded (same job, same failure time) is left as it is. Resolves to the number recorded. */
  async record(letters: NewDeadLetter[]): Promise<number> {
    if (letters.length === 0) return 0;
    let recorded = 0;
    for (let at = 0; at < letters.length; at += 500) {
      const rows = letters.slice(at, at + 500).map((l) => ({
        id: randomUUID(),
        queue: l.queue,
        job_id: l.jobId,
        subject: subjectOf(l.queue, l.data),
        data: JSON.stringify(l.data ?? null),
        reason: l.reason.slice(0, 2000),
        attempts: l.attempts,
        retryable: l.retryable,
        failed_at: l.failedAt,
      }));
      const result = await this.db
        .insertInto('dead_letters')
        .values(rows)
        .onConflict((oc) => oc.columns(['queue', 'job_id', 'failed_at']).doNothing())
        .executeTakeFirst();
      recorded += Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    return recorded;
  }

  /** Letters not replayed yet, oldest first; `retryable` only unless `all`. */
  waiting(options: { queue?: string; all?: boolean; limit?: number } = {}): Promise<DeadLetter[]> {
    let query = this.db.selectFrom('dead_letters').selectAll().where('replayed_at', 'is', null);
    if (options.queue) query = query.where('queue', '=', options.queue);
    if (!options.all) query = query.where('retryable', '=', true);
    return query.orderBy('created_at').orderBy('id').limit(options.limit ?? 1000).execute();
  }

  async markReplayed(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('dead_letters')
      .set({ replayed_at: sql<Date>`now()`, replays: sql<number>`replays + 1` })
      .where('id', 'in', ids)
      .execute();
  }

  /** Every letter of a job id, newest first (inspection, tests). */
  ofJob(queue: string, jobId: string): Promise<DeadLetter[]> {
    return this.db.selectFrom('dead_letters').selectAll().where('queue', '=', queue).where('job_id', '=', jobId).orderBy('failed_at', 'desc').execute();
  }

  /** How many letters of unrecoverable failures wait (left by a replay without `all`). */
  async unrecoverableWaiting(queue?: string): Promise<number> {
    let query = this.db.selectFrom('dead_letters').select((eb) => eb.fn.countAll<string>().as('n')).where('replayed_at', 'is', null).where('retryable', '=', false);
    if (queue) query = query.where('queue', '=', queue);
    return Number((await query.executeTakeFirstOrThrow()).n);
  }

  /** Letters waiting per queue name (the metrics, `albumkit-worker replay --dry-run`). */
  async counts(): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('dead_letters')
      .select(['queue', (eb) => eb.fn.countAll<string>().as('n')])
      .where('replayed_at', 'is', null)
      .groupBy('queue')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.queue, Number(r.n)]));
  }
}
