import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../packages/core/test/support/postgres.js';
import { REDIS_URL, uniquePrefix } from '../../packages/worker/test/support/redis.js';
import { freePort, until } from '../faults/support.js';

/**
 * The Express example (`examples/express/server.mjs`, on the built packages) as an operator uses
 * it: probes open, metrics and the bull-board queue dashboard behind ALBUMKIT_OPS_TOKEN (401
 * without a credential, 403 with a wrong one), the dashboard listing albumkit's queues.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OPS_TOKEN = 'ops-token-for-the-express-example';

describe('Express example: health, metrics and bull-board behind the ops token', () => {
  let child: ChildProcess;
  let output = '';
  let base: string;
  let closeDb: () => Promise<void>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    const database = await createTestDatabase();
    closeDb = database.close;
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['HOST', 'ALBUMKIT_PUBLIC_URL', 'ALBUMKIT_DATA_DIR', 'ALBUMKIT_WORKERS']) delete env[name];
    Object.assign(env, {
      PORT: String(port),
      DATABASE_URL: database.url,
      REDIS_URL,
      ALBUMKIT_QUEUE_PREFIX: prefix,
      ALBUMKIT_SECRET: 'a-secret-of-the-express-example',
      CLOUDINARY_URL: 'cloudinary://123456789012345:example-secret@demo',
      ALBUMKIT_OPS_TOKEN: OPS_TOKEN,
    });
    child = spawn(process.execPath, ['examples/express/server.mjs'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    await until(() => /listening on http:\/\//.test(output) || child.exitCode !== null, 50_000, `the example to listen:\n${output}`);
    if (child.exitCode !== null) throw new Error(`the example exited:\n${output}`);
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await closeDb?.();
  });

  const basic = (password: string) => `Basic ${Buffer.from(`operator:${password}`).toString('base64')}`;

  it('serves liveness and readiness without a token, outside /api/v1', async () => {
    const live = await fetch(`${base}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'live' });
    // Ready once its worker and connections are up (right after start, on a loaded machine, not yet).
    let ready = await fetch(`${base}/readyz`);
    for (let i = 0; i < 60 && ready.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      ready = await fetch(`${base}/readyz`);
    }
    const report = (await ready.json()) as { status: string; checks: Record<string, unknown> };
    expect([ready.status, report.status]).toEqual([200, 'ready']);
    expect(Object.keys(report.checks).sort()).toEqual(['database', 'queue_lag', 'redis', 'worker']);
  });

  it('refuses the dashboard and the metrics without the ops token (401) and with a wrong one (403)', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/metrics']) {
      const none = await fetch(`${base}${path}`);
      expect([path, none.status]).toEqual([path, 401]);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="albumkit operations"/);
      const wrong = await fetch(`${base}${path}`, { headers: { Authorization: 'Bearer not-the-ops-token-at-all' } });
      expect([path, wrong.status]).toEqual([path, 403]);
      const wrongBasic = await fetch(`${base}${path}`, { headers: { Authorization: basic(`${OPS_TOKEN}x`) } });
      expect([path, wrongBasic.status]).toEqual([path, 403]);
    }
  });

  it('shows albumkit queues in bull-board with the ops token (Bearer, or the Basic password a browser sends)', async () => {
    const page = await fetch(`${base}/admin/queues`, { headers: { Authorization: basic(OPS_TOKEN) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const api = await fetch(`${base}/admin/queues/api/queues`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string }[] };
    expect(queues.map((q) => q.name).sort()).toEqual([`${prefix}-import`, `${prefix}-metadata`, `${prefix}-notification`, `${prefix}-purge`, `${prefix}-webhook`]);
  });

  it('serves Prometheus metrics with the ops token, queue depths included', async () => {
    const response = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${OPS_TOKEN}` } });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toContain(`albumkit_queue_jobs{queue="${prefix}-notification",state="waiting"} 0`);
    expect(text).toContain('# TYPE albumkit_http_requests_total counter');
    // Requests to the operations routes are not API requests: not counted as such.
    expect(text).not.toMatch(/albumkit_http_requests_total\{[^}]*route="\/healthz"/);
  });
});
