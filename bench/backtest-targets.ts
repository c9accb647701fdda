/**
 * Backtest targets of the predictive policy (prestage) on the semi-synthetic traces, plus the
 * simulator's speed on a large trace.
 *
 * Traces (all semi-synthetic, from real NAB series; see data/traces/README.md):
 * - tweets-3region: the bundled trace (data/traces/tweets-3region), NAB Twitter volumes;
 * - taxi-3region: built on the fly by scripts/make-traces.ts from NAB nyc_taxi (different real series);
 * - speed: tweets recipe at 200 partitions × 56 days, all five policies, timed (skip with --no-speed).
 *
 * Targets (see src/domain/simulation/backtest-targets.ts): locality gap closed ≥ 90%, overload ≤ 0.3×
 * reactive, bytes moved under load ≤ 0.5× reactive, bytes moved ≤ 1.25× oracle, thrash < 5% of moves,
 * storage ≤ 0.6× replicate-all.
 *
 * Run: npx tsx bench/backtest-targets.ts   (writes bench/results/backtest-targets.json)
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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
import { runBacktestInWorkers } from '../src/backtest-runner/parallel-backtest.ts';
import type { BacktestOptions, BacktestResult } from '../src/domain/simulation/backtest.ts';
import { evaluateTargets, type TargetResult } from '../src/domain/simulation/backtest-targets.ts';
import type { ProfilerAndPlannerOptions } from '../src/domain/simulation/default-dependencies.ts';
import { readBacktestInput } from '../src/io/backtest-input.ts';
import {
  formatComparisonTable,
  formatTargets,
  formatTargetThreshold,
  formatTargetValue,
} from '../src/report/comparison-table.ts';

interface TraceRun {
  readonly name: string;
  readonly dir: string;
  readonly overrides?: { partitions?: number; days?: number };
}

/** Write a recipe's files to a temporary directory (the same files `make-traces` commits). */
function materialize(
  name: string,
  overrides: { partitions?: number; days?: number } = {},
  seedOffset = 0,
): string {
  const recipe = RECIPES.find((r) => r.name === name);
  if (!recipe) throw new Error(`no recipe ${name}`);
  const generated = generateTrace({ ...recipe, seed: recipe.seed + seedOffset }, overrides);
  const dir = join(mkdtempSync(join(tmpdir(), 'prestage-bench-')), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'trace.csv.gz'), gzipSync(traceCsv(generated), { level: 1 }));
  writeFileSync(join(dir, 'partitions.csv'), partitionsCsv(generated));
  writeFileSync(join(dir, 'relationships.csv'), relationshipsCsv(generated));
  writeFileSync(join(dir, 'topology.json'), JSON.stringify(buildTopology(generated)));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(metaJson(generated)));
  return dir;
}

