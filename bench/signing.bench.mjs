// Signed delivery URLs per second: albumkit's DeliveryUrlSigner against the cloudinary SDK's
// `cloudinary.v2.url` (default configuration with object transformations, and the call that gives
// the very same URLs: `raw_transformation` + `urlAnalytics: false`). Same inputs for all three:
// the seven renditions of RENDITIONS over 64 public ids. Each variant gets a warm-up, then
// ~2 s measured in four interleaved 0.5 s rounds (A B C, C B A, ...) so that drift hits all alike.
//
//   (cd packages/core && npx tsup) && node bench/signing.bench.mjs
//
// Writes bench/results/signing.md.
import { writeFileSync, mkdirSync } from 'node:fs';
import cloudinary from 'cloudinary';
import { DeliveryUrlSigner, RENDITIONS } from '@albumkit/core';
import { machineLine, table } from './machine.mjs';

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 500);
const ROUNDS = 4;
const cloudName = 'sadaasdasd';
const apiSecret = 'bench-cloudinary-api-secret';
const version = '1554745132';

cloudinary.v2.config({ cloud_name: cloudName, api_key: '123123123123', api_secret: apiSecret, secure: true });
const signer = new DeliveryUrlSigner({ cloudName, apiSecret, deliveryPrefix: 'https://res.cloudinary.com' });

/** The renditions as the SDK's documented object form: one object per `/`-separated component. */
const OBJECT_FORM = {
  original: [{ flags: 'attachment' }, { dpr: 'auto', quality: 'auto', fetch_format: 'auto' }],
  full: [{ crop: 'fit', height: 1920, width: 1920 }, { flags: 'attachment' }, { dpr: 'auto', quality: 'auto', fetch_format: 'auto' }],
  large: [
    { crop: 'fit', height: 1920, width: 1920 },
    { crop: 'fill', height: 200, width: 200 },
    { flags: 'attachment' },
    { dpr: 'auto', quality: 'auto', fetch_format: 'auto' },
  ],
  mini: [
    { crop: 'fit', height: 1920, width: 1920 },
    { crop: 'fill', height: 100, width: 100 },
    { flags: 'attachment' },
    { dpr: 'auto', quality: 'auto', fetch_format: 'auto' },
  ],
  download: [{ flags: 'attachment' }],
  fit300: [{ crop: 'fit', width: 300 }],
  fit2000: [{ crop: 'fit', height: 2000, width: 2000 }],
};

const names = Object.keys(RENDITIONS);
const publicIds = Array.from({ length: 64 }, (_, i) => `bench${i.toString(36)}x${(i * 7919).toString(36)}q`);
const inputs = publicIds.flatMap((publicId) => names.map((name) => ({ publicId, name, raw: RENDITIONS[name], objects: OBJECT_FORM[name] })));

const variants = {
  albumkit: (x) => signer.url({ publicId: x.publicId, version, type: 'authenticated' }, x.raw),
  'SDK, default config (object transformation, analytics on)': (x) =>
    cloudinary.v2.url(x.publicId, { type: 'authenticated', sign_url: true, version, format: 'jpg', transformation: x.objects }),
  'SDK, raw_transformation + urlAnalytics: false': (x) =>
    cloudinary.v2.url(x.publicId, { type: 'authenticated', sign_url: true, version, format: 'jpg', raw_transformation: x.raw, urlAnalytics: false }),
};
const [A, SDK_DEFAULT, SDK_RAW] = Object.keys(variants);

// 1. Same URLs? Every input, albumkit against the raw SDK call; and what the default call gives.
let equal = 0;
for (const x of inputs) if (variants[A](x) === variants[SDK_RAW](x)) equal++;
const sample = inputs.find((x) => x.name === 'full');
const sampleUrls = Object.fromEntries(Object.entries(variants).map(([name, fn]) => [name, fn(sample)]));

// 2. Throughput.
let sink = 0;
function runFor(fn, ms) {
  let ops = 0;
  const started = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < inputs.length; i++) sink += fn(inputs[i]).length;
    ops += inputs.length;
    elapsed = performance.now() - started;
  } while (elapsed < ms);
  return { ops, ms: elapsed };
}
for (const fn of Object.values(variants)) runFor(fn, 300); // warm-up (JIT)
const totals = Object.fromEntries(Object.keys(variants).map((k) => [k, { ops: 0, ms: 0 }]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? Object.keys(variants).reverse() : Object.keys(variants);
  for (const name of order) {
    const r = runFor(variants[name], ROUND_MS);
    totals[name].ops += r.ops;
    totals[name].ms += r.ms;
  }
}
const rate = (name) => totals[name].ops / (totals[name].ms / 1000);
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ratioDefault = rate(A) / rate(SDK_DEFAULT);
const ratioRaw = rate(A) / rate(SDK_RAW);

const rows = Object.keys(variants).map((name) => [
  name,
  fmt(rate(name)),
  ((totals[name].ms * 1000) / totals[name].ops).toFixed(3),
  name === A ? '1×' : `${(rate(A) / rate(name)).toFixed(1)}× slower than albumkit`,
]);
const okRate = rate(A) >= 500_000;
const okRatio = ratioDefault >= 20;
const report = `## Signed delivery URLs

${machineLine()}. cloudinary SDK ${cloudinary.v2.utils?.VERSION ?? (await import('cloudinary/package.json', { with: { type: 'json' } })).default.version}.
One op = one signed \`authenticated\` URL; inputs cycle over the ${names.length} renditions of \`RENDITIONS\` × ${publicIds.length} public ids.
Warm-up 0.3 s each, then ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per variant (${(ROUNDS * ROUND_MS) / 1000} s each), same process.

Same URLs: albumkit and \`cloudinary.v2.url(..., {raw_transformation, urlAnalytics: false})\` gave
byte-identical URLs for ${equal} of ${inputs.length} inputs. The default SDK call gives different
URLs for the same renditions (its object form sorts \`dpr_auto,f_auto,q_auto\`, so the signature
differs, and analytics appends \`?_a=...\`), e.g. for \`full\`:

- albumkit: \`${sampleUrls[A]}\`
- SDK default: \`${sampleUrls[SDK_DEFAULT]}\`
- SDK raw: \`${sampleUrls[SDK_RAW]}\`

${table(['variant', 'URLs / s', 'µs / URL', 'relative'], rows)}

Targets: ≥ 500,000 URLs/s — ${okRate ? 'met' : 'missed'} (${fmt(rate(A))}); ≥ 20× the default SDK call — ${okRatio ? 'met' : 'missed'} (${ratioDefault.toFixed(1)}×; ${ratioRaw.toFixed(1)}× the raw SDK call).
`;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/signing.md', import.meta.url), report);
console.log(report);
if (sink === 42) console.log('');
process.exit(0);
