/**
 * Speed of the backtest on the suite's 2,000-partition, 30-day scenario (issue 12's target: all five
 * policies in at most 10 minutes on this machine).
 *
 *   npx tsx bench/scenarios/speed.ts --full                 # the real thing: the whole replay of all five policies,
 *                                                           # in parallel (one worker thread per core), wall time
 *   npx tsx bench/scenarios/speed.ts --full --workers 1     # the same, one policy after another in this thread
 *   npx tsx bench/scenarios/speed.ts                        # every policy to the end, one after another, CPU time
 *   npx tsx bench/scenarios/speed.ts --budget-minutes 4     # each policy for at most 4 CPU-minutes, then projected
 *   node_modules/.bin/node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/scenarios/speed.ts --budget-minutes 3
 *
 * `--full` measures what issue 12's target names: the wall time from the scenario's generation to the last
 * policy's result, with the policies replayed as `prestage backtest` replays them (`runBacktestInWorkers`,
 * longest first), plus the process's CPU time (worker threads included) and each policy's thread CPU and wall
 * time. Run it alone (`flock /tmp/prestage-heavy.lock …`): the load average at the start and the end is printed.
 *
 * Without `--full` each policy replays on its own; with a budget, a policy is stopped once its replay has used
 * that much CPU time and its full time is projected from the share of buckets done (planning cost per cycle is
 * about constant over a replay, so the projection is linear). Those times are CPU seconds of this process (user
 * + system), not wall time.
 * Writes bench/results/scenarios-speed.json (scenarios-speed-full.json with --full).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { runBacktestInWorkers } from '../../src/backtest-runner/parallel-backtest.ts';
import type { PolicyTiming } from '../../src/backtest-runner/worker-protocol.ts';
import { runBacktest } from '../../src/domain/simulation/backtest.ts';
import { productionDependencies } from '../../src/domain/simulation/default-dependencies.ts';
import { POLICY_NAMES, type PolicyName } from '../../src/domain/simulation/simulation-options.ts';
import { scenarioNamed } from './catalog.ts';
import { generateScenario } from './generate-scenario.ts';

/** Thrown from the progress callback to stop a policy at its budget. */
class BudgetSpent extends Error {
  constructor(readonly bucket: number) {
    super(`budget spent at bucket ${bucket}`);
  }
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

interface PolicySpeed {
  readonly policy: PolicyName;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly bucketsDone: number;
  readonly buckets: number;
  /** cpuSeconds scaled to every bucket (equal to cpuSeconds when the policy ran to the end). */
  readonly projectedCpuSeconds: number;
  readonly plannerSeconds?: number;
}

const machine = () =>
  `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const formatLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

/** The whole replay of every policy, as `prestage backtest` runs it: wall time is the figure. */
async function fullRun(scenario: string, policies: readonly PolicyName[], workers: number): Promise<void> {
  const spec = scenarioNamed(scenario);
  const loadAtStart = loadavg();
  const startedAt = new Date().toISOString();
  const wallStarted = performance.now();
  const cpuStarted = cpuSeconds();
  const { input, facts } = generateScenario(spec);
  const generationSeconds = (performance.now() - wallStarted) / 1000;
  process.stderr.write(
    `${spec.name}: ${spec.partitions} partitions × ${spec.regions} regions × ${spec.days} days, ` +
      `${input.topology.cells.length} cells, generated in ${generationSeconds.toFixed(1)} s; ` +
      `${policies.length} policies on ${workers} worker${workers === 1 ? '' : 's'}\n`,
  );
  const timings = new Map<PolicyName, PolicyTiming>();
  const lastReport = new Map<PolicyName, number>();
  await runBacktestInWorkers(input, {
    workers,
    policies,
    onProgress: (p) => {
      const now = performance.now();
      if (now - (lastReport.get(p.policy) ?? wallStarted) < 60_000) return;
      lastReport.set(p.policy, now);
      process.stderr.write(
        `  ${p.policy}: bucket ${p.bucket}/${p.buckets} at ${((now - wallStarted) / 1000).toFixed(0)} s\n`,
      );
    },
    onPolicyDone: (policy, timing) => {
      timings.set(policy, timing);
      process.stderr.write(
        `  ${policy} done on worker ${timing.worker}: ${timing.wallSeconds.toFixed(0)} s wall, ` +
          `${timing.cpuSeconds.toFixed(0)} CPU s, at ${((performance.now() - wallStarted) / 1000).toFixed(0)} s\n`,
      );
    },
  });
  const wallSeconds = (performance.now() - wallStarted) / 1000;
  const processCpuSeconds = cpuSeconds() - cpuStarted;
  const loadAtEnd = loadavg();
  const rows = policies.map((policy) => ({ policy, ...timings.get(policy)! }));
  // What the run would take with the cores to itself: each worker's policies back to back at their CPU time.
  const perWorker = new Map<number, number>();
  for (const row of rows) perWorker.set(row.worker, (perWorker.get(row.worker) ?? 0) + row.cpuSeconds);
  const criticalPathSeconds = generationSeconds + Math.max(...perWorker.values());
  const threadCpuSeconds = rows.reduce((sum, r) => sum + r.cpuSeconds, 0);
  process.stdout.write(
    `### speed, full replay: ${spec.name} (${spec.partitions} partitions × ${spec.regions} regions × ${spec.days} days, ` +
      `${input.topology.cells.length} cells, capacity ${facts.capacityOpsPerSec} ops/s), ${workers} worker${workers === 1 ? '' : 's'}\n` +
      `machine: ${machine()}\nstarted ${startedAt}; load average (1, 5, 15 min): ${formatLoad(loadAtStart)} at the start, ` +
      `${formatLoad(loadAtEnd)} at the end\n\n` +
      '| policy | worker | wall s | thread CPU s | CPU ÷ wall |\n|---|---:|---:|---:|---:|\n' +
      rows
        .map(
          (r) =>
            `| ${r.policy} | ${r.worker} | ${r.wallSeconds.toFixed(0)} | ${r.cpuSeconds.toFixed(0)} | ${(r.cpuSeconds / Math.max(r.wallSeconds, 1e-9)).toFixed(2)} |`,
        )
        .join('\n') +
      `\n\ngeneration ${generationSeconds.toFixed(1)} s; **all ${policies.length} policies: ${(wallSeconds / 60).toFixed(1)} min wall** ` +
      `(target ≤ 10), ${(processCpuSeconds / 60).toFixed(1)} CPU min (every thread of the process; the replays ` +
      `${(threadCpuSeconds / 60).toFixed(1)}); with the cores to itself (each worker's replays back to back at their ` +
      `thread CPU time, plus generation): ${(criticalPathSeconds / 60).toFixed(1)} min\n`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/scenarios-speed-full.json',
    `${JSON.stringify({ scenario: spec.name, machine: machine(), startedAt, workers, loadAverage: { start: loadAtStart, end: loadAtEnd }, generationSeconds, wallSeconds, processCpuSeconds, threadCpuSeconds, criticalPathSeconds, policies: rows }, null, 2)}\n`,
  );
  process.stdout.write('wrote bench/results/scenarios-speed-full.json\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'large-2000' },
      'budget-minutes': { type: 'string' },
      policies: { type: 'string' },
      full: { type: 'boolean', default: false },
      workers: { type: 'string' },
    },
  });
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`--workers is a positive integer, not ${values.workers}`);
  }
  if (values.full) {
    if (values['budget-minutes']) throw new RangeError('--full replays everything: drop --budget-minutes');
    const policies = (values.policies?.split(',') ?? POLICY_NAMES) as PolicyName[];
    return fullRun(values.scenario, policies, workers);
  }
  const budgetSeconds = values['budget-minutes']
    ? 60 * Number(values['budget-minutes'])
    : Number.POSITIVE_INFINITY;
  const policies = (values.policies?.split(',') ?? POLICY_NAMES) as PolicyName[];
  const spec = scenarioNamed(values.scenario);
  const loadAtStart = loadavg();
  let cpu = cpuSeconds();
  let wall = performance.now();
  const { input, facts } = generateScenario(spec);
  const generation = { cpuSeconds: cpuSeconds() - cpu, wallSeconds: (performance.now() - wall) / 1000 };
  process.stderr.write(
    `${spec.name}: ${spec.partitions} partitions × ${spec.regions} regions × ${spec.days} days, ` +
      `${input.topology.cells.length} cells, generated in ${generation.cpuSeconds.toFixed(1)} CPU s\n`,
  );
  const results: PolicySpeed[] = [];
  for (const policy of policies) {
    cpu = cpuSeconds();
    wall = performance.now();
    let bucketsDone = input.trace.bucketCount;
    let plannerSeconds: number | undefined;
    let lastReport = cpu;
    try {
      const result = runBacktest(input, productionDependencies(), {
        policies: [policy],
        onProgress: (p) => {
          const used = cpuSeconds() - cpu;
          if (cpuSeconds() - lastReport > 30) {
            lastReport = cpuSeconds();
            process.stderr.write(`  ${policy}: bucket ${p.bucket}/${p.buckets}, ${used.toFixed(0)} CPU s\n`);
          }
          if (used > budgetSeconds && p.bucket < p.buckets) throw new BudgetSpent(p.bucket);
        },
      });
      plannerSeconds = result.policies[policy]!.details.plannerMs / 1000;
    } catch (error) {
      if (!(error instanceof BudgetSpent)) throw error;
      bucketsDone = error.bucket;
    }
    const used = cpuSeconds() - cpu;
    const entry: PolicySpeed = {
      policy,
      cpuSeconds: used,
      wallSeconds: (performance.now() - wall) / 1000,
      bucketsDone,
      buckets: input.trace.bucketCount,
      projectedCpuSeconds: (used * input.trace.bucketCount) / Math.max(1, bucketsDone),
      plannerSeconds,
    };
    results.push(entry);
    process.stderr.write(
      `  ${policy}: ${bucketsDone}/${entry.buckets} buckets in ${used.toFixed(0)} CPU s ` +
        `(${entry.wallSeconds.toFixed(0)} s wall) → ${entry.projectedCpuSeconds.toFixed(0)} CPU s for the whole trace\n`,
    );
  }
  const projected = results.reduce((sum, r) => sum + r.projectedCpuSeconds, 0) + generation.cpuSeconds;
  const loadAtEnd = loadavg();
  const load = formatLoad;
  process.stdout.write(
    `### speed: ${spec.name} (${spec.partitions} partitions × ${spec.regions} regions × ${spec.days} days, ` +
      `${input.topology.cells.length} cells, capacity ${facts.capacityOpsPerSec} ops/s)\nmachine: ${machine()}\n` +
      `load average (1, 5, 15 min): ${load(loadAtStart)} at the start, ${load(loadAtEnd)} at the end\n\n` +
      '| policy | buckets replayed | CPU s | projected CPU s, whole trace |\n|---|---:|---:|---:|\n' +
      results
        .map(
          (r) =>
            `| ${r.policy} | ${r.bucketsDone} / ${r.buckets} | ${r.cpuSeconds.toFixed(0)} | ${r.projectedCpuSeconds.toFixed(0)} |`,
        )
        .join('\n') +
      `\n\ngeneration ${generation.cpuSeconds.toFixed(1)} CPU s; all five policies, projected: ${(projected / 60).toFixed(1)} CPU minutes (target ≤ 10)\n`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/scenarios-speed.json',
    `${JSON.stringify({ scenario: spec.name, machine: machine(), loadAverage: { start: loadAtStart, end: loadAtEnd }, budgetSeconds: String(budgetSeconds), generation, policies: results, projectedCpuSeconds: projected }, null, 2)}\n`,
  );
  process.stdout.write('wrote bench/results/scenarios-speed.json\n');
}

await main();
