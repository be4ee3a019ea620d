import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL, databaseUrl } from '../../packages/core/test/support/postgres.js';
import { startLocalCloudinary, type LocalCloudinary } from '../../packages/testing/src/index.js';
import { REDIS_URL } from '../../packages/worker/test/support/redis.js';
import { expectPhotoFacts, uploadToProcessed, userToken, type ImageJson } from './support/host-upload.js';

/**
 * The example hosts as people run them, each a child process on the built packages:
 * `examples/{express,koa,fastify,node-http}/server.mjs` and the demo, `examples/express/start.mjs`
 * (what `npm start` runs once it has built the packages; started directly here so that this file
 * does not rebuild the packages under the other test files). Checked from outside, as a client
 * sees them: that an upload through each becomes the same processed image, EXIF and GPS
 * included, as through the demo (jobs in-process, or on BullMQ with REDIS_URL), which addresses
 * they listen on (the kernel's socket table and real connections), that a slow client is cut off
 * (headers, body, idle keep-alive), the demo page's Content-Security-Policy, the demo's
 * integrator secret URL (it signs tokens the API accepts, and survives a restart), and the BullMQ
 * queue prefix.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLEARED = [
  'PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'CLOUDINARY_URL', 'ALBUMKIT_SECRET', 'ALBUMKIT_PUBLIC_URL',
  'ALBUMKIT_DATA_DIR', 'ALBUMKIT_HOME', 'ALBUMKIT_WORKERS', 'ALBUMKIT_QUEUE_PREFIX',
];

interface Host {
  name: string;
  child: ChildProcess;
  port: number;
  output: () => string;
  /** The addresses the host printed that it listens on. */
  printed: string[];
}

const started: Host[] = [];
const folders: string[] = [];

function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'albumkit-hosts-'));
  folders.push(path);
  return path;
}

/** Starts `script` (relative to the repository) with `env` on top of a cleared environment; resolves once it listens. */
async function startHost(name: string, script: string, env: Record<string, string>): Promise<Host> {
  const full: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of CLEARED) delete full[variable];
  Object.assign(full, env);
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const host: Host = { name, child, port: 0, output: () => output, printed: [] };
  started.push(host);
  // server.mjs: "listening on http://127.0.0.1:1234" (Fastify: "Server listening at http://…");
  // start.mjs: "Listening:   127.0.0.1:1234 (…)", printed after the demo set itself up.
  const pattern = /(?:listening (?:on|at) http:\/\/|Listening:\s+)(\[[^\]]+\]|[\d.]+):(\d+)/g;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} printed no address in time:\n${output}`)), 50_000);
    const look = () => {
      const found = [...output.matchAll(pattern)];
      if (found.length === 0 || (script.endsWith('start.mjs') && !output.includes('Ctrl+C stops the demo'))) return;
      clearTimeout(timer);
      host.printed = found.map((match) => match[1]!.replace(/^\[|\]$/g, ''));
      host.port = Number(found[0]![2]);
      resolve();
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before listening:\n${output}`)));
  });
  return host;
}

async function stopHost(host: Host): Promise<void> {
  if (host.child.exitCode !== null || host.child.signalCode !== null) return;
  const exited = new Promise((resolve) => host.child.once('exit', resolve));
  host.child.kill('SIGTERM');
  const timer = setTimeout(() => host.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** A port free now whose next one (the demo's local Cloudinary) is free too when possible. */
async function freePort(): Promise<number> {
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const { port: taken } = server.address() as { port: number };
        server.close(() => resolve(taken));
      });
    });
  for (let i = 0; i < 10; i++) {
    const port = await listen(0);
    if (port < 65535 && (await listen(port + 1).then(() => true, () => false))) return port;
  }
  return listen(0);
}

/** Decodes an address of /proc/net/tcp{,6}: 32-bit words in host (little-endian) order. */
function procAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((word) => word.match(/../g)!.reverse().join(''));
  if (words.length === 1) return words[0]!.match(/../g)!.map((byte) => parseInt(byte, 16)).join('.');
  const groups = words.flatMap((word) => [word.slice(0, 4), word.slice(4)]).map((group) => parseInt(group, 16).toString(16));
  const text = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  return text.replace(/:::+/, '::');
}

