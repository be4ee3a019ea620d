// EXIF/GPS extraction: albumkit's `extractMetadata(buffer)` (@albumkit/worker, bytes in memory)
// against ExifTool kept running (`exiftool -stay_open True -@ -`, driven through stdin/stdout with
// `-json -n` and `-execute<n>`, reading `{ready<n>}`), over the photo corpus test/fixtures/photos.
// First checks that both give the same GPS (1e-6) and DateTimeOriginal, and albumkit's taken_at
// against facts.json; then times each file with both, interleaved file by file.
//
//   (cd packages/worker && npx tsup) && node bench/exif.bench.mjs
//
// Needs `exiftool` on the PATH (Debian: libimage-exiftool-perl). Writes bench/results/exif.md.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extractMetadata } from '@albumkit/worker';
import { machineLine, table } from './machine.mjs';

const ALBUMKIT_RUNS = Number(process.env.BENCH_EXIF_RUNS ?? 200);
const EXIFTOOL_RUNS = Number(process.env.BENCH_EXIFTOOL_RUNS ?? 20);

const dir = new URL('../test/fixtures/photos/', import.meta.url);
const facts = JSON.parse(readFileSync(new URL('facts.json', dir), 'utf8'));
const files = readdirSync(dir)
  .filter((f) => /\.(jpe?g|png|tiff?|heic|avif)$/i.test(f))
  .sort()
  .map((name) => ({ name, path: fileURLToPath(new URL(name, dir)), bytes: readFileSync(new URL(name, dir)) }));

// ---------------------------------------------------------------- ExifTool, stay_open
class ExifTool {
  constructor() {
    this.proc = spawn('exiftool', ['-stay_open', 'True', '-@', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.buffer = '';
    this.seq = 0;
    this.pending = null;
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (chunk) => {
      this.buffer += chunk;
      const marker = `{ready${this.seq}}`;
      const at = this.buffer.indexOf(marker);
      if (at >= 0 && this.pending) {
        const out = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + marker.length).replace(/^\r?\n/, '');
        const { resolve } = this.pending;
        this.pending = null;
        resolve(out);
      }
    });
    this.proc.stderr.on('data', () => {});
    this.version = null;
  }
  /** One command: its arguments, one per line, then `-execute<n>`; resolves with its stdout. */
  run(args) {
    this.seq++;
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.proc.stdin.write(`${args.join('\n')}\n-execute${this.seq}\n`);
    });
  }
  async read(path) {
    // -G: keys carry their group (EXIF:DateTimeOriginal, Composite:GPSLatitude, XMP:...).
    return JSON.parse(await this.run(['-json', '-n', '-G', path]))[0];
  }
  async close() {
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.proc.stdin.write('-stay_open\nFalse\n');
    this.proc.stdin.end();
    await exited;
  }
}

if (spawnSync('exiftool', ['-ver']).error) {
  console.error('exif.bench: exiftool is not on the PATH; install it (Debian: apt-get install -y libimage-exiftool-perl) and run again');
  process.exit(1);
}
const exiftool = new ExifTool();
const exiftoolVersion = (await exiftool.run(['-ver'])).trim();

// ---------------------------------------------------------------- same answers?
const close = (a, b) => a !== undefined && b !== undefined && Math.abs(a - b) <= 1e-6;
const checks = [];
for (const file of files) {
  const ours = await extractMetadata(file.bytes);
  const theirs = await exiftool.read(file.path);
  const fact = facts[file.name] ?? {};
  const ourGps = ours.gpsExifs;
  // Composite:GPSLatitude/Longitude are the signed values (south and west negative).
  const lat = theirs['Composite:GPSLatitude'];
  const lng = theirs['Composite:GPSLongitude'];
  const theirGps = lat !== undefined && lng !== undefined ? [lat, lng] : null;
  const gps =
    ourGps === null && theirGps === null
      ? 'none (both)'
      : ourGps && theirGps && close(ourGps[0], theirGps[0]) && close(ourGps[1], theirGps[1])
        ? 'same'
        : `DIFFERENT (albumkit ${JSON.stringify(ourGps)}, exiftool ${JSON.stringify(theirGps)})`;
  const ourDate = ours.exifs.DateTimeOriginal;
  // The EXIF group's date, as facts.json records it; a date only in XMP is noted, not compared.
  const theirDate = theirs['EXIF:DateTimeOriginal'];
  const otherDates = Object.keys(theirs).filter((k) => k.endsWith(':DateTimeOriginal') && k !== 'EXIF:DateTimeOriginal');
  const date =
    ourDate === undefined && theirDate === undefined
      ? 'none (both)'
      : String(ourDate) === String(theirDate)
        ? 'same'
        : `DIFFERENT (albumkit ${JSON.stringify(ourDate)}, exiftool ${JSON.stringify(theirDate)})`;
  const dateNote = otherDates.length ? ` (ExifTool also finds ${otherDates.map((k) => `${k} ${JSON.stringify(theirs[k])}`).join(', ')}; not EXIF, not read by albumkit)` : '';
  const expected = fact.expected_taken_at_utc ?? null;
  const got = ours.takenAt ? ours.takenAt.toISOString() : null;
  const takenAt = expected === got ? (got ? 'as facts.json' : 'none (as facts.json)') : `DIFFERENT (albumkit ${got}, facts ${expected})`;
  checks.push({ file: file.name, gps, date: date + dateNote, takenAt });
}

