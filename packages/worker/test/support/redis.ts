import { randomBytes } from 'node:crypto';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A queue prefix of this test's own, so that test files never share queues on the shared Redis. */
export function uniquePrefix(): string {
  return `albumkit-test-${randomBytes(4).toString('hex')}`;
}