/** The local addresses of the sockets listening on `port`, from the kernel's socket table (Linux). */
function listeningAddresses(port: number): string[] {
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A: LISTEN
      const [address, portHex] = local.split(':');
      if (parseInt(portHex!, 16) === port) addresses.push(procAddress(address!));
    }
  }
  return addresses;
}

/** Whether a TCP connection to `address:port` is accepted. */
function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A raw HTTP client: writes `head`, then `drip` once a second until the server closes the
 * connection. Resolves with what the server sent and how long the connection stayed open.
 */
function slowClient(port: number, head: string, drip: string | null, limitMs = 60_000): Promise<{ received: string; ms: number; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const opened = performance.now();
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    const give = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      resolve({ received, ms: performance.now() - opened, closedByServer: false });
    }, limitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => {}); // a write after the server hung up
    socket.once('connect', () => {
      socket.write(head);
      if (drip !== null) timer = setInterval(() => socket.writable && socket.write(drip), 1000);
    });
    socket.once('close', () => {
      clearInterval(timer);
      clearTimeout(give);
      resolve({ received, ms: performance.now() - opened, closedByServer: true });
    });
  });
}

function csp(header: string | null): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

const serverEnv = (dataDir: string): Record<string, string> => ({
  PORT: '0',
  ALBUMKIT_SECRET: 'example-hosts-test-secret',
  CLOUDINARY_URL: 'cloudinary://123456789012345:example-secret@demo',
  ALBUMKIT_DATA_DIR: dataDir,
});
const SERVERS = [
  ['express', 'examples/express/server.mjs'],
  ['koa', 'examples/koa/server.mjs'],
  ['fastify', 'examples/fastify/server.mjs'],
  ['node-http', 'examples/node-http/server.mjs'],
] as const;
const SECRET = 'example-hosts-test-secret';

/** Empty databases made for this file (each host migrates its own with the built migrations). */
const databases: string[] = [];
async function emptyDatabase(): Promise<string> {
  const name = `albumkit_hosts_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  databases.push(name);
  return databaseUrl(name);
}

/**
 * The environment of a host people can upload through: PostgreSQL, the local Cloudinary, and a
 * port known in advance, since Cloudinary's notification_url is built from ALBUMKIT_PUBLIC_URL.
 */
async function uploadEnv(cloud: LocalCloudinary, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    PORT: String(port),
    ALBUMKIT_SECRET: SECRET,
    CLOUDINARY_URL: cloud.cloudinaryUrl,
    ALBUMKIT_PUBLIC_URL: `http://127.0.0.1:${port}/api/v1`,
    DATABASE_URL: await emptyDatabase(),
    ...extra,
  };
}

