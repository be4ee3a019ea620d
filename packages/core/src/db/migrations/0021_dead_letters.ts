import { sql, type Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Db = Kysely<any>;

/**
 * Jobs that ran out of attempts (or failed for good) are kept here, in PostgreSQL, with the
 * reason: Redis need not be persistent, and BullMQ's own failed set is lost with it.
 * `albumkit-worker replay` enqueues them again and stamps `replayed_at`.
 *
 * `events.webhooks_pending`: the outbox of webhook deliveries. An event of an organization with
 * an active webhook subscribed to its type is recorded pending (a trigger decides, in the
 * statement that records it, whichever path inserts it); dispatching clears the flag once its
 * webhook jobs are enqueued, and the worker's sweep enqueues what stayed pending (Redis away, or
 * a process killed between commit and enqueue). Events of organizations without webhooks are
 * never pending: no extra write. Events recorded before this migration are taken as dispatched.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('dead_letters')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull())
    /** What the job is about (an image id, `<organization id>|<upload key>`…): the sweeps leave it to the replay. */
    .addColumn('subject', 'text')
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    /** Whether another attempt may succeed: false for a job that failed as unrecoverable. */
    .addColumn('retryable', 'boolean', (c) => c.notNull())
    .addColumn('failed_at', 'timestamptz(3)', (c) => c.notNull())
    .addColumn('replayed_at', 'timestamptz(3)')
    .addColumn('replays', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz(3)', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One record per failure of a job (its id and when it failed): recording it again is a no-op.
  await db.schema.createIndex('dead_letters_failure').on('dead_letters').columns(['queue', 'job_id', 'failed_at']).unique().execute();
  await sql`create index dead_letters_waiting on dead_letters (created_at) where replayed_at is null`.execute(db);
  await sql`create index dead_letters_waiting_subject on dead_letters (queue, subject) where replayed_at is null`.execute(db);

  await sql`alter table events add column webhooks_pending boolean not null default false`.execute(db);
  await sql`create index events_webhooks_pending on events (created_at) where webhooks_pending`.execute(db);
  await sql`
    CREATE FUNCTION albumkit_event_webhooks_pending() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.webhooks_pending := EXISTS (
        SELECT 1 FROM webhooks w
        WHERE w.organization_id = NEW.organization_id AND w.active
          AND (w.events IS NULL OR w.events::jsonb ? NEW.type));
      RETURN NEW;
    END $$`.execute(db);
  await sql`CREATE TRIGGER events_webhooks_pending BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION albumkit_event_webhooks_pending()`.execute(db);
}

export async function down(db: Db): Promise<void> {
  await sql`drop trigger if exists events_webhooks_pending on events`.execute(db);
  await sql`drop function if exists albumkit_event_webhooks_pending()`.execute(db);
  await sql`drop index if exists events_webhooks_pending`.execute(db);
  await sql`alter table events drop column if exists webhooks_pending`.execute(db);
  await db.schema.dropTable('dead_letters').ifExists().execute();
}
