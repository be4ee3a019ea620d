// A worker process of test/faults/multi-process.test.ts: what `albumkit-worker` runs (configured
// from the same environment, its logs on stdout), plus settings its environment does not reach:
// the concurrency of the notification and webhook queues (NOTIFICATION_CONCURRENCY,
// WEBHOOK_CONCURRENCY), which the test counts on to know that every slot of every worker is busy,
// and the sweep (SWEEP_AFTER_MS), so that work a killed process left between commit and enqueue
// is picked up in seconds, not 5 minutes.
// Env: DATABASE_URL, REDIS_URL, ALBUMKIT_SECRET, CLOUDINARY_URL, ALBUMKIT_QUEUE_PREFIX,
// ALBUMKIT_WEBHOOK_PRIVATE_HOSTS, ALBUMKIT_LOCK_DURATION_MS, ALBUMKIT_STALLED_INTERVAL_MS.
import { configFromEnv, createAlbumkit } from '@albumkit/core';
import { BullMqJobs, startWorker } from '@albumkit/worker';
import { pino } from 'pino';

const env = process.env;
const logger = pino({ name: 'albumkit-worker' });
const { config, redisUrl } = configFromEnv();
if (!redisUrl || !config.databaseUrl) throw new Error('REDIS_URL and DATABASE_URL are required');
const prefix = env.ALBUMKIT_QUEUE_PREFIX;
const albumkit = await createAlbumkit({ ...config, logger, jobs: () => new BullMqJobs({ redisUrl, prefix, logger }) });
const worker = startWorker({
  albumkit,
  redisUrl,
  prefix,
  logger,
  concurrency: { notification: Number(env.NOTIFICATION_CONCURRENCY), webhook: Number(env.WEBHOOK_CONCURRENCY) },
  lockDurationMs: Number(env.ALBUMKIT_LOCK_DURATION_MS),
  stalledIntervalMs: Number(env.ALBUMKIT_STALLED_INTERVAL_MS),
  sweepAfterMs: Number(env.SWEEP_AFTER_MS),
});
logger.info({ prefix }, 'albumkit worker started');
process.on('SIGTERM', async () => {
  await worker.close(3000);
  await albumkit.close();
  process.exit(0);
});
