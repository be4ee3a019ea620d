import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRun } from './postgres.js';

/**
 * Once per `vitest run`: a run of its own on the shared PostgreSQL (template database named
 * after the run, see postgres.ts) and a temporary directory of its own, which the test workers
 * (forked after this, with this environment) and their children get as `TMPDIR`. Tools that
 * write to fixed paths under the temporary directory (@sparticuz/chromium inflates its browser
 * to `<tmpdir>/chromium`) then never share them with another run. Both go at teardown; those
 * of runs that died are removed by the next run.
 */
const TEMP_PREFIX = 'albumkit-run-';

export default async function setup(): Promise<() => Promise<void>> {
  const base = tmpdir();
  // Listed before the run looks at which runs are alive: a directory made after that is a live run's.
  const candidates = readdirSync(base).filter((name) => name.startsWith(TEMP_PREFIX));
  const run = await startRun();
  const live = await run.liveRuns();
  for (const name of candidates) {
    if (!live.has(name.slice(TEMP_PREFIX.length))) rmSync(join(base, name), { recursive: true, force: true });
  }
  const temp = join(base, `${TEMP_PREFIX}${run.name}`);
  mkdirSync(temp);
  chmodSync(temp, 0o1777); // as /tmp: the fault tests run PostgreSQL as its own user in directories under it
  process.env.TMPDIR = temp;

  return async () => {
    try {
      await run.end();
    } finally {
      rmSync(temp, { recursive: true, force: true });
    }
  };
}
