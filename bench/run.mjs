// `npm run bench`: runs every bench/*.bench.mjs in its own process, then assembles BENCHMARKS.md
// from the reports they wrote to bench/results/.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { machineLine } from './machine.mjs';

const only = process.argv.slice(2);
mkdirSync('bench/results', { recursive: true });
for (const file of readdirSync('bench').filter((f) => f.endsWith('.bench.mjs')).sort()) {
  if (only.length && !only.some((o) => file.includes(o))) continue;
  console.log(`\n=== ${file}`);
  execFileSync(process.execPath, [`bench/${file}`], { stdio: 'inherit' });
}
const sections = readdirSync('bench/results')
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => readFileSync(`bench/results/${f}`, 'utf8').trim());
writeFileSync(
  'BENCHMARKS.md',
  `# Benchmarks\n\nProduced by \`npm run bench\` (\`npm run bench -- <name>\` runs only the benches whose file name\ncontains it): each section says when and on what it last ran; assembled ${machineLine()}.\nTargets are for this 2-core machine; nothing here is asserted by the tests.\n\n${sections.join('\n\n')}\n`,
);
console.log('\nwrote BENCHMARKS.md');
