import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { until } from './notifications.js';

/**
 * Private Redis servers for the Sentinel test: a master, its replica and sentinels, each a
 * `redis-server` of its own on a free port, without persistence, in a temporary folder. Every
 * process started is also SIGKILLed when the test process exits, should afterAll not run.
 */

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

/**
 * Waits until `check` holds; a check that throws (a server of the test away for a moment) counts
 * as not yet, and the last error is told if the wait times out.
 */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  let last: unknown;
  await until(
    async () => {
      try {
        return await check();
      } catch (error) {
        last = error;
        return false;
      }
    },
    timeoutMs,
    what,
  ).catch((error: Error) => {
    throw new Error(`${error.message}${last ? ` (last error: ${String(last)})` : ''}`);
  });
}

/** A free TCP port on 127.0.0.1 (the OS picks it; released before use). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RedisProcess {
  port: number;
  /** A direct client of this server, for the test's own checks (albumkit never gets one). */
  client: Redis;
  isRunning(): boolean;
  /** SIGKILL: no shutdown, like a crash. */
  kill(): Promise<void>;
  output(): string;
}

async function startRedisProcess(port: number, args: string[], what: string): Promise<RedisProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  await until(() => /Ready to accept connections|Sentinel ID is/.test(output) || !running(), 15_000, `${what} to start`);
  if (!running()) throw new Error(`${what} exited: ${output}`);
  // A command fails at once while the server is away (no retries); the client reconnects, as
  // the test's connections are cut too when Sentinel turns a master into a replica (CLIENT KILL).
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => 100, lazyConnect: true });
  client.on('error', () => {});
  return {
    port,
    client,
    isRunning: running,
    async kill() {
      client.disconnect();
      if (running()) {
        child.kill('SIGKILL');
        await exited;
      }
      started.delete(child);
    },
    output: () => output,
  };
}

/** A redis-server without persistence; `replicaOf` makes it a replica of that port. */
export async function startRedis(dir: string, replicaOf?: number): Promise<RedisProcess> {
  const port = await freePort();
  const data = join(dir, `redis-${port}`);
  mkdirSync(data, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', data];
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  return startRedisProcess(port, args, `redis-server ${replicaOf ? 'replica' : 'master'}`);
}

export const MASTER_NAME = 'mymaster';

/** `redis-server <conf> --sentinel`, monitoring the master on `masterPort` (a short failure detection). */
export async function startSentinel(dir: string, masterPort: number, quorum: number): Promise<RedisProcess> {
  const port = await freePort();
  const data = join(dir, `sentinel-${port}`);
  mkdirSync(data, { recursive: true });
  // Sentinel rewrites its configuration file (what it learns, the failovers): one file each, writable.
  const conf = join(data, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${data}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} ${quorum}`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 3000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      '',
    ].join('\n'),
  );
  return startRedisProcess(port, [conf, '--sentinel'], 'redis-server --sentinel');
}

/** `SENTINEL master <name>` as an object (flags, num-slaves, num-other-sentinels, ip, port…). */
export async function sentinelMaster(sentinel: Redis): Promise<Record<string, string>> {
  const flat = (await sentinel.call('SENTINEL', 'master', MASTER_NAME)) as string[];
  const info: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) info[flat[i]!] = flat[i + 1]!;
  return info;
}

/** The `role:` line of `INFO replication`: master or slave. */
export async function roleOf(client: Redis): Promise<string> {
  const info = await client.info('replication');
  return /^role:(\w+)/m.exec(info)?.[1] ?? 'unknown';
}

/** Names of the clients connected to a server (`CLIENT LIST`), empty names left out. */
export async function clientNames(client: Redis): Promise<string[]> {
  const list = (await client.call('CLIENT', 'LIST')) as string;
  return list
    .split('\n')
    .map((line) => / name=(\S*)/.exec(line)?.[1] ?? '')
    .filter(Boolean);
}
