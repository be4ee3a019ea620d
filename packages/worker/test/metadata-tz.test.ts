import { readFileSync, readdirSync } from 'node:fs';
import exifr from 'exifr';
import { afterAll, describe, expect, it } from 'vitest';
import { extractMetadata } from '../src/metadata/index.js';

/**
 * `takenAt` must not depend on the server's time zone. Node applies a change of
 * `process.env.TZ` to the Date computations that follow, so the same files are read under two
 * zones in turn (each run is checked to really be in that zone) and the results compared.
 */
const dir = new URL('../../../test/fixtures/photos/', import.meta.url);
const facts = JSON.parse(readFileSync(new URL('facts.json', dir), 'utf8')) as Record<string, { expected_taken_at_utc?: string }>;
const names = readdirSync(dir).filter((n) => !/\.(json|md)$/.test(n));
const originalTz = process.env.TZ;

afterAll(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

async function takenAtUnder(tz: string, winterOffsetMinutes: number): Promise<Record<string, string | null>> {
  process.env.TZ = tz;
  expect(new Date(2020, 0, 15, 12).getTimezoneOffset()).toBe(winterOffsetMinutes); // the zone is really in effect
  const out: Record<string, string | null> = {};
  for (const name of names) out[name] = (await extractMetadata(new Uint8Array(readFileSync(new URL(name, dir))))).takenAt?.toISOString() ?? null;
  return out;
}

describe('takenAt and the process time zone', () => {
  it('is the same under America/Los_Angeles and Asia/Tokyo, and equals ExifTool-derived UTC', async () => {
    const losAngeles = await takenAtUnder('America/Los_Angeles', 480);
    const tokyo = await takenAtUnder('Asia/Tokyo', -540);
    expect(tokyo).toEqual(losAngeles);
    for (const name of names) expect(losAngeles[name], name).toBe(facts[name]!.expected_taken_at_utc ?? null);
  });

  it('would differ with exifr revived dates (why they are parsed by hand)', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('canon-dslr.jpg', dir)));
    const revived = async (tz: string) => {
      process.env.TZ = tz;
      return ((await exifr.parse(bytes, { pick: ['DateTimeOriginal'] })) as { DateTimeOriginal: Date }).DateTimeOriginal.toISOString();
    };
    expect(await revived('America/Los_Angeles')).not.toBe(await revived('Asia/Tokyo'));
  });
});
