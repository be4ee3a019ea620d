import { afterAll, describe, expect, it } from 'vitest';
import { adapterContract, adapterErrors, snapshots } from './support/contract.js';
import { MOUNTS } from './support/mounts.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on('unhandledRejection', onUnhandled);
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe.each(MOUNTS.map((m) => [`${m.name}${m.hostParsers ? ' behind host body parsers' : ''}`, m] as const))('%s', (_name, mount) => {
  adapterContract(mount);
});

describe('all adapters', () => {
  it('give identical status, headers and JSON for every case', () => {
    expect(snapshots.size).toBeGreaterThan(10);
    for (const [name, byMount] of snapshots) {
      const [first, ...rest] = [...byMount.entries()];
      expect(byMount.size, name).toBe(MOUNTS.length);
      for (const [mount, snapshot] of rest) expect(snapshot, `${name}: ${mount} vs ${first![0]}`).toEqual(first![1]);
    }
  });

  it('logged no unexpected error and left no unhandled rejection', () => {
    for (const [mount, errors] of adapterErrors) expect(errors, mount).toEqual([]);
    expect(unhandled).toEqual([]);
  });
});
