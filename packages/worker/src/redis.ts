import { Redis, type RedisOptions } from 'ioredis';
import { redisRetryStrategy } from './queues.js';

/**
 * Where albumkit's Redis is: `redisUrl` (one server), `redis` (ioredis connection options, such as
 * Sentinel's `{ sentinels: [{ host, port }], name: 'mymaster', sentinelPassword, password }`), or
 * both (the options then complete and override the URL's, as ioredis merges them).
 *
 * Redis Cluster is not supported: BullMQ runs each queue's Lua scripts on keys that must share one
 * hash slot, which albumkit's key names (`bull:<prefix>-<job>:…`, no `{hash tag}`) do not, so
 * a Cluster would refuse them (CROSSSLOT, MOVED). See docs/ARCHITECTURE.md, "Operations".
 */
export interface RedisTarget {
  redisUrl?: string;
  redis?: RedisOptions;
}

/**
 * - `producer` (the API's `BullMqJobs`): commands are not queued while Redis is away and are tried
 *   once, so an enqueue fails fast (the notification stays recorded; the sweep enqueues it later),
 *   and the jobs enqueued in one turn of the event loop go to Redis in one write (auto-pipelining).
 *   A command unanswered after `PRODUCER_COMMAND_TIMEOUT_MS` fails ("Command timed out"): on a
 *   half-open connection (a network partition: no error, no answer) a request would wait forever
 *   otherwise. `redis.commandTimeout` changes it.
 * - `worker` (`startWorker`): commands wait for the connection to come back, as BullMQ's workers require.
 */
export type RedisRole = 'producer' | 'worker';

export const PRODUCER_COMMAND_TIMEOUT_MS = 5000;

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  producer: { enableOfflineQueue: false, maxRetriesPerRequest: 1, enableAutoPipelining: true },
  worker: { maxRetriesPerRequest: null },
};

/**
 * The one place albumkit's Redis connections are made. What the role needs (above) and the
 * reconnection backoff (100 ms → 5 s, never giving up) are albumkit's and override the same keys
 * of `target.redis`; the rest of it (Sentinel, TLS, passwords, `db`, timeouts…) goes to ioredis as
 * given. The connection is named `albumkit-<role>` (CLIENT LIST) unless `connectionName` is given.
 *
 * With Sentinel, ioredis asks the sentinels for the master's address at each (re)connection and
 * checks the server's role: after a failover, Sentinel cuts the clients of the old master as it
 * makes it a replica (CLIENT KILL), and they reconnect to the new one.
 */
export function createRedisConnection(target: RedisTarget, role: RedisRole): Redis {
  if (!target.redisUrl && !target.redis) {
    throw new TypeError('Redis: give redisUrl (redis://host:port) or redis (ioredis options, e.g. { sentinels: [{ host, port }], name })');
  }
  const options: RedisOptions = {
    connectionName: `albumkit-${role}`,
    ...(role === 'producer' && { commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS }),
    ...target.redis,
    ...ROLE_OPTIONS[role],
    retryStrategy: redisRetryStrategy,
  };
  return target.redisUrl ? new Redis(target.redisUrl, options) : new Redis(options);
}
