import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_URL, databaseUrl } from '../../packages/core/test/support/postgres.js';
import { expectPhotoFacts, uploadToProcessed } from './support/host-upload.js';

/**
 * The packages as a host installs them: `npm pack` makes the tarballs of the built packages, a
 * fresh Fastify host app outside the workspace (in the system's temporary folder, its own
 * package.json naming the tarballs by file: paths) gets them with `npm install`, and runs the
 * Fastify example copied into it, as someone starting from `examples/` would, on a new
 * PostgreSQL database and the local Cloudinary of the installed `@albumkit/testing`. Its set-up
 * uses the installed `albumkit` command; an upload through it is processed, EXIF and GPS
 * included. The installed type declarations are checked with the workspace's TypeScript.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['core', 'http-adapter', 'worker', 'testing'] as const;
const SECRET = 'packed-host-test-secret';

/** The environment of a command run in the host: nothing of npm's own (`npm test` sets npm_config_*, among them the workspace's prefix). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name)) continue;
    if (['PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'CLOUDINARY_URL', 'ALBUMKIT_SECRET', 'ALBUMKIT_PUBLIC_URL', 'ALBUMKIT_DATA_DIR', 'NODE_OPTIONS'].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: cleanEnv(env), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed (${error.code}):\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Starts a long-running command; resolves with the first match of `ready` in its output. */
