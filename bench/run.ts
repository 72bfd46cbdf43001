/**
 * `npm run bench [-- name …]`: runs every benchmark module in bench/ (or the named ones) and
 * writes docs/benchmarks.md with the machine and the date. Targets live here, never in timed
 * unit tests.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchModule, BenchSection } from './report.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort()
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));

const sections: BenchSection[] = [];
for (const file of modules) {
  process.stderr.write(`bench: ${file}\n`);
  const mod = (await import(`./${file}`)) as BenchModule;
  const section = await mod.run();
  sections.push(section);
  process.stderr.write(render([section]) + '\n');
}

function render(list: readonly BenchSection[]): string {
  const out: string[] = [];
  for (const s of list) {
    out.push(`## ${s.title}`, '', '| metric | measured | goal | met |', '|---|---|---|---|');
    for (const r of s.rows) {
      const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
      out.push(`| ${r.metric} | ${r.value} | ${r.goal ?? ''} | ${met} |`);
    }
    if (s.notes?.length) out.push('', ...s.notes.map((n) => `- ${n}`));
    out.push('');
  }
  return out.join('\n');
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (bench/run.ts); do not edit by hand.',
  '',
  `- Date: ${new Date().toISOString()}`,
  `- Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ${os.platform()} ${os.release()}`,
  `- Node ${process.version}`,
  '',
].join('\n');

if (wanted.length === 0) {
  writeFileSync(
    new URL('../docs/benchmarks.md', import.meta.url),
    header + '\n' + render(sections),
  );
  process.stderr.write('bench: wrote docs/benchmarks.md\n');
} else {
  process.stderr.write('bench: a filtered run does not rewrite docs/benchmarks.md\n');
}
