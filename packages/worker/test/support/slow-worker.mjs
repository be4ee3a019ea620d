// A worker process for the SIGKILL test: the real processors, with a pause at the start of each
// job so that the test can kill the process while jobs are running.
import { createAlbumkit } from '@albumkit/core';
import { BullMqJobs, startWorker } from '@albumkit/worker';
import { setTimeout as sleep } from 'node:timers/promises';

const env = process.env;
const config = JSON.parse(env.ALBUMKIT_TEST_CONFIG);
const albumkit = await createAlbumkit({
  ...config,
  databaseUrl: env.DATABASE_URL,
  migrate: false,
  logger: { error() {}, warn() {} },
  jobs: () => new BullMqJobs({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX }),
});
let real;
const worker = startWorker({
  albumkit,
  redisUrl: env.REDIS_URL,
  prefix: env.QUEUE_PREFIX,
  lockDurationMs: 2000,
  stalledIntervalMs: 1000,
  logger: { error() {}, warn() {} },
  processors: {
    async notification(data, context) {
      console.log(`started ${data.upload.public_id}`);
      await sleep(Number(env.PAUSE_MS));
      return real.notification(data, context);
    },
    async metadata(data, context) {
      console.log(`started ${data.imageId}`);
      await sleep(Number(env.PAUSE_MS));
      return real.metadata(data, context);
    },
  },
});
const { createProcessors } = await import('@albumkit/worker');
real = createProcessors(albumkit);
console.log('ready');
process.on('SIGTERM', async () => {
  await worker.close(5000);
  await albumkit.close();
  process.exit(0);
});
