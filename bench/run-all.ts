/**
 * `npm run bench [-- name ...]`: runs each benchmark in its own process (so memory figures are not shared),
 * one after another (timings on a 2-core machine are not meaningful in parallel).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run-all.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
/** Benchmarks that live in a folder of their own, by name: `npm run bench -- scenarios`. */
const IN_FOLDERS: Record<string, string> = {
  scenarios: 'scenarios/run',
  'scenarios-speed': 'scenarios/speed',
};
available.push(...Object.keys(IN_FOLDERS));
/** Run only when named: the speed probe replays the 2,000-partition scenario to the end (many CPU minutes). */
const ON_REQUEST = new Set(['scenarios-speed']);
/** Short names: `npm run bench -- cutover`. */
const ALIASES: Record<string, string> = { cutover: 'cutover-unavailability' };
// Names first, then options passed to every selected benchmark: `npm run bench -- scenarios --half tuning`.
const firstOption = process.argv.findIndex((arg, i) => i >= 2 && arg.startsWith('--'));
const passedOptions = firstOption >= 0 ? process.argv.slice(firstOption) : [];
const requested = process.argv
  .slice(2, firstOption >= 0 ? firstOption : undefined)
  .map((name) => ALIASES[name] ?? name);
const unknown = requested.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}\n`);
  process.exit(2);
}
const selected = requested.length > 0 ? requested : available.filter((name) => !ON_REQUEST.has(name));
const cpu = cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  `# prestage benchmarks\nmachine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n\n`,
);
let failed = 0;
for (const name of selected) {
  const file = `${IN_FOLDERS[name] ?? name}.ts`;
  process.stdout.write(`## ${name}  (npx tsx bench/${file}${passedOptions.map((o) => ` ${o}`).join('')})\n`);
  const started = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, file), ...passedOptions], {
    stdio: 'inherit',
  });
  process.stdout.write(
    `(${name}: exit ${child.status}, ${((Date.now() - started) / 1000).toFixed(1)} s)\n\n`,
  );
  if (child.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