/** One backtest of a trace directory, its policies on worker threads (the figures do not depend on it). */
async function replay(
  dir: string,
  label: string,
  options: BacktestOptions = {},
  brain: ProfilerAndPlannerOptions = {},
): Promise<{ result: BacktestResult; readMs: number; runMs: number }> {
  const started = performance.now();
  const { input } = readBacktestInput({
    trace: join(dir, 'trace.csv.gz'),
    partitions: join(dir, 'partitions.csv'),
    topology: join(dir, 'topology.json'),
    relationships: join(dir, 'relationships.csv'),
  });
  const readMs = performance.now() - started;
  let last = '';
  const result = await runBacktestInWorkers(input, {
    ...options,
    dependencies: brain,
    onProgress: (p) => {
      if (p.bucket === p.buckets && p.policy !== last) {
        last = p.policy;
        process.stderr.write(
          `  ${label}: ${p.policy} done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
        );
      }
    },
  });
  return { result, readMs, runMs: performance.now() - started - readMs };
}

const speed = !process.argv.includes('--no-speed');
const seedsAt = process.argv.indexOf('--seeds');
const seeds = seedsAt >= 0 ? Number(process.argv[seedsAt + 1]) : 0;
if (!(Number.isInteger(seeds) && seeds >= 0))
  throw new Error('--seeds expects a whole number of extra seeds');
const runs: TraceRun[] = [
  { name: 'tweets-3region', dir: 'data/traces/tweets-3region' },
  { name: 'taxi-3region', dir: materialize('taxi-3region') },
];

const report: Record<string, unknown> = { traces: {} };
const summary: { trace: string; target: TargetResult }[] = [];
for (const run of runs) {
  process.stdout.write(`\n### ${run.name} (semi-synthetic)\n`);
  const { result, readMs, runMs } = await replay(run.dir, run.name);
  const t = result.trace;
  process.stdout.write(
    `${t.partitions} partitions × ${t.regions.length} regions × ${t.buckets} buckets of ${t.bucketMs / 60_000} min, ` +
      `${t.cells} cells; read ${(readMs / 1000).toFixed(1)} s, 5 policies ${(runMs / 1000).toFixed(1)} s\n\n`,
  );
  process.stdout.write(formatComparisonTable(result));
  const metrics = Object.fromEntries(Object.entries(result.policies).map(([k, v]) => [k, v.metrics]));
  const targets = evaluateTargets(metrics);
  process.stdout.write(`\n${formatTargets(targets)}`);
  for (const target of targets) summary.push({ trace: run.name, target });
  // Sensitivity: what the predictive policy feeds the planner (the default: mean + q0.9 as forecastUpper,
  // correlation 1, floored by the last hour's observation) and the planner's optional hot-move rule.
  const variants: { label: string; options: BacktestOptions; brain?: ProfilerAndPlannerOptions }[] = [
    { label: 'mean forecast', options: { planningQuantile: 'mean' } },
    { label: 'q0.9 in forecast (margin 1)', options: { planningMargin: 1 } },
    { label: 'upper, independent (ρ = 0)', options: {}, brain: { planner: { upperCorrelation: 0 } } },
    { label: 'hot-move rule at 0.7', options: {}, brain: { planner: { hotMoveUtilization: 0.7 } } },
    { label: 'no burst growth', options: { burstGrowth: false } },
  ];
  const sensitivity: Record<string, unknown> = {};
  process.stdout.write('\nsensitivity of predictive to what it plans on (targets vs the baselines above):\n');
  for (const variant of variants) {
    const other = await replay(
      run.dir,
      `${run.name} ${variant.label}`,
      { ...variant.options, policies: ['predictive'] },
      variant.brain,
    );
    const p = other.result.policies.predictive!;
    const vTargets = evaluateTargets({ ...metrics, predictive: p.metrics });
    process.stdout.write(
      `  ${variant.label.padEnd(30)} cells avg ${p.details.cellsInServiceAvg.toFixed(1)}  ${vTargets
        .map((t) => `${t.id} ${formatTargetValue(t)}${t.pass === false ? ' FAIL' : ''}`)
        .join(', ')}\n`,
    );
    sensitivity[variant.label] = { metrics: p.metrics, details: p.details, targets: vTargets };
  }
  (report.traces as Record<string, unknown>)[run.name] = {
    semiSynthetic: true,
    partitions: t.partitions,
    buckets: t.buckets,
    bucketSeconds: t.bucketMs / 1000,
    readSeconds: readMs / 1000,
    runSeconds: runMs / 1000,
    policies: metrics,
    details: Object.fromEntries(Object.entries(result.policies).map(([k, v]) => [k, v.details])),
    targets,
    sensitivity,
  };
}

if (seeds > 0) await seedSweep(seeds);

/**
 * The tweets recipe drawn again with other seeds (other regional splits, sizes, groups and placements of the
 * same real series): overload is a handful of burst events per trace, so one trace's ratio swings with any
 * change; the pooled ratios (sums over the seeds) say whether an effect is real.
 */
async function seedSweep(count: number): Promise<void> {
  process.stdout.write(`\n### seed sweep: tweets recipe, seeds +1..+${count} (semi-synthetic)\n`);
  const pooled = { overload: [0, 0, 0], moved: [0, 0], underLoad: [0, 0] };
  const perSeed: Record<string, unknown>[] = [];
  process.stdout.write(
    'seed  overload pred/react (ratio)  without burst growth  bytesMoved pred/oracle  underLoad pred/react  targets passed\n',
  );
  for (let k = 1; k <= count; k++) {
    const dir = materialize('tweets-3region', {}, k);
    const { result } = await replay(dir, `seed +${k}`, { policies: ['reactive', 'oracle', 'predictive'] });
    const without = await replay(dir, `seed +${k} no burst growth`, {
      policies: ['predictive'],
      burstGrowth: false,
    });
    const m = Object.fromEntries(Object.entries(result.policies).map(([name, v]) => [name, v.metrics]));
    const plain = without.result.policies.predictive!.metrics;
    const targets = evaluateTargets(m);
    const [pred, react, oracle] = [m.predictive!, m.reactive!, m.oracle!];
    pooled.overload[0] += pred.overloadCellMinutes;
    pooled.overload[1] += react.overloadCellMinutes;
    pooled.overload[2] += plain.overloadCellMinutes;
    pooled.moved[0] += pred.bytesMoved;
    pooled.moved[1] += oracle.bytesMoved;
    pooled.underLoad[0] += pred.bytesMovedUnderLoad;
    pooled.underLoad[1] += react.bytesMovedUnderLoad;
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    process.stdout.write(
      `+${k}    ${pred.overloadCellMinutes.toFixed(0)}/${react.overloadCellMinutes.toFixed(0)} (${ratio(pred.overloadCellMinutes, react.overloadCellMinutes)})` +
        `${' '.repeat(14)}${plain.overloadCellMinutes.toFixed(0)} (${ratio(plain.overloadCellMinutes, react.overloadCellMinutes)})` +
        `${' '.repeat(12)}${ratio(pred.bytesMoved, oracle.bytesMoved)}${' '.repeat(20)}${ratio(pred.bytesMovedUnderLoad, react.bytesMovedUnderLoad)}` +
        `${' '.repeat(18)}${targets.filter((t) => t.pass).length}/${targets.filter((t) => t.pass !== undefined).length}\n`,
    );
    perSeed.push({ seedOffset: k, policies: m, withoutBurstGrowth: plain, targets });
  }
  const pooledRatios = {
    overloadVsReactive: pooled.overload[0] / pooled.overload[1],
    overloadWithoutBurstGrowthVsReactive: pooled.overload[2] / pooled.overload[1],
    bytesMovedVsOracle: pooled.moved[0] / pooled.moved[1],
    bytesMovedUnderLoadVsReactive: pooled.underLoad[0] / pooled.underLoad[1],
  };
  process.stdout.write(
    `pooled: overload ${pooledRatios.overloadVsReactive.toFixed(3)}× reactive (without burst growth ` +
      `${pooledRatios.overloadWithoutBurstGrowthVsReactive.toFixed(3)}×), bytes moved ${pooledRatios.bytesMovedVsOracle.toFixed(2)}× oracle, ` +
      `under load ${pooledRatios.bytesMovedUnderLoadVsReactive.toFixed(2)}× reactive\n`,
  );
  report.seedSweep = { seeds: count, perSeed, pooled: pooledRatios };
}

if (speed) {
  process.stdout.write('\n### speed: tweets recipe at 200 partitions × 56 days, 5 policies\n');
  const dir = materialize('tweets-3region', { partitions: 200, days: 56 });
  const { result, readMs, runMs } = await replay(dir, 'speed');
  const perPolicy = Object.fromEntries(
    Object.entries(result.policies).map(([k, v]) => [
      k,
      { seconds: v.details.simulationMs / 1000, plannerSeconds: v.details.plannerMs / 1000 },
    ]),
  );
  process.stdout.write(
    `${result.trace.partitions} partitions × ${result.trace.buckets} buckets: read ${(readMs / 1000).toFixed(1)} s, ` +
      `replay ${(runMs / 1000).toFixed(1)} s (${Object.entries(perPolicy)
        .map(([k, v]) => `${k} ${v.seconds.toFixed(1)} s`)
        .join(', ')})\n`,
  );
  report.speed = {
    partitions: result.trace.partitions,
    buckets: result.trace.buckets,
    readSeconds: readMs / 1000,
    replaySeconds: runMs / 1000,
    perPolicy,
  };
}

process.stdout.write('\n### summary\n');
const names = [...new Set(summary.map((s) => s.target.id))];
const header = ['target', 'threshold', ...runs.map((r) => r.name)];
const rows = names.map((id) => {
  const cells = runs.map((run) => {
    const target = summary.find((s) => s.trace === run.name && s.target.id === id)!.target;
    return `${formatTargetValue(target)} ${target.pass === undefined ? 'n/a' : target.pass ? 'PASS' : 'FAIL'}`;
  });
  const any = summary.find((s) => s.target.id === id)!.target;
  return [id, formatTargetThreshold(any), ...cells];
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const row of [header, ...rows])
  process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
const passed = summary.filter((s) => s.target.pass).length;
process.stdout.write(`\n${passed} of ${summary.length} target checks pass\n`);
report.summary = { passed, total: summary.length };
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/backtest-targets.json', `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write('wrote bench/results/backtest-targets.json\n');