// ---------------------------------------------------------------- timing, file by file, interleaved
const timings = [];
for (const file of files) {
  // Warm-up of both on this file.
  for (let i = 0; i < 20; i++) await extractMetadata(file.bytes);
  for (let i = 0; i < 3; i++) await exiftool.read(file.path);
  const ours = [];
  const theirs = [];
  // Alternate: a tenth of albumkit's runs, one exiftool run, and so on.
  const perSlice = Math.max(1, Math.round(ALBUMKIT_RUNS / EXIFTOOL_RUNS));
  for (let slice = 0; slice < EXIFTOOL_RUNS; slice++) {
    for (let i = 0; i < perSlice; i++) {
      const t = performance.now();
      await extractMetadata(file.bytes);
      ours.push(performance.now() - t);
    }
    const t = performance.now();
    await exiftool.read(file.path);
    theirs.push(performance.now() - t);
  }
  timings.push({ file: file.name, size: file.bytes.length, ours, theirs });
}
await exiftool.close();

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs, p) => Float64Array.from(xs).sort()[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const ms = (x) => (x < 0.1 ? x.toFixed(3) : x.toFixed(2));
const totalOurs = timings.reduce((n, t) => n + mean(t.ours), 0);
const totalTheirs = timings.reduce((n, t) => n + mean(t.theirs), 0);
const slowest = timings.reduce((a, t) => (mean(t.ours) > mean(a.ours) ? t : a));
const worstSingle = Math.max(...timings.map((t) => Math.max(...t.ours)));
const ratio = totalTheirs / totalOurs;
const agree = checks.every((c) => !/DIFFERENT/.test(c.gps + c.date + c.takenAt));

const report = `## EXIF/GPS extraction

${machineLine()}. ExifTool ${exiftoolVersion} (\`-stay_open True -@ -\`, one process kept open, \`-json -n\` per file; it reads
the file from disk, in the page cache) against albumkit's \`extractMetadata(buffer)\` on bytes already in memory.
Per file: ${ALBUMKIT_RUNS} albumkit runs and ${EXIFTOOL_RUNS} ExifTool runs, interleaved, after a warm-up; means shown.

Same answers (GPS to 1e-6 against ExifTool's Composite GPSLatitude/GPSLongitude, DateTimeOriginal against its EXIF:DateTimeOriginal; albumkit's taken_at against facts.json): ${agree ? 'all files agree' : 'SOME FILES DIFFER'}.

${table(['file', 'GPS', 'DateTimeOriginal', 'taken_at'], checks.map((c) => [c.file, c.gps, c.date, c.takenAt]))}

${table(
  ['file', 'bytes', 'albumkit ms (mean)', 'albumkit p99 ms', 'exiftool ms (mean)', 'exiftool / albumkit'],
  [
    ...timings.map((t) => [t.file, t.size.toLocaleString('en-US'), ms(mean(t.ours)), ms(quantile(t.ours, 0.99)), ms(mean(t.theirs)), `${(mean(t.theirs) / mean(t.ours)).toFixed(0)}×`]),
    ['**total (one pass over the corpus)**', timings.reduce((n, t) => n + t.size, 0).toLocaleString('en-US'), ms(totalOurs), '', ms(totalTheirs), `${ratio.toFixed(0)}×`],
  ],
)}

Targets: ≥ 50× ExifTool — ${ratio >= 50 ? 'met' : 'missed'} (${ratio.toFixed(0)}× over the corpus); no single file over 5 ms — ${mean(slowest.ours) <= 5 ? 'met' : 'missed'} on the mean per file (slowest: ${slowest.file}, ${ms(mean(slowest.ours))} ms); ${worstSingle <= 5 ? 'and' : 'but'} the slowest single run took ${ms(worstSingle)} ms (${timings.reduce((n, t) => n + t.ours.filter((x) => x > 5).length, 0)} of ${timings.reduce((n, t) => n + t.ours.length, 0)} runs over 5 ms).
`;
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/exif.md', import.meta.url), report);
console.log(report);
process.exit(0);