describe('example hosts', () => {
  let hosts: Host[];
  let demo: Host;
  let demoHome: string;
  let cloud: LocalCloudinary;
  /** The database of each example server (not the demo's, which is its embedded PGlite). */
  const databaseOf = new Map<string, string>();

  beforeAll(async () => {
    demoHome = folder();
    cloud = await startLocalCloudinary({ dir: folder(), notificationRetryDelaysMs: [200, 1000, 3000] });
    hosts = await Promise.all([
      ...SERVERS.map(async ([name, script]) => {
        const env = await uploadEnv(cloud);
        databaseOf.set(name, env.DATABASE_URL!);
        return startHost(name, script, env);
      }),
      freePort().then((port) => startHost('demo', 'examples/express/start.mjs', { PORT: String(port), ALBUMKIT_HOME: demoHome })),
    ]);
    demo = hosts.find((host) => host.name === 'demo')!;
  }, 90_000);

  afterAll(async () => {
    await Promise.all(started.map(stopHost));
    await cloud?.close();
    for (const path of folders) rmSync(path, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }, 60_000);

  it('an upload through each host becomes the processed image, EXIF and GPS included, the demo makes', async () => {
    // The demo: its own local Cloudinary and embedded database, its printed admin token.
    const demoToken = /Demo token \(DEVELOPMENT ONLY[^)]*\):\s+(\S+)/.exec(demo.output())?.[1];
    expect(demoToken, demo.output()).toBeDefined();
    const reference = await uploadToProcessed(`http://127.0.0.1:${demo.port}`, demoToken!, 'demo');
    expectPhotoFacts(reference, 'demo');

    const servers = hosts.filter((host) => host.name !== 'demo');
    expect(servers.map((host) => host.name)).toEqual(SERVERS.map(([name]) => name));
    const images = await Promise.all(
      servers.map(async (host) =>
        uploadToProcessed(`http://127.0.0.1:${host.port}`, await userToken(databaseOf.get(host.name)!, SECRET), host.name),
      ),
    );
    const facts = (image: ImageJson) => ({
      processed: image.processed,
      processing_error: image.processing_error,
      exifs: image.exifs,
      taken_at: image.taken_at,
      gps: image.gps,
      gps_exifs: image.gps_exifs,
      width: image.width,
      height: image.height,
    });
    images.forEach((image, i) => {
      expectPhotoFacts(image, servers[i]!.name);
      expect(facts(image), servers[i]!.name).toEqual(facts(reference));
      expect(servers[i]!.output(), servers[i]!.name).toMatch(/jobs: in this process/);
    });
  }, 120_000);

  it('with REDIS_URL, an example host runs a BullMQ worker, and an upload through it is processed the same way', async () => {
    const prefix = `albumkit-hosts-${randomBytes(4).toString('hex')}`;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const env = await uploadEnv(cloud, { REDIS_URL, ALBUMKIT_QUEUE_PREFIX: prefix });
    const host = await startHost('node-http with Redis', 'examples/node-http/server.mjs', env);
    try {
      expect(host.output()).toContain(`jobs: BullMQ on REDIS_URL (queues ${prefix}-*), worker in this process`);
      const image = await uploadToProcessed(`http://127.0.0.1:${host.port}`, await userToken(env.DATABASE_URL!, SECRET), host.name);
      expectPhotoFacts(image, host.name);
      // The notification went through the prefixed BullMQ queue, not an in-process one.
      expect(await redis.exists(`bull:${prefix}-notification:meta`)).toBe(1);
      expect(await redis.zcard(`bull:${prefix}-notification:completed`)).toBeGreaterThanOrEqual(1);
    } finally {
      await stopHost(host);
      const keys = await redis.keys(`bull:${prefix}-*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  }, 90_000);

  it('listen on 127.0.0.1 only by default, and print that address', async () => {
    for (const host of hosts) {
      expect(host.printed, `${host.name} printed\n${host.output()}`).toEqual(['127.0.0.1']);
      if (existsSync('/proc/net/tcp')) expect(listeningAddresses(host.port), host.name).toEqual(['127.0.0.1']);
      expect(await accepts('127.0.0.1', host.port), host.name).toBe(true);
    }
    expect(demo.output()).toMatch(/Listening:\s+127\.0\.0\.1:\d+ \(this machine only; HOST=0\.0\.0\.0 listens on every interface\)/);
  });

  it('HOST=0.0.0.0 listens on every interface', async () => {
    const wide = await Promise.all(
      SERVERS.map(([name, script]) => startHost(`${name} HOST=0.0.0.0`, script, { ...serverEnv(join(folder(), 'pglite')), HOST: '0.0.0.0' })),
    );
    try {
      for (const host of wide) {
        // The socket table says which interfaces are served; connections go to loopback only
        // (tests send no traffic to this machine's other addresses).
        if (existsSync('/proc/net/tcp')) expect(listeningAddresses(host.port), host.name).toEqual(['0.0.0.0']);
        expect(await accepts('127.0.0.1', host.port), host.name).toBe(true);
      }
      // Express, Koa and node:http print the address they were given; Fastify prints one line per interface.
      expect(wide[0]!.output()).toContain(`listening on http://0.0.0.0:${wide[0]!.port} (all interfaces)`);
      expect(wide[1]!.output()).toContain(`listening on http://0.0.0.0:${wide[1]!.port} (all interfaces)`);
      expect(wide[2]!.printed).toContain('127.0.0.1');
      expect(wide[3]!.output()).toContain(`listening on http://0.0.0.0:${wide[3]!.port} (all interfaces)`);
    } finally {
      await Promise.all(wide.map(stopHost));
    }
  }, 90_000);

  describe.concurrent('cut off slow clients', () => {
    it('headers sent slowly: 408 after 10 s', async ({ expect }) => {
      const results = await Promise.all(
        hosts.map((host) => slowClient(host.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n', 30_000)),
      );
      results.forEach((result, i) => {
        expect(result.closedByServer, hosts[i]!.name).toBe(true);
        expect(result.received, hosts[i]!.name).toMatch(/^HTTP\/1\.1 408/);
        expect(result.ms, hosts[i]!.name).toBeGreaterThan(9_000);
        expect(result.ms, hosts[i]!.name).toBeLessThan(14_000);
      });
    }, 40_000);

    it('a body sent slowly: 408 after 30 s', async ({ expect }) => {
      const head = 'POST /api/v1/albums HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{';
      const results = await Promise.all(hosts.map((host) => slowClient(host.port, head, ' ', 60_000)));
      results.forEach((result, i) => {
        expect(result.closedByServer, hosts[i]!.name).toBe(true);
        expect(result.received, hosts[i]!.name).toMatch(/^HTTP\/1\.1 408/);
        expect(result.ms, hosts[i]!.name).toBeGreaterThan(29_000);
        expect(result.ms, hosts[i]!.name).toBeLessThan(34_000);
      });
    }, 70_000);

    it('an idle keep-alive connection: closed after 5 s', async ({ expect }) => {
      const results = await Promise.all(
        hosts.map((host) => slowClient(host.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n', null, 30_000)),
      );
      results.forEach((result, i) => {
        expect(result.closedByServer, hosts[i]!.name).toBe(true);
        expect(result.received, hosts[i]!.name).toMatch(/^HTTP\/1\.1 200/);
        expect(result.ms, hosts[i]!.name).toBeGreaterThan(4_000);
        expect(result.ms, hosts[i]!.name).toBeLessThan(8_000);
      });
    }, 40_000);
  });

  it('the demo page carries a Content-Security-Policy that allows what it loads and posts, and nothing inline', async () => {
    const cloudinary = /Cloudinary:\s+local server at (http:\/\/\S+),/.exec(demo.output())?.[1];
    expect(cloudinary, demo.output()).toBeDefined();
    const cloudinaryOrigin = new URL(cloudinary!).origin;
    for (const path of ['/', '/index.html', '/js/app.js', '/styles.css']) {
      const response = await fetch(`http://127.0.0.1:${demo.port}${path}`);
      expect(response.status, path).toBe(200);
      const policy = csp(response.headers.get('content-security-policy'));
      expect(policy.get('default-src'), path).toEqual(["'self'"]);
      expect(policy.get('script-src'), path).toEqual(["'self'"]);
      expect(new Set(policy.get('img-src')), path).toEqual(new Set(["'self'", 'blob:', 'data:', cloudinaryOrigin]));
      expect(new Set(policy.get('connect-src')), path).toEqual(new Set(["'self'", cloudinaryOrigin]));
      expect(policy.get('frame-ancestors'), path).toEqual(["'none'"]);
      expect(policy.get('object-src'), path).toEqual(["'none'"]);
      expect(policy.get('base-uri'), path).toEqual(["'self'"]);
      for (const sources of policy.values()) expect(sources.join(' '), path).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    }
    // Scripts only from the page's own origin: no inline <script>, no on* attribute.
    const html = await (await fetch(`http://127.0.0.1:${demo.port}/`)).text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\bsrc="\/[^/]/);
      expect(body!.trim()).toBe('');
    }
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    // The API is not the page: its responses are the API's own.
    expect((await fetch(`http://127.0.0.1:${demo.port}/api/v1/albums/x`)).status).toBe(401);
  });

  it("the demo's CSP follows CLOUDINARY_URL's upload and delivery hosts; REDIS_URL with ALBUMKIT_QUEUE_PREFIX names the queues", async () => {
    const prefix = `albumkit-hosts-${randomBytes(4).toString('hex')}`;
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const host = await startHost('demo with Redis', 'examples/express/start.mjs', {
      PORT: String(await freePort()),
      ALBUMKIT_HOME: folder(),
      REDIS_URL,
      ALBUMKIT_QUEUE_PREFIX: prefix,
      CLOUDINARY_URL: 'cloudinary://123456789012345:example-secret@demo?upload_prefix=https://upload.example.test:8443&delivery_prefix=https://cdn.example.test/media',
    });
    try {
      const policy = csp((await fetch(`http://127.0.0.1:${host.port}/`)).headers.get('content-security-policy'));
      expect(new Set(policy.get('img-src'))).toEqual(new Set(["'self'", 'blob:', 'data:', 'https://cdn.example.test']));
      expect(new Set(policy.get('connect-src'))).toEqual(new Set(["'self'", 'https://upload.example.test:8443']));
      expect(host.output()).toContain(`Jobs:        BullMQ on REDIS_URL (queues ${prefix}-*), worker in this process`);
      // The producer's queues exist in Redis under the prefix (BullMQ writes each queue's meta on start).
      await expect.poll(() => redis.exists(`bull:${prefix}-notification:meta`, `bull:${prefix}-metadata:meta`, `bull:${prefix}-webhook:meta`)).toBe(3);
    } finally {
      await stopHost(host);
      const keys = await redis.keys(`bull:${prefix}-*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  }, 90_000);

  it('ALBUMKIT_WORKERS=external: the printed worker command carries ALBUMKIT_QUEUE_PREFIX', async () => {
    const prefix = `albumkit-hosts-${randomBytes(4).toString('hex')}`;
    const name = `albumkit_hosts_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`); // empty: the demo migrates it with the built migrations
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const host = await startHost('demo, external workers', 'examples/express/start.mjs', {
        PORT: String(await freePort()),
        ALBUMKIT_HOME: folder(),
        DATABASE_URL: databaseUrl(name),
        REDIS_URL,
        ALBUMKIT_WORKERS: 'external',
        ALBUMKIT_QUEUE_PREFIX: prefix,
      });
      await stopHost(host);
      const output = host.output();
      expect(output).toContain(`BullMQ on REDIS_URL (queues ${prefix}-*), separate workers`);
      expect(output).toMatch(new RegExp(`REDIS_URL=… ALBUMKIT_SECRET=.+? ALBUMKIT_PUBLIC_URL=http://localhost:${host.port}/api/v1 ALBUMKIT_QUEUE_PREFIX=${prefix} \\\\\\n\\s+CLOUDINARY_URL="cloudinary://[^"]+" npx albumkit-worker`));
    } finally {
      const keys = await redis.keys(`bull:${prefix}-*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 90_000);

  it('the demo prints an integrator secret URL whose tokens the API accepts, the same after a restart', async () => {
    const found = /Integrator secret URL \(DEVELOPMENT ONLY[^)]*\):\s+(sharinpix:\/\/\S+)/.exec(demo.output());
    expect(found, demo.output()).not.toBeNull();
    const url = new URL(found![1]!);
    expect(url.host).toBe(`localhost:${demo.port}`);
    expect(url.pathname).toBe('/api/v1');
    const id = decodeURIComponent(url.username);
    const secret = decodeURIComponent(url.password);
    expect(JSON.parse(readFileSync(join(demoHome, 'demo.json'), 'utf8')).integratorSecret).toEqual({ id, secret });

    // An integrator client signs its tokens with the secret, `iss` naming it.
    const album = `integrator-album-${randomBytes(4).toString('hex')}`;
    const sign = (key: string) =>
      new SignJWT({ abilities: { [album]: { Access: { see: true, image_list: true } } } })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuer(id)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(new TextEncoder().encode(key));
    const get = async (port: number, key: string) =>
      fetch(`http://127.0.0.1:${port}/api/v1/albums/${album}`, { headers: { Authorization: `Bearer ${await sign(key)}` } });
    const accepted = await get(demo.port, secret);
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { id: string }).id).toBe(album);
    expect((await get(demo.port, `${secret}x`)).status).toBe(401);

    // Stopped and started again on the same ALBUMKIT_HOME (another port): the same secret.
    await stopHost(demo);
    const again = await startHost('demo, restarted', 'examples/express/start.mjs', { PORT: String(await freePort()), ALBUMKIT_HOME: demoHome });
    expect(again.output()).toContain(`sharinpix://${id}:${secret}@localhost:${again.port}/api/v1`);
    expect(again.output()).not.toContain('demo organization and user created');
    expect((await get(again.port, secret)).status).toBe(200);
  }, 90_000);
});
