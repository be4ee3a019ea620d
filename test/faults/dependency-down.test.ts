import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, createAlbumkit, migrateToLatest, type Albumkit } from '@albumkit/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TEST_CONFIG } from '../../packages/core/test/support/app.js';
import { createTenant, uploadResult } from '../../packages/core/test/support/fixtures.js';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { BullMqJobs } from '../../packages/worker/src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../../packages/worker/src/worker.js';
import { uniquePrefix } from '../../packages/worker/test/support/redis.js';
import { albumImages, EXIF, freePort, notificationPath, notificationRequest, privateRedis, serve, timed, until } from './support.js';

/**
 * A dependency that is down is reported once per outage, with the setting to check, while the
 * connections retry with backoff; readiness says not ready meanwhile; nothing accepted is lost.
 * PostgreSQL and Redis are real; outages are a private redis-server killed and restarted, and a
 * TCP gate in front of the shared PostgreSQL that resets connections or forwards them.
 */

interface Line {
  level: 'error' | 'warn' | 'info';
  object: unknown;
  message: string;
}

/** A logger that keeps what it is given, as pino would print it. */
function capture() {
  const lines: Line[] = [];
  const keep = (level: Line['level']) => (object: unknown, message?: string) => lines.push({ level, object, message: message ?? '' });
  return { lines, logger: { error: keep('error'), warn: keep('warn'), info: keep('info') } };
}

const matching = (lines: Line[], pattern: RegExp) => lines.filter((line) => pattern.test(line.message));
const hasStack = (line: Line) => /\n\s+at /.test(JSON.stringify(line.object, (_k, v) => (v instanceof Error ? { stack: v.stack } : v)));

/** A TCP gate in front of PostgreSQL: `reset` turns every connection down, `forward` passes them through. */
async function postgresGate(target = { host: '127.0.0.1', port: 5432 }) {
  let mode: 'reset' | 'forward' = 'reset';
  let refused = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (mode === 'reset') {
      refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target);
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    refused: () => refused,
    forward() {
      mode = 'forward';
    },
    /** Turns new connections down and cuts the open ones, as a server going away does. */
    reset() {
      mode = 'reset';
      for (const socket of open) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('PostgreSQL down', () => {
  it('names DATABASE_URL when migrations cannot reach the server (no more "migration unknown failed")', async () => {
    const handle = await connectDatabase({ url: `postgres://postgres@127.0.0.1:${await freePort()}/albumkit` });
    try {
      const error = await migrateToLatest(handle.db).then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(/PostgreSQL unreachable \(ECONNREFUSED 127\.0\.0\.1:\d+\): check DATABASE_URL \(the databaseUrl option\)/);
      expect(error?.message).not.toContain('unknown');
    } finally {
      await handle.close();
    }
  });

  it('fails at once, naming DATABASE_URL, when told not to wait', async () => {
    const { lines, logger } = capture();
    const databaseUrl = `postgres://postgres@127.0.0.1:${await freePort()}/albumkit`;
    const error = await createAlbumkit({ ...TEST_CONFIG, databaseUrl, databaseWaitSeconds: 0, logger }).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/PostgreSQL unreachable \(ECONNREFUSED [^)]+\): check DATABASE_URL/);
    expect(lines).toEqual([]);
  });

  it('at start: reports once, waits with backoff, and is ready once it answers; an outage later is one more line', async () => {
    const database = await createTestDatabase();
    const gate = await postgresGate();
    const { lines, logger } = capture();
    let albumkit: Albumkit | undefined;
    try {
      const url = new URL(database.url);
      url.port = String(gate.port);
      const starting = createAlbumkit({ ...TEST_CONFIG, databaseUrl: url.toString(), logger });
      // Several attempts turned down, one line.
      await until(() => gate.refused() >= 4, 30_000, 'four connection attempts');
      const down = matching(lines, /^database unreachable/);
      expect(down).toHaveLength(1);
      expect(down[0]!.level).toBe('error');
      expect(down[0]!.message).toContain('check DATABASE_URL (the databaseUrl option)');
      expect(lines.filter(hasStack)).toEqual([]);

      gate.forward();
      albumkit = await starting;
      expect(matching(lines, /^database reachable again/)).toHaveLength(1);
      expect((await albumkit.health.ready()).status).toBe('ready');

      const organization = await albumkit.setup.createOrganization('Outage');
      const user = await albumkit.setup.createUser(organization.id);
      const token = await albumkit.issueToken(user.id);

      // Down while running: readiness fails (and says what to check), API requests answer 503
      // with Retry-After, and the log has one more line for all of them.
      gate.reset();
      for (let i = 0; i < 3; i++) {
        const report = await albumkit.health.ready();
        expect(report.status).toBe('not_ready');
        expect(report.checks.database!.error).toContain('DATABASE_URL');
      }
      for (let i = 0; i < 5; i++) {
        const response = await albumkit.handle({ method: 'GET', path: `/api/v1/albums/OUTAGE-${i}`, headers: { Authorization: `Bearer ${token}` } });
        expect(response.status).toBe(503);
        expect(response.headers['Retry-After']).toBeDefined();
      }
      expect(matching(lines, /^database unreachable/)).toHaveLength(2);
      expect(lines.filter((line) => /dependency unavailable/.test(line.message))).toEqual([]);

      gate.forward();
      await until(async () => (await albumkit!.health.ready()).status === 'ready', 30_000, 'readiness after PostgreSQL is back');
      expect(matching(lines, /^database reachable again/)).toHaveLength(2);
      expect(lines.filter(hasStack)).toEqual([]);
    } finally {
      await albumkit?.close();
      await gate.close();
      await database.close();
    }
  });
});

