/**
 * Retained copies (issue 12): what keeping a move's source as a cold copy, and moving back to it for the delta,
 * does to bytes moved and stored bytes, on a semi-synthetic trace.
 *
 * Runs replicate-all (the storage reference), then the predictive policy with copies off (every move copies the
 * whole partition and removes its source: the planner before issue 12) and with the planner's defaults, and
 * prints bytes moved (on vs off, target ≤ 0.5×), remote share (equal or better), and stored bytes, cold copies
 * included, against replicate-all (target ≤ 0.6×).
 *
 * Run: npx tsx bench/retained-copies.ts [tweets-3region|taxi-3region] [--seed N] [--planner '{"coldCopyMaxAgeMs":…}']
 * tweets-3region is the bundled trace; taxi-3region (and tweets with --seed) are generated as make-traces does.
 */
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  buildTopology,
  generateTrace,
  metaJson,
  partitionsCsv,
  RECIPES,
  relationshipsCsv,
  traceCsv,
} from '../scripts/make-traces.ts';
import type { PlannerOptions } from '../src/domain/planning/planner-options.ts';
import { runBacktest } from '../src/domain/simulation/backtest.ts';
import { productionDependencies } from '../src/domain/simulation/default-dependencies.ts';
import type { PolicyResult } from '../src/domain/simulation/simulation-options.ts';
import { readBacktestInput } from '../src/io/backtest-input.ts';

const args = process.argv.slice(2);
const trace = args.find((a) => !a.startsWith('--') && !/^[{\d-]/.test(a)) ?? 'tweets-3region';
const seedAt = args.indexOf('--seed');
const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 0;
const plannerAt = args.indexOf('--planner');
const planner: PlannerOptions = plannerAt >= 0 ? JSON.parse(args[plannerAt + 1]) : {};

function traceDir(): string {
  const bundled = join('data/traces', trace);
  if (seed === 0 && existsSync(join(bundled, 'trace.csv.gz'))) return bundled;
  const recipe = RECIPES.find((r) => r.name === trace);
  if (!recipe)
    throw new Error(`no recipe '${trace}'; expected one of ${RECIPES.map((r) => r.name).join(', ')}`);
  const generated = generateTrace({ ...recipe, seed: recipe.seed + seed }, {});
  const dir = join(mkdtempSync(join(tmpdir(), 'prestage-retained-')), trace);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trace.csv.gz'), gzipSync(traceCsv(generated), { level: 1 }));
  writeFileSync(join(dir, 'partitions.csv'), partitionsCsv(generated));
  writeFileSync(join(dir, 'relationships.csv'), relationshipsCsv(generated));
  writeFileSync(join(dir, 'topology.json'), JSON.stringify(buildTopology(generated)));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(metaJson(generated)));
  return dir;
}

const dir = traceDir();
const { input } = readBacktestInput({
  trace: join(dir, 'trace.csv.gz'),
  partitions: join(dir, 'partitions.csv'),
  topology: join(dir, 'topology.json'),
  relationships: join(dir, 'relationships.csv'),
});
const run = (policy: 'replicate-all' | 'predictive', options: PlannerOptions): PolicyResult => {
  const started = performance.now();
  const result = runBacktest(input, productionDependencies({ planner: options }), { policies: [policy] });
  process.stderr.write(
    `  ${policy} ${JSON.stringify(options)}: ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  return result.policies[policy]!;
};

const GiB = 2 ** 30;
const replicated = run('replicate-all', {});
const off = run('predictive', { ...planner, retainColdCopies: false });
const on = run('predictive', planner);
const line = (label: string, r: PolicyResult) =>
  `${label.padEnd(24)} moved ${(r.metrics.bytesMoved / GiB).toFixed(0).padStart(6)} GiB  remote ${(r.metrics.remoteShare * 100).toFixed(2)}%  ` +
  `stored ${(r.metrics.storedBytesAvg / GiB).toFixed(0).padStart(5)} GiB (cold ${(r.details.coldCopyBytesAvg / GiB).toFixed(0)})  ` +
  `moves ${r.metrics.moves} (delta ${r.details.deltaMoves}, copies dropped ${r.details.coldCopiesDropped})  ` +
  `overload ${r.metrics.overloadCellMinutes.toFixed(0)} cell-min  cells ${r.details.cellsInServiceAvg.toFixed(1)}\n`;
process.stdout.write(
  `\n${trace}${seed ? ` seed +${seed}` : ''} (semi-synthetic), planner ${JSON.stringify(planner)}\n`,
);
process.stdout.write(line('replicate-all', replicated));
process.stdout.write(line('predictive, copies off', off));
process.stdout.write(line('predictive, copies on', on));
const movedRatio = on.metrics.bytesMoved / off.metrics.bytesMoved;
const storedRatio = on.metrics.storedBytesAvg / replicated.metrics.storedBytesAvg;
const locality = on.metrics.remoteShare <= off.metrics.remoteShare + 1e-9;
process.stdout.write(
  `bytes moved ${movedRatio.toFixed(2)}× of copies off (target ≤ 0.5×: ${movedRatio <= 0.5 ? 'PASS' : 'FAIL'}), ` +
    `locality ${locality ? 'equal or better' : 'WORSE'}; stored ${storedRatio.toFixed(2)}× replicate-all ` +
    `(target ≤ 0.6×: ${storedRatio <= 0.6 ? 'PASS' : 'FAIL'})\n`,
);
