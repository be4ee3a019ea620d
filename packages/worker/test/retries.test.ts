import { UnrecoverableJobError } from '@albumkit/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../core/test/support/app.js';
import { BullMqJobs } from '../src/bullmq-jobs.js';
import { recordFailedJobs, replayDeadLetters } from '../src/dead-letters.js';
import { startWorker, type RunningWorker } from '../src/worker.js';
import { until } from './support/notifications.js';
import { REDIS_URL, uniquePrefix } from './support/redis.js';

describe('retries on BullMQ', () => {
  let app: TestApp;
  let jobs: BullMqJobs;
  let worker: RunningWorker;
  const attempts = new Map<string, number>();

  const prefix = uniquePrefix();

  beforeAll(async () => {
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

  it('keeps each job that failed for good as a dead letter in PostgreSQL, with its reason', async () => {
    const letters = app.albumkit.repositories.deadLetters;
    await until(async () => (await letters.ofJob('metadata', 'metadata-down-1')).length === 1 && (await letters.ofJob('metadata', 'metadata-broken-1')).length === 1);
    const [down] = await letters.ofJob('metadata', 'metadata-down-1');
    expect(down).toMatchObject({ subject: 'down-1', reason: 'still down', attempts: 4, retryable: true, replayed_at: null, data: { organizationId: 'o', imageId: 'down-1' } });
    const [broken] = await letters.ofJob('metadata', 'metadata-broken-1');
    expect(broken).toMatchObject({ reason: 'cannot ever succeed', attempts: 1, retryable: false });
    // `replay` takes the exhausted one; the unrecoverable one only when asked for all.
    expect((await letters.waiting({ queue: 'metadata' })).map((l) => l.job_id)).toEqual(['metadata-down-1']);
    expect((await letters.waiting({ queue: 'metadata', all: true })).map((l) => l.job_id).sort()).toEqual(['metadata-broken-1', 'metadata-down-1']);
  });

  it('records, from BullMQ\'s failed set, a failure whose dead letter could not be written (PostgreSQL away then), once', async () => {
    await app.albumkit.database.db.deleteFrom('dead_letters').execute();
    const first = await recordFailedJobs(app.albumkit, jobs.connection, prefix, 0);
    expect(first.recorded).toBe(2);
    const [down] = await app.albumkit.repositories.deadLetters.ofJob('metadata', 'metadata-down-1');
    expect(down).toMatchObject({ reason: 'still down', attempts: 4, retryable: true });
    const [broken] = await app.albumkit.repositories.deadLetters.ofJob('metadata', 'metadata-broken-1');
    expect(broken).toMatchObject({ retryable: false });
    // The same failures again: already recorded.
    expect((await recordFailedJobs(app.albumkit, jobs.connection, prefix, 0)).recorded).toBe(0);
  });

  it('replays a dead letter once: the job runs again under its own id, and a second replay finds nothing', async () => {
    const report = await replayDeadLetters({ albumkit: app.albumkit, connection: jobs.connection, prefix, queue: 'metadata', retry: { metadata: { attempts: 1, backoffMs: 10 } } });
    expect(report).toEqual({ replayed: { metadata: 1 }, alreadyQueued: 0, unrecoverableLeft: 1 });
    expect(await settle('down-1')).toBe('failed'); // still down: it ran once more (attempt 1 of 1) and failed again
    expect(attempts.get('down-1')).toBe(1);
    // The replayed letter is stamped; the new failure is a letter of its own, waiting.
    await until(async () => (await app.albumkit.repositories.deadLetters.ofJob('metadata', 'metadata-down-1')).length === 2);
    const [latest, replayed] = await app.albumkit.repositories.deadLetters.ofJob('metadata', 'metadata-down-1');
    expect(replayed).toMatchObject({ replays: 1, attempts: 4 });
    expect(replayed!.replayed_at).not.toBeNull();
    expect(latest).toMatchObject({ replays: 0, replayed_at: null, attempts: 1 });
    expect((await replayDeadLetters({ albumkit: app.albumkit, connection: jobs.connection, prefix, queue: 'metadata', dryRun: true })).replayed).toEqual({ metadata: 1 });
  });
});
