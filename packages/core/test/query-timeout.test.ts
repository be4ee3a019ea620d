import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbumkit } from '../src/albumkit.js';
import { connectDatabase, withoutQueryTimeout } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { authorization, TEST_CONFIG } from './support/app.js';
import { access, createTenant } from './support/fixtures.js';
import { createTestDatabase } from './support/postgres.js';

/**
 * The statement time limit (`queryTimeoutMs` of connectDatabase, `databaseQueryTimeoutMs` of the
 * configuration): a statement PostgreSQL does not answer in time fails, and its connection is
 * dropped, so that a silent connection (a half-open one behind a network partition, see
 * test/faults/partition.test.ts) holds neither the request nor a pool connection. Here the
 * server is merely slow (pg_sleep, a lock wait), which looks the same from the client.
 */
describe('statement time limit (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database?.close());

  it('fails a statement that gets no answer with ETIMEDOUT, and drops its connection instead of handing it out again', async () => {
    const handle = await connectDatabase({ url: database.url, poolSize: 1, queryTimeoutMs: 300 });
    try {
      const pid = async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(handle.db)).rows[0]!.pid;
      const before = await pid();
      // Without the limit this waits a minute, past the test's timeout.
      const error = await sql`select pg_sleep(60)`.execute(handle.db).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(error?.code).toBe('ETIMEDOUT');
      expect(error?.message).toContain('databaseQueryTimeoutMs');
      // One connection in the pool: the next statement runs on a new one (the old one still has
      // the sleep in flight, and anything sent on it would wait behind it).
      const after = await pid();
      expect(after).not.toBe(before);
    } finally {
      await handle.close();
    }
  });

  it('does not limit migrations, nor what runs inside withoutQueryTimeout', async () => {
    const handle = await connectDatabase({ url: database.url, poolSize: 1, queryTimeoutMs: 200 });
    try {
      await expect(withoutQueryTimeout(() => sql`select pg_sleep(1)`.execute(handle.db))).resolves.toBeDefined();
      // Outside it, the same statement is limited.
      await expect(sql`select pg_sleep(1)`.execute(handle.db)).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      // A migration waits for another process's migration lock (here held for a second) and is not cut.
      const other = new pg.Client({ connectionString: database.url });
      await other.connect();
      try {
        await other.query('select pg_advisory_lock(3853314791062309107)'); // Kysely's migration lock
        const migrated = migrateToLatest(handle.db);
        setTimeout(() => void other.query('select pg_advisory_unlock(3853314791062309107)'), 1000);
        await expect(migrated).resolves.toEqual({ applied: [] });
      } finally {
        await other.end();
      }
    } finally {
      await handle.close();
    }
  });

  it('answers 503 with Retry-After past databaseQueryTimeoutMs, and 200 again once the database answers', async () => {
    const albumkit = await createAlbumkit({ ...TEST_CONFIG, logger: { error() {}, warn() {} }, databaseUrl: database.url, databaseQueryTimeoutMs: 300, migrate: false });
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      const tenant = await createTenant({ albumkit } as never);
      const token = await tenant.userToken({ SLOW: access('image_list', 'image_upload') });
      const get = () => albumkit.handle({ method: 'GET', path: '/api/v1/albums/SLOW', headers: authorization(token) });
      expect((await get()).status).toBe(200);
      // Another session holds the albums table: reading the album waits, with no answer.
      await locker.query('begin');
      await locker.query('lock table albums in access exclusive mode');
      const waiting = await get();
      expect(waiting.status, waiting.body).toBe(503);
      expect(JSON.parse(waiting.body)).toMatchObject({ error: 'service_unavailable' });
      expect(waiting.headers['Retry-After']).toBeDefined();
      await locker.query('commit');
      expect((await get()).status).toBe(200);
    } finally {
      await locker.end();
      await albumkit.close();
    }
  });
});
