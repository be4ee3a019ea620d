import { randomBytes, randomInt } from 'node:crypto';
import pg from 'pg';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';

/**
 * Real PostgreSQL for tests, Immich style: migrations run once into a template database, and
 * each test file gets its own `CREATE DATABASE … TEMPLATE` copy: fast and isolated.
 *
 * Two test runs may share one PostgreSQL, so every database a run creates carries the run's
 * name: `albumkit_r<key>t<unix seconds>_…`. The run (global setup) holds the session-level
 * advisory lock `(RUN_LOCK_CLASS, key)` on the admin database for as long as it lives; a run
 * whose lock nobody holds any more is gone (crashed, killed), and its databases are dropped by
 * the next run's setup. Never the databases of a run that is still alive.
 */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The environment variable through which global setup hands the run's name to test workers (forks inherit it). */
export const RUN_ENV = 'ALBUMKIT_TEST_RUN';
/** First key of the advisory locks that mark live runs ("ALBU"). */
const RUN_LOCK_CLASS = 0x414c4255;
const RUN_NAME = /^albumkit_r([0-9a-f]{8})t(\d+)(?:_|$)/;

/** Names of databases made by the suite before runs were named (a fixed template, random test copies, the CLI, example and packed hosts). */
const LEGACY_NAMES = [/^albumkit_test_template$/, /^albumkit_test_[0-9a-f]{12}$/, /^albumkit_cli_\d+$/, /^albumkit_(hosts|packed)_[0-9a-f]{12}$/];
/** A legacy database (no run in its name) is dropped only when nothing is connected to it and it is older than this. */
const LEGACY_MIN_AGE_HOURS = 6;

/** This run's name (`albumkit_r<key>t<seconds>`), set by global setup. */
export function runName(): string {
  const run = process.env[RUN_ENV];
  if (!run || !RUN_NAME.test(run)) {
    throw new Error(`${RUN_ENV} is not set: PostgreSQL test databases need the global setup (packages/core/test/support/global-setup.ts, see vitest.config.ts)`);
  }
  return run;
}

/** The run's template database. */
export function templateName(): string {
  return `${runName()}_template`;
}

/**
 * A database name of this run's own (`albumkit_r…_<label>_<random>`): unique among concurrent
 * runs, and dropped by a later run's setup if this run dies without dropping it.
 */
export function runDatabaseName(label = 'db'): string {
  if (!/^[a-z0-9_]{1,16}$/.test(label)) throw new Error(`database label ${label}: lowercase letters, digits and _ (at most 16)`);
  return `${runName()}_${label}_${randomBytes(6).toString('hex')}`;
}

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface TestRun {
  name: string;
  /** Which runs are alive now (by name): asked afresh on each call. */
  liveRuns(): Promise<{ has(run: string): boolean }>;
  /** Drops the run's databases and ends its lock (global teardown). */
  end(): Promise<void>;
}

/**
 * Starts a run (once, in global setup): takes the run's lock, drops what dead runs left behind,
 * builds the run's template with the current migrations, and sets `ALBUMKIT_TEST_RUN` for the
 * test workers.
 */
export async function startRun(): Promise<TestRun> {
  const lock = new pg.Client({ connectionString: ADMIN_URL, application_name: 'albumkit test run' });
  lock.on('error', () => {}); // a lost lock connection only makes this run look dead to later runs
  await lock.connect();
  let key: number;
  for (;;) {
    key = randomInt(1, 2 ** 31);
    const { rows } = await lock.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [RUN_LOCK_CLASS, key]);
    if (rows[0]!.locked) break;
  }
  const name = `albumkit_r${key.toString(16).padStart(8, '0')}t${Math.floor(Date.now() / 1000)}`;
  process.env[RUN_ENV] = name;
  try {
    await dropLeftovers(lock);
    await lock.query(`CREATE DATABASE ${quote(templateName())}`);
    const handle = await connectDatabase({ url: databaseUrl(templateName()), poolSize: 1 });
    try {
      await migrateToLatest(handle.db);
    } finally {
      await handle.close();
    }
  } catch (error) {
    await dropRunDatabases(lock, name).catch(() => {});
    await lock.end().catch(() => {});
    throw error;
  }
  return {
    name,
    async liveRuns() {
      const live = await liveRunKeys(lock);
      return { has: (run: string) => isLive(live, run) };
    },
    async end() {
      try {
        await dropRunDatabases(lock, name);
      } finally {
        await lock.end().catch(() => {});
      }
    },
  };
}

/** The keys of the runs alive now: those whose lock a session holds. */
async function liveRunKeys(client: pg.Client): Promise<Set<number>> {
  const { rows } = await client.query<{ key: string }>(
    `SELECT objid::int8 AS key FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND classid = $1::int8::oid
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [RUN_LOCK_CLASS],
  );
  return new Set(rows.map((r) => Number(r.key)));
}

/** Whether a run of this name (or a name starting with it) is alive, by the keys of the live runs. */
function isLive(live: Set<number>, name: string): boolean {
  const run = RUN_NAME.exec(name);
  return run !== null && live.has(parseInt(run[1]!, 16));
}

async function dropRunDatabases(client: pg.Client, run: string): Promise<void> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [`${run}_`]);
  // The template last: a copy still being made from it would fail to drop it.
  rows.sort((a, b) => Number(a.datname.endsWith('_template')) - Number(b.datname.endsWith('_template')));
  for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quote(datname)} WITH (FORCE)`);
}

/**
 * Drops the databases of runs that are gone (no session holds their lock), and legacy test
 * databases that nobody is connected to and that are older than `LEGACY_MIN_AGE_HOURS`.
 */
async function dropLeftovers(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'albumkit\\_%' AND NOT datistemplate`);
  const live = await liveRunKeys(client);
  for (const { datname } of rows) {
    if (RUN_NAME.test(datname)) {
      if (isLive(live, datname)) continue;
    } else {
      if (!LEGACY_NAMES.some((re) => re.test(datname))) continue;
      if (!(await legacyIsStale(client, datname))) continue;
    }
    // Another run's setup may be dropping the same database at the same time.
    await client.query(`DROP DATABASE IF EXISTS ${quote(datname)} WITH (FORCE)`).catch(() => {});
  }
}

/** Nothing connected, and created (its PG_VERSION file written) more than LEGACY_MIN_AGE_HOURS ago. Unknown age: kept. */
async function legacyIsStale(client: pg.Client, datname: string): Promise<boolean> {
  const { rows: sessions } = await client.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1 LIMIT 1', [datname]);
  if (sessions.length > 0) return false;
  try {
    const { rows } = await client.query<{ stale: boolean }>(
      `SELECT (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - make_interval(hours => $2) AS stale
         FROM pg_database WHERE datname = $1`,
      [datname, LEGACY_MIN_AGE_HOURS],
    );
    return rows[0]?.stale === true;
  } catch {
    return false; // not allowed to read the data directory: cannot tell its age
  }
}

/** A fresh, migrated database of this test file's own; dropped on close. */
export async function createTestDatabase(): Promise<DatabaseHandle & { url: string }> {
  const name = runDatabaseName('test');
  await admin((client) => client.query(`CREATE DATABASE ${quote(name)} TEMPLATE ${quote(templateName())}`));
  const url = databaseUrl(name);
  const handle = await connectDatabase({ url });
  return {
    ...handle,
    url,
    async close() {
      await handle.close();
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${quote(name)} WITH (FORCE)`));
    },
  };
}
