// The facts every benchmark report starts with: machine, runtime, date.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machine() {
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    date: new Date().toISOString().slice(0, 10),
    cpu,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    node: process.version,
  };
}

export function machineLine() {
  const m = machine();
  return `${m.date}, ${m.cores} cores (${m.cpu}), ${m.memory}, Node ${m.node}`;
}

/** A markdown table from rows of cells. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
