#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { configFromEnv, createAlbumkit, JOB_NAMES, type JobName } from '@albumkit/core';
import { pino } from 'pino';
import { BullMqJobs } from './bullmq-jobs.js';
import { replayDeadLetters } from './dead-letters.js';
import { importOptionsFromEnv } from './processors.js';
import { startWorker } from './worker.js';

/**
 * `albumkit-worker`: a worker process configured from the same environment as the API
 * (DATABASE_URL, REDIS_URL or REDIS_SENTINELS + REDIS_SENTINEL_NAME [+ REDIS_SENTINEL_PASSWORD,
 * REDIS_PASSWORD], ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_PUBLIC_URL), plus
 * ALBUMKIT_QUEUE_PREFIX, ALBUMKIT_WORKER_CONCURRENCY, ALBUMKIT_SHUTDOWN_TIMEOUT_MS,
 * ALBUMKIT_LOCK_DURATION_MS, ALBUMKIT_STALLED_INTERVAL_MS and ALBUMKIT_IMPORT_PRIVATE_HOSTS. Scale out by starting more.
 */
async function main(): Promise<void> {
  const logger = pino({ name: 'albumkit-worker' });
  const { config, redisUrl, redis } = configFromEnv();
  if (!redisUrl && !redis) throw new Error('REDIS_URL (or REDIS_SENTINELS) is required: without Redis, jobs run inside the API process');
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required: a worker process shares PostgreSQL with the API');
  const prefix = process.env.ALBUMKIT_QUEUE_PREFIX || undefined;
  const albumkit = await createAlbumkit({ ...config, logger, jobs: () => new BullMqJobs({ redisUrl, redis, prefix }) });
  const concurrency = Number(process.env.ALBUMKIT_WORKER_CONCURRENCY ?? '') || undefined;
  const worker = startWorker({
    albumkit,
    redisUrl,
    redis,
    prefix,
    logger,
    ...importOptionsFromEnv(),
    ...(concurrency ? { concurrency: { notification: concurrency, metadata: concurrency, webhook: concurrency } } : {}),
    ...(process.env.ALBUMKIT_LOCK_DURATION_MS ? { lockDurationMs: Number(process.env.ALBUMKIT_LOCK_DURATION_MS) } : {}),
    ...(process.env.ALBUMKIT_STALLED_INTERVAL_MS ? { stalledIntervalMs: Number(process.env.ALBUMKIT_STALLED_INTERVAL_MS) } : {}),
  });
  logger.info({ prefix: prefix ?? 'albumkit' }, 'albumkit worker started');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new jobs, finishing running ones');
    await worker.close(Number(process.env.ALBUMKIT_SHUTDOWN_TIMEOUT_MS ?? 30_000));
    await albumkit.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

const REPLAY_USAGE = `usage: albumkit-worker replay [--queue <notification|metadata|webhook|purge|import>] [--all] [--dry-run]
  Enqueues again the jobs that failed for good (dead letters, kept in PostgreSQL), once each.
  --all      also those that failed as unrecoverable (by default only those that ran out of attempts)
  --dry-run  count them, change nothing`;

/** `albumkit-worker replay`: the dead letters, enqueued again (same environment as the worker). */
async function replay(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { queue: { type: 'string' }, all: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) return void console.log(REPLAY_USAGE);
  if (values.queue !== undefined && !JOB_NAMES.includes(values.queue as JobName)) throw new Error(`--queue: "${values.queue}" is not a queue (${JOB_NAMES.join(', ')})`);
  const { config, redisUrl, redis } = configFromEnv();
  if (!redisUrl && !redis) throw new Error('REDIS_URL (or REDIS_SENTINELS) is required');
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required: dead letters are kept in PostgreSQL');
  const prefix = process.env.ALBUMKIT_QUEUE_PREFIX || undefined;
  const albumkit = await createAlbumkit({ ...config, logger: pino({ name: 'albumkit-worker' }), migrate: false, jobs: () => new BullMqJobs({ redisUrl, redis, prefix }) });
  try {
    const report = await replayDeadLetters({
      albumkit,
      redisUrl,
      redis,
      prefix,
      ...(values.queue ? { queue: values.queue as JobName } : {}),
      all: values.all ?? false,
      dryRun: values['dry-run'] ?? false,
    });
    const total = Object.values(report.replayed).reduce((a, b) => a + (b ?? 0), 0);
    const perQueue = Object.entries(report.replayed).map(([name, n]) => `${name} ${n}`).join(', ');
    console.log(
      `${values['dry-run'] ? 'would replay' : 'replayed'} ${total} job${total === 1 ? '' : 's'}${perQueue ? ` (${perQueue})` : ''}` +
        (report.alreadyQueued ? `; ${report.alreadyQueued} already queued again` : '') +
        (report.unrecoverableLeft ? `; ${report.unrecoverableLeft} unrecoverable left (--all replays them)` : ''),
    );
  } finally {
    await albumkit.close();
  }
}

const [command, ...rest] = process.argv.slice(2);
(command === 'replay' ? replay(rest).then(() => process.exit(0)) : command === undefined ? main() : Promise.reject(new Error(`unknown command "${command}" (albumkit-worker, or albumkit-worker replay)`))).catch((error: unknown) => {
  console.error(`albumkit-worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