function start(command: string, args: string[], cwd: string, env: Record<string, string>, ready: RegExp, children: ChildProcess[]) {
  const child = spawn(command, args, { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise<{ match: RegExpMatchArray; output: () => string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} printed nothing ready in time:\n${output}`)), 60_000);
    const look = (chunk: Buffer) => {
      output += chunk;
      const match = ready.exec(output);
      if (!match) return;
      clearTimeout(timer);
      resolve({ match, output: () => output });
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}):\n${output}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}

describe('a host app outside the workspace, on the packed tarballs', () => {
  const folder = mkdtempSync(join(tmpdir(), 'albumkit-packed-'));
  const tarballs = join(folder, 'tarballs');
  const host = join(folder, 'host');
  const database = `albumkit_packed_${randomBytes(6).toString('hex')}`;
  const children: ChildProcess[] = [];
  let packed: Packed[];

  beforeAll(async () => {
    for (const name of PACKAGES) {
      if (!existsSync(join(ROOT, 'packages', name, 'dist'))) throw new Error(`packages/${name}/dist is missing: run \`npm run build\` first (\`npm test\` does)`);
    }
    mkdirSync(tarballs);
    mkdirSync(host);
    const workspaces = PACKAGES.flatMap((name) => ['--workspace', `packages/${name}`]);
    packed = JSON.parse(await run('npm', ['pack', ...workspaces, '--pack-destination', tarballs, '--json'], ROOT)) as Packed[];

    const tarball = (name: string) => `file:../tarballs/${packed.find((p) => p.name === `@albumkit/${name}`)!.filename}`;
    writeFileSync(
      join(host, 'package.json'),
      JSON.stringify(
        {
          name: 'albumkit-packed-host',
          private: true,
          type: 'module',
          dependencies: {
            '@albumkit/core': tarball('core'),
            '@albumkit/http-adapter': tarball('http-adapter'),
            '@albumkit/worker': tarball('worker'),
            fastify: '^5.0.0',
          },
          devDependencies: { '@albumkit/testing': tarball('testing') },
        },
        null,
        2,
      ),
    );
    copyFileSync(join(ROOT, 'examples/fastify/server.mjs'), join(host, 'server.mjs'));
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], host);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(children.map(stop));
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  it('each tarball holds the built code, README, CHANGELOG and LICENSE, and nothing of the sources or tests', () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 albumkit contributors\n/);
    expect(packed.map((p) => p.name).sort()).toEqual(PACKAGES.map((name) => `@albumkit/${name}`).sort());
    for (const { name, files } of packed) {
      const paths = files.map((file) => file.path);
      expect(paths, name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']));
      // Outside dist/ only those (and the local Cloudinary's HEIC decoder, which runs as a worker file).
      expect(paths.filter((path) => !path.startsWith('dist/') && !['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE'].includes(path)), name).toEqual(
        name === '@albumkit/testing' ? ['worker/heic-decoder.cjs'] : [],
      );
      // Every file the manifest points at is in the tarball.
      const manifest = JSON.parse(readFileSync(join(host, 'node_modules', name, 'package.json'), 'utf8'));
      const pointed = [manifest.main, manifest.types, ...Object.values(manifest.bin ?? {}), ...JSON.stringify(manifest.exports).match(/\.\/dist\/[^"]+/g)!];
      for (const path of pointed.filter(Boolean)) expect(paths, `${name}: ${path}`).toContain(path.replace(/^\.\//, ''));
      expect(manifest.license, name).toBe('MIT');
      expect(manifest.engines?.node, name).toBe('>=20.19');
      expect(readFileSync(join(host, 'node_modules', name, 'LICENSE'), 'utf8'), name).toBe(license);
      expect(readFileSync(join(host, 'node_modules', name, 'CHANGELOG.md'), 'utf8'), name).toMatch(/^# Changelog\n[\s\S]*\n## \[0\.1\.0\] - \d{4}-\d{2}-\d{2}\n\n### Added\n- /);
    }
  });

  // The packages name each other by version (`@albumkit/core@^0.1.0`), which the core tarball satisfies.
  it('installs as copies of the tarballs, with one @albumkit/core', () => {
    for (const name of PACKAGES) {
      const installed = join(host, 'node_modules', '@albumkit', name);
      expect(lstatSync(installed).isSymbolicLink(), name).toBe(false);
      expect(existsSync(join(installed, 'src')), name).toBe(false);
      expect(existsSync(join(installed, 'node_modules', '@albumkit', 'core')), name).toBe(false);
    }
  });

  it("an upload through the host app is processed, EXIF and GPS included", async () => {
    const bin = (name: string) => join(host, 'node_modules', '.bin', name);
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`); // empty: the installed albumkit migrates it
    await admin.end();
    const env = { DATABASE_URL: databaseUrl(database), ALBUMKIT_SECRET: SECRET };

    // The host's set-up, with the installed command: an organization, a user, a token of theirs.
    const organization = (await run(bin('albumkit'), ['create-organization', 'Packed host'], host, env)).trim();
    const user = (await run(bin('albumkit'), ['create-user', organization, '--sfid', '005packed'], host, env)).trim();
    const token = (await run(bin('albumkit'), ['token', user], host, env)).trim();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);

    const cloudinary = await start(bin('albumkit-cloudinary'), ['--port', '0', '--dir', join(folder, 'cloudinary')], host, {}, /^CLOUDINARY_URL=(\S+)$/m, children);
    const port = await freePort();
    const app = await start(
      process.execPath,
      ['server.mjs'],
      host,
      { ...env, PORT: String(port), CLOUDINARY_URL: cloudinary.match[1]!, ALBUMKIT_PUBLIC_URL: `http://127.0.0.1:${port}/api/v1` },
      /Server listening at http:\/\/127\.0\.0\.1:(\d+)/,
      children,
    );
    expect(app.output()).toMatch(/jobs: in this process/);

    const image = await uploadToProcessed(`http://127.0.0.1:${port}`, token, 'packed host');
    expectPhotoFacts(image, 'packed host');
    expect(Object.keys(image.exifs!).length).toBeGreaterThan(10);
  }, 120_000);

  it('the installed type declarations type a host written in TypeScript', async () => {
    writeFileSync(
      join(host, 'host.ts'),
      `import { configFromEnv, createAlbumkit, type Albumkit, type CoreResponse } from '@albumkit/core';
import { albumkitFastify } from '@albumkit/http-adapter/fastify';
import { albumkitNode } from '@albumkit/http-adapter/node';
import { inProcessJobs, type RunningWorker } from '@albumkit/worker';
import { startLocalCloudinary, type LocalCloudinary } from '@albumkit/testing';
import Fastify from 'fastify';
import { createServer } from 'node:http';

const { config } = configFromEnv();
const albumkit: Albumkit = await createAlbumkit({ ...config, jobs: (ak) => inProcessJobs(ak) });
const app = Fastify();
await app.register(albumkitFastify(albumkit), { prefix: '/api/v1' });
createServer(albumkitNode(albumkit, { prefix: '/api/v1' }));
const response: CoreResponse = await albumkit.handle({ method: 'GET', path: '/api/v1/albums/a', query: {}, headers: {}, rawBody: '' });
const status: number = response.status;
const cloud: LocalCloudinary = await startLocalCloudinary();
const url: string = cloud.url;
declare const worker: RunningWorker;
const closing: Promise<void> = worker.close(1000);
// The declarations are real types, not any: wrong uses are errors.
// @ts-expect-error the secret is a string
await createAlbumkit({ ...config, secret: 42 });
// @ts-expect-error albumkitFastify takes an albumkit, not a number
albumkitFastify(1);
export { status, url, closing };
`,
    );
    writeFileSync(
      join(host, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          // The installed declarations are checked whole: they must compile without the optional
          // prom-client peer, which this host does not install.
          skipLibCheck: false,
          // Node's own types from the workspace: the host installed no @types/node.
          typeRoots: [join(ROOT, 'node_modules/@types')],
          types: ['node'],
        },
        files: ['host.ts'],
      }),
    );
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], host);
  }, 120_000);
});
