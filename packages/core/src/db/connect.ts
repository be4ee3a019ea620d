import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { PoolClient } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { backoffDelay, DATABASE_HINT, describeFailure, isConnectionError } from '../ops/dependencies.js';
import type { Health } from '../ops/health.js';
import { listenPostgres, type ChannelListener, type Unlisten } from './listen.js';
import type { Database } from './schema.js';

export type DialectName = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  close(): Promise<void>;
  /**
   * Subscribes to a NOTIFY channel (caches use it to hear of changes made by other processes).
   * Absent on a handle that cannot listen: what depends on it then stays off.
   */
  listen?(channel: string, listener: ChannelListener): Promise<Unlisten>;
}

export interface ConnectOptions {
  /** PostgreSQL connection string (`pg`). Absent: embedded PGlite. */
  url?: string;
  /** PGlite data folder; absent: in memory. */
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
  /**
   * Run the hot statements as named prepared statements (default true). Turn off behind a
   * connection pooler in transaction mode that does not keep prepared statements per client
   * (PgBouncer before 1.21, or with `max_prepared_statements = 0`).
   */
  preparedStatements?: boolean;
  /**
   * Longest wait for PostgreSQL's answer to one statement, in milliseconds (default 10,000;
   * 0: no limit). Past it the statement fails with ETIMEDOUT (a request answers 503 with
   * Retry-After, a job is retried) and its connection is dropped. It bounds what no socket error
   * reports: a half-open connection (a network partition, a dead host, a NAT or balancer that
   * forgot the connection) where nothing comes back. The statement may still run on the server
   * until it ends. Migrations (`migrateToLatest`) are not limited.
   */
  queryTimeoutMs?: number;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

const unlimited = new AsyncLocalStorage<true>();

/** Runs `work` with no statement time limit (`queryTimeoutMs`): migrations, which may build indexes for minutes or wait for another process's migration lock. */
export function withoutQueryTimeout<T>(work: () => Promise<T>): Promise<T> {
  return unlimited.run(true, work);
}

/**
 * Each statement of the client must be answered within `timeoutMs`, else its socket is destroyed:
 * the statement (and any queued behind it) rejects with ETIMEDOUT, the client stops being
 * queryable, and the pool drops it on release instead of handing a silent connection out again.
 */
function limitStatementTime(client: PoolClient, timeoutMs: number): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const result = query(...args);
    if (typeof (result as Promise<unknown> | undefined)?.then !== 'function' || unlimited.getStore()) return result;
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`PostgreSQL did not answer within ${timeoutMs} ms (the databaseQueryTimeoutMs option): connection dropped`), { code: 'ETIMEDOUT' });
      (client as unknown as { connection?: { stream?: { destroy(error: Error): void } } }).connection?.stream?.destroy(error);
    }, timeoutMs);
    return (result as Promise<unknown>).finally(() => clearTimeout(timer));
  };
}

/** `/* prepare *\/` at the start of a statement: its text never varies, only its parameters. */
export const PREPARE_MARK = '/* prepare */';

/**
 * Statements marked with `PREPARE_MARK` run as named prepared statements on each connection:
 * PostgreSQL parses and plans them once per connection instead of on every call (for the
 * many-table insert of an upload, planning took as long as running it). Only marked statements,
 * so that statements whose text varies (lists of ids) do not pile up on the server.
 */
function prepareMarkedStatements(client: PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const names = new Map<string, string>();
  let generation = 0;
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (!name) names.set(text, (name = `albumkit_${createHash('sha1').update(text).digest('hex').slice(0, 16)}_${generation}`));
    return name;
  };
  (client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    if (typeof text === 'string' && text.startsWith(PREPARE_MARK) && Array.isArray(values) && callback === undefined) {
      return query({ name: nameOf(text), text, values }).catch((error: unknown) => {
        // 0A000 "cached plan must not change result type": the table changed under the prepared
        // statement (a migration by a newer process). Prepare it afresh, under a new name, once.
        if ((error as { code?: string }).code !== '0A000') throw error;
        generation++;
        names.clear();
        return query({ name: nameOf(text), text, values });
      });
    }
    return callback === undefined ? query(text, values) : query(text, values, callback);
  };
}

/**
 * One factory, two dialects with the same migrations: PostgreSQL through `pg` when a connection
 * string is given, PGlite (real Postgres compiled to WebAssembly) when none is.
 */
export async function connectDatabase(options: ConnectOptions = {}): Promise<DatabaseHandle> {
  if (options.url) {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      // Fail fast (then 503) instead of queueing requests forever while the server is down.
      connectionTimeoutMillis: 5000,
    });
    // A client losing its server must not crash the host process: idle clients report through
    // the pool, checked-out ones through their own 'error' event (their query still rejects,
    // so the request answers 503 and the job retries); the pool drops them on release.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      client.on('error', () => {});
      if (options.preparedStatements !== false) prepareMarkedStatements(client);
      const timeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
      if (timeoutMs > 0) limitStatementTime(client, timeoutMs);
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const url = options.url;
    return {
      db,
      dialect: 'postgres',
      close: () => db.destroy(),
      listen: (channel, listener) => listenPostgres(pg.Client, url, channel, listener),
    };
  }
  const [{ PGlite }, { PGliteDialect }, { pg_trgm }, { btree_gin }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('kysely-pglite-dialect'),
    // The search indexes' extensions (migrations 0013 and 0015): PGlite loads an extension only if given here.
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite/contrib/btree_gin'),
  ]);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const pglite = new PGlite({ ...(options.dataDir && { dataDir: options.dataDir }), extensions: { pg_trgm, btree_gin } });
  await pglite.waitReady;
  const db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    dialect: 'pglite',
    close: () => db.destroy(),
    // One process owns a PGlite database, so its notifications cannot be missed: ready at once, never lost.
    async listen(channel, listener) {
      const unlisten = await pglite.listen(channel, (payload) => listener.notify(payload));
      listener.ready();
      return unlisten;
    },
  };
}

export interface WaitOptions {
  /** Where an outage is reported (once) and its end. */
  health?: Health;
  /** Give up after this many seconds; absent: wait without end. */
  waitSeconds?: number;
}

/**
 * Waits until PostgreSQL answers: a server that refuses connections (not started yet, restarting)
 * is reported once and retried with backoff; what retrying cannot fix (authentication, a missing
 * database) fails at once, naming `DATABASE_URL`. PGlite is always there.
 */
export async function waitForDatabase(database: DatabaseHandle, options: WaitOptions = {}): Promise<void> {
  if (database.dialect !== 'postgres') return;
  const deadline = options.waitSeconds === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.waitSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`select 1`.execute(database.db);
      options.health?.reportUp('database');
      return;
    } catch (error) {
      if (!isConnectionError(error)) throw connectionRefusal(error);
      if (Date.now() >= deadline) {
        throw new Error(`PostgreSQL unreachable (${describeFailure(error)}): ${DATABASE_HINT}`, { cause: error });
      }
      options.health?.reportDown('database', error, DATABASE_HINT);
      await sleep(Math.min(backoffDelay(attempt, 250, 10_000), Math.max(0, deadline - Date.now())));
    }
  }
}

/** A connection PostgreSQL turned down for good (password, unknown database or role): the message names the setting. */
export function connectionRefusal(error: unknown): Error {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^(28|3D)/.test(code)) {
    return new Error(`PostgreSQL refused the connection: ${describeFailure(error)} (${code}): check DATABASE_URL (the databaseUrl option)`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