describe('Redis down', () => {
  let dir: string | undefined;
  let cleanup: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('at start: the API and the worker say so once, keep retrying, record uploads, and process them once Redis is up', async () => {
    dir = mkdtempSync(join(tmpdir(), 'albumkit-redis-down-'));
    const redis = privateRedis(await freePort(), dir, ['--appendonly', 'no']);
    let redisUp = false;
    cleanup.push(async () => {
      if (redisUp) await redis.kill();
    });
    const database = await createTestDatabase();
    cleanup.push(() => database.close());
    const { lines, logger } = capture();
    const prefix = uniquePrefix();
    let jobs: BullMqJobs | undefined;
    const albumkit = await createAlbumkit({
      ...TEST_CONFIG,
      database,
      logger,
      jobs: () => (jobs = new BullMqJobs({ redisUrl: redis.url, prefix, logger })),
    });
    let closed = false;
    cleanup.push(async () => {
      if (!closed) await albumkit.close();
    });
    let reconnections = 0;
    jobs!.connection.on('reconnecting', () => reconnections++);
    const worker: RunningWorker = startWorker({ albumkit, redisUrl: redis.url, prefix, logger, sweepAfterMs: 500 });
    cleanup.push(async () => {
      if (!closed) await worker.close(1000);
    });
    const http = await serve(albumkit);
    cleanup.push(() => http.close());

    await until(() => reconnections >= 5, 30_000, 'five reconnection attempts');
    const down = matching(lines, /^redis unreachable/);
    expect(down).toHaveLength(1);
    expect(down[0]!.message).toMatch(/^redis unreachable \(ECONNREFUSED 127\.0\.0\.1:\d+\): check REDIS_URL \(the redisUrl option of BullMqJobs \/ startWorker\)/);
    expect(matching(lines, /worker error/)).toEqual([]);

    const report = await albumkit.health.ready();
    expect(report.status).toBe('not_ready');
    expect(report.checks.redis).toMatchObject({ ok: false });
    expect(report.checks.redis!.error).toContain('REDIS_URL');
    expect(report.checks.worker).toMatchObject({ ok: false });
    expect(report.checks.database).toMatchObject({ ok: true });

    // An upload's notification meanwhile: recorded (201), not lost.
    const tenant = await createTenant({ albumkit } as never);
    const path = await notificationPath(albumkit, tenant, 'DOWN');
    const { body, headers } = notificationRequest(uploadResult({ public_id: 'while-redis-down', image_metadata: EXIF }));
    expect((await timed(`${http.base}${path}`, { method: 'POST', headers, body })).status).toBe(201);
    expect(await albumImages(albumkit, tenant.organization.id, 'DOWN')).toHaveLength(0);

    await redis.start();
    redisUp = true;
    await until(async () => (await albumImages(albumkit, tenant.organization.id, 'DOWN')).length === 1, 60_000, 'the image of the recorded upload');
    await until(async () => (await albumkit.health.ready()).status === 'ready', 30_000, 'readiness after Redis is up');
    expect(matching(lines, /^redis reachable again/)).toHaveLength(1);
    expect(matching(lines, /^redis unreachable/)).toHaveLength(1);

    // A second outage: one more line, however many attempts it takes.
    await redis.kill();
    redisUp = false;
    const before = reconnections;
    await until(() => reconnections >= before + 4, 30_000, 'four more reconnection attempts');
    expect(matching(lines, /^redis unreachable/)).toHaveLength(2);
    expect(matching(lines, /worker error/)).toEqual([]);
    expect(lines.filter((line) => line.message !== 'notification recorded, not enqueued').filter(hasStack)).toEqual([]);

    // Stopping during the outage finishes (a SIGTERM'd worker exits instead of waiting for Redis).
    closed = true;
    await worker.close(1000);
    await albumkit.close();
  });
});
