import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrl, runDatabaseName } from './support/postgres.js';
import pg from 'pg';
import { migrations } from '../src/db/migrations/index.js';

const ALL_APPLIED = `applied: ${Object.keys(migrations).join(', ')}`;

const run = promisify(execFile);
// The CLI as users run it: the built file (npm test builds before testing).
const CLI = resolve(import.meta.dirname, '../dist/cli.js');

describe('the albumkit command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'albumkit-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function albumkit(args: string[], env: Record<string, string> = {}) {
    const { stdout } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH!, ALBUMKIT_DATA_DIR: join(dir, 'pglite'), ALBUMKIT_PUBLIC_URL: 'https://albums.example.com/api/v1', ...env },
    });
    return stdout.trim();
  }

  it('sets up a host app on embedded PGlite: migrate, organization, user, secret, token', async () => {
    expect(await albumkit(['migrate'])).toBe(ALL_APPLIED);
    expect(await albumkit(['migrate'])).toBe('already up to date');
    const organization = await albumkit(['create-organization', 'Acme']);
    expect(organization).toMatch(/^[0-9a-f-]{36}$/);
    const user = await albumkit(['create-user', organization, '--sfid', '005000000000001']);
    expect(user).toMatch(/^[0-9a-f-]{36}$/);
    const secretUrl = await albumkit(['create-secret', organization]);
    expect(secretUrl).toMatch(/^sharinpix:\/\/[0-9a-f-]{36}:[\w-]{43}@albums\.example\.com\/api\/v1$/);
    const token = await albumkit(['token', user, '--abilities', '{"A":{"Access":{"see":true}}}'], { ALBUMKIT_SECRET: 'cli-test-secret-0123456789' });
    const { payload } = await jwtVerify(token, new TextEncoder().encode('cli-test-secret-0123456789'));
    expect(payload).toMatchObject({ user_id: user, abilities: { A: { Access: { see: true } } } });
    // Six processes, each opening the embedded PGlite database (several seconds each on a busy 2-core machine).
  }, 90_000);

  it('migrates a PostgreSQL database given by DATABASE_URL', async () => {
    const name = runDatabaseName('cli');
    const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      expect(await albumkit(['migrate'], { DATABASE_URL: databaseUrl(name) })).toBe(ALL_APPLIED);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('refuses unknown commands and missing arguments with exit code 2', async () => {
    await expect(albumkit(['frobnicate'])).rejects.toMatchObject({ code: 2 });
    await expect(albumkit(['create-user'])).rejects.toMatchObject({ code: 2 });
  });
});
