import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Albumkit } from '@albumkit/core';
import { albumkitNode } from '../../packages/http-adapter/src/node.js';

/** Shared helpers of the fault and load tests (test/faults). */

import { until } from '../../packages/worker/test/support/notifications.js';

export { albumImages, notificationPath, notificationRequest, until } from '../../packages/worker/test/support/notifications.js';

export const silent = { error() {}, warn() {} };

/** A free TCP port on 127.0.0.1 (the OS picks it; released before use). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Albumkit mounted on a real `node:http` server, as a host application would. */
export async function serve(albumkit: Albumkit): Promise<{ server: Server; base: string; close(): Promise<void> }> {
  const server = createHttpServer(albumkitNode(albumkit));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    server,
    base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TimedResponse {
  status: number;
  headers: Headers;
  json: any;
  ms: number;
}

/** One HTTP request with a hard client-side timeout, so that a hang fails the test instead of stalling it. */
export async function timed(url: string, init: RequestInit = {}, timeoutMs = 15_000): Promise<TimedResponse> {
  const started = performance.now();
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json, ms: performance.now() - started };
}

/** Cloudinary's rendering of EXIF in an upload result (`image_metadata=1`): the image is created processed. */
export const EXIF = { DateTimeOriginal: '2021:03:04 05:06:07', Orientation: 'Horizontal (normal)' };

// ---------------------------------------------------------------------------------------------
// A private redis-server

export interface PrivateRedis {
  port: number;
  url: string;
  dir: string;
  start(): Promise<void>;
  /** SIGKILL: no shutdown save, like a crash. */
  kill(): Promise<void>;
}

export function privateRedis(port: number, dir: string, extraArgs: string[] = []): PrivateRedis {
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;
  return {
    port,
    url,
    dir,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--daemonize', 'no', '--dir', dir, ...extraArgs], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      await until(() => /Ready to accept connections/.test(output) || child!.exitCode !== null, 10_000, 'redis-server to start');
      if (child.exitCode !== null) throw new Error(`redis-server exited: ${output}`);
    },
    async kill() {
      // A process killed by a signal keeps exitCode null: signalCode tells it has exited.
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A private PostgreSQL cluster (initdb + pg_ctl), run as the `postgres` OS user when we are root

export function postgresBin(): string {
  const result = spawnSync('bash', ['-c', 'ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1'], { encoding: 'utf8' });
  const bin = result.stdout.trim();
  if (!bin) throw new Error('no PostgreSQL binaries under /usr/lib/postgresql');
  return bin;
}

export function asPostgres(command: string, args: string[]): { status: number | null; output: string } {
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' })
    : spawnSync(command, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
