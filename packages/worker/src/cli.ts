#!/usr/bin/env node
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { pino } from 'pino';
import { BullMqJobs } from './bullmq-jobs.js';
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

main().catch((error: unknown) => {
  console.error(`albumkit-worker: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
