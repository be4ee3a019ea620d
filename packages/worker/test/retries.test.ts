import { UnrecoverableJobError } from '@albumkit/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../core/test/support/app.js';
import { BullMqJobs } from '../src/bullmq-jobs.js';
import { startWorker, type RunningWorker } from '../src/worker.js';
import { REDIS_URL, uniquePrefix } from './support/redis.js';

describe('retries on BullMQ', () => {
  let app: TestApp;
  let jobs: BullMqJobs;
  let worker: RunningWorker;
  const attempts = new Map<string, number>();

  beforeAll(async () => {
    const prefix = uniquePrefix();
    app = await createTestApp('postgres', {
      jobs: () => (jobs = new BullMqJobs({ redisUrl: REDIS_URL, prefix, retry: { metadata: { attempts: 4, backoffMs: 20 } } })),
    });
    worker = startWorker({
      albumkit: app.albumkit,
      redisUrl: REDIS_URL,
      prefix,
      logger: { error() {}, warn() {} },
      processors: {
        // Stand-ins for the metadata job, to observe the queue's retry policy.
        async metadata({ imageId }, { attempt }) {
          attempts.set(imageId, attempt);
          if (imageId.startsWith('flaky') && attempt < 3) throw new Error('temporarily unavailable');
          if (imageId.startsWith('broken')) throw new UnrecoverableJobError('cannot ever succeed');
          if (imageId.startsWith('down')) throw new Error('still down');
        },
      },
    });
  });
  afterAll(async () => {
    await worker?.close(5000);
    await app?.close();
  });

  async function settle(id: string): Promise<string> {
    for (let i = 0; i < 200; i++) {
      const job = await jobs.queue('metadata').getJob(`metadata-${id}`);
      const state = await job?.getState();
      if (state === 'completed' || state === 'failed') return state;
      await sleep(25);
    }
    throw new Error(`job of ${id} did not settle`);
  }

  it('retries a failing job with backoff until it succeeds', async () => {
    await jobs.enqueue('metadata', { organizationId: 'o', imageId: 'flaky-1' });
    expect(await settle('flaky-1')).toBe('completed');
    expect(attempts.get('flaky-1')).toBe(3);
  });

  it('does not retry an error that retrying cannot fix, and keeps the failed job', async () => {
    await jobs.enqueue('metadata', { organizationId: 'o', imageId: 'broken-1' });
    expect(await settle('broken-1')).toBe('failed');
    expect(attempts.get('broken-1')).toBe(1);
    const job = await jobs.queue('metadata').getJob('metadata-broken-1');
    expect(job?.failedReason).toBe('cannot ever succeed');
  });

  it('gives up after the bounded number of attempts', async () => {
    await jobs.enqueue('metadata', { organizationId: 'o', imageId: 'down-1' });
    expect(await settle('down-1')).toBe('failed');
    expect(attempts.get('down-1')).toBe(4);
    expect((await jobs.counts()).metadata.failed).toBe(2);
  });
});
