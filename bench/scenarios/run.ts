/**
 * The held-out scenario suite (issue 12): every policy on every scenario of one half, judged on every target.
 *
 *   npm run bench -- scenarios                      # the reporting half (the large scenario excluded)
 *   npm run bench -- scenarios --half tuning        # the half constants may be tuned on
 *   npm run bench -- scenarios --quick              # three small scenarios of the half, for development
 *   npm run bench -- scenarios --only tight,roomy   # named scenarios, whatever their half
 *   npm run bench -- scenarios --large              # the half including the 2,000-partition scenario
 *   npm run bench -- scenarios --write-reference    # also record today's predictive in reference.json
 *   npx tsx bench/scenarios/run.ts --render bench/results/scenarios-reporting.json   # re-judge a recorded run
 *   npm run bench -- scenarios --policies predictive --baseline FILE.json   # replay predictive only; the
 *       other policies' figures come from a recorded run of the same scenarios (same code for them)
 *   npm run bench -- scenarios --out FILE.json      # where the JSON result goes
 *   npm run bench -- scenarios --workers 1          # the policies one after another (default: in parallel, one
 *       worker thread per core, longest first; the figures are the same either way)
 *   npm run bench -- scenarios --policies static,reactive,replicate-all,oracle --out base.json   # record a baseline
 *   npm run bench -- scenarios --scale-in off       # predictive without the forecast-driven scale-in (before issue 12's)
 *   npm run bench -- scenarios --scale-in '{"utilization":0.7}'   # scale-in knobs (tune on --half tuning only)
 *   npm run bench -- scenarios --measure-error-correlation   # predictive plans on the measured correlation of
 *       forecast errors between partitions (SimulationOptions.measureErrorCorrelation) instead of upperCorrelation
 *   npm run bench -- scenarios --simulation '{"planningQuantile":0.97}'   # other simulation options (JSON)
 *   npm run bench -- scenarios --planner '{"retainColdCopies":true}'   # planner options for every policy (the
 *       same PlannerOptions `prestage backtest --planner` takes; tune on --half tuning only)
 *
 * Progress goes to stderr; the markdown tables to stdout; the JSON result to
 * bench/results/scenarios-<half>[-quick|-only].json. The bytes-moved target compares against
 * bench/scenarios/reference.json (today's predictive, per scenario); a scenario without a reference has
 * that target unevaluated.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type ParallelBacktestOptions,
  runBacktestInWorkers,
} from '../../src/backtest-runner/parallel-backtest.ts';
import { type PlannerOptions, resolvePlannerOptions } from '../../src/domain/planning/planner-options.ts';
import type { ScaleInOptions } from '../../src/domain/planning/scale-in.ts';
import {
  POLICY_NAMES,
  type PolicyName,
  type SimulationOptions,
} from '../../src/domain/simulation/simulation-options.ts';
import { type Half, halfOf, LARGE_SCENARIOS, scenarioNamed, scenariosOf } from './catalog.ts';
import { generateScenario } from './generate-scenario.ts';
import { formatFailures, formatPolicyFigures, formatSuiteTable, type ScenarioRow } from './report.ts';
import type { ScenarioSpec } from './scenario-spec.ts';
import {
  evaluateScenario,
  localityGapClosed,
  type PredictiveReference,
  policyFigures,
  type ScenarioFigures,
  summarizeHalf,
} from './suite-targets.ts';

const here = dirname(fileURLToPath(import.meta.url));
const REFERENCE_PATH = join(here, 'reference.json');
/** How many scenarios `--quick` runs: the cheapest of the half (partitions × regions × days). */
const QUICK_COUNT = 3;

interface ReferenceFile {
  readonly description: string;
  readonly commit: string;
  readonly recordedAt: string;
  readonly scenarios: Record<string, PredictiveReference>;
}

function selectScenarios(options: {
  half: Half;
  only?: string;
  quick: boolean;
  large: boolean;
}): ScenarioSpec[] {
  if (options.only) return options.only.split(',').map((name) => scenarioNamed(name.trim()));
  const half = scenariosOf(options.half).filter((s) => options.large || !LARGE_SCENARIOS.has(s.name));
  if (!options.quick) return half;
  const cost = (s: ScenarioSpec) => s.partitions * s.regions * s.days;
  return [...half].sort((a, b) => cost(a) - cost(b) || a.name.localeCompare(b.name)).slice(0, QUICK_COUNT);
}

function readReference(): ReferenceFile | undefined {
  return existsSync(REFERENCE_PATH)
    ? (JSON.parse(readFileSync(REFERENCE_PATH, 'utf8')) as ReferenceFile)
    : undefined;
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/**
 * CPU seconds of this process (user + system, its worker threads included): on a shared machine, wall time
 * measures the neighbours.
 */
function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

type BaselineFile = { scenarios: { name: string; policies: ScenarioFigures }[] };

async function runScenario(
  spec: ScenarioSpec,
  policies: readonly PolicyName[],
  baseline: BaselineFile | undefined,
  /** How every policy is replayed: workers, simulation options, planner options (from the flags). */
  replay: ParallelBacktestOptions,
): Promise<{
  figures: ScenarioFigures;
  seconds: number;
  cpuSeconds: number;
  facts: Record<string, unknown>;
}> {
  const started = performance.now();
  const cpuStarted = cpuSeconds();
  const log = (text: string) =>
    process.stderr.write(
      `  ${spec.name}: ${text} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
    );
  const generated = generateScenario(spec);
  const { facts, input } = generated;
  log(
    `${spec.partitions} partitions × ${spec.regions} regions × ${spec.days} days, ${input.topology.cells.length} cells ` +
      `at ${facts.capacityOpsPerSec} ops/s, ${facts.bursts.length} bursts, generated`,
  );
  let lastTenth = -1;
  const recorded = baseline?.scenarios.find((s) => s.name === spec.name)?.policies;
  if (baseline && !recorded) throw new RangeError(`the baseline has no scenario '${spec.name}'`);
  const result = await runBacktestInWorkers(input, {
    ...replay,
    policies,
    onProgress: (p) => {
      const tenth = Math.floor((10 * p.bucket) / p.buckets);
      if (tenth !== lastTenth && (tenth === 10 || p.bucket % 8 === 0)) {
        lastTenth = tenth;
        if (tenth === 10) log(`${p.policy} done`);
        else if (tenth > 0 && p.buckets > 2000) log(`${p.policy} ${tenth * 10}%`);
      }
    },
  });
  const figures = Object.fromEntries(
    POLICY_NAMES.flatMap((name) => {
      const own = result.policies[name];
      if (own) return [[name, policyFigures(own)]];
      return recorded ? [[name, recorded[name]]] : [];
    }),
  ) as Record<PolicyName, ReturnType<typeof policyFigures>>;
  const p = result.policies.predictive;
  if (p) {
    const oracle = figures.oracle;
    log(
      `predictive: cells ${p.details.cellsInServiceAvg.toFixed(2)}${oracle ? ` (oracle ${oracle.cellsInServiceAvg.toFixed(2)})` : ''}, ` +
        `overload ${p.metrics.overloadCellMinutes.toFixed(0)} cell-min, remote ${(100 * p.metrics.remoteShare).toFixed(2)}%, ` +
        `${(p.metrics.bytesMoved / 2 ** 30).toFixed(0)} GiB moved, thrash ${p.metrics.thrashMoves}, ` +
        `scale-ins ${p.details.cellsScaledIn ?? '-'}, flaps ${p.details.scaleFlaps ?? '-'}`,
    );
  }
  return {
    figures,
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSeconds() - cpuStarted,
    facts: {
      cells: input.topology.cells.length,
      cellsPerRegion: Object.fromEntries(facts.regions.map((r, i) => [r.name, facts.cellsPerRegion[i]])),
      capacityOpsPerSec: facts.capacityOpsPerSec,
      fairSharePeakOpsPerSec: facts.fairSharePeakOpsPerSec,
      bursts: facts.bursts.length,
      misplaced: facts.misplaced,
      clampedPartitions: facts.clampedPartitions,
      peakDemandOpsPerSec: result.trace.peakDemandOpsPerSec,
      meanDemandOpsPerSec: result.trace.meanDemandOpsPerSec,
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      half: { type: 'string', default: 'reporting' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      large: { type: 'boolean', default: false },
      'write-reference': { type: 'boolean', default: false },
      render: { type: 'string' },
      policies: { type: 'string' },
      baseline: { type: 'string' },
      'scale-in': { type: 'string' },
      planner: { type: 'string' },
      'measure-error-correlation': { type: 'boolean', default: false },
      simulation: { type: 'string' },
      out: { type: 'string' },
      workers: { type: 'string' },
    },
  });
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1)
    throw new RangeError(`--workers is a positive integer, not ${values.workers}`);
  if (values.half !== 'tuning' && values.half !== 'reporting') {
    throw new RangeError(`--half is tuning or reporting, not ${values.half}`);
  }
  const half = values.half as Half;
  const policies = values.policies
    ? values.policies.split(',').map((name) => {
        const policy = name.trim() as PolicyName;
        if (!POLICY_NAMES.includes(policy)) throw new RangeError(`unknown policy '${name}'`);
        return policy;
      })
    : POLICY_NAMES;
  const baseline = values.baseline
    ? (JSON.parse(readFileSync(values.baseline, 'utf8')) as BaselineFile)
    : undefined;
  const scaleInArg = values['scale-in'];
  const scaleIn: ScaleInOptions | false | undefined =
    scaleInArg === undefined
      ? undefined
      : scaleInArg === 'off'
        ? false
        : (JSON.parse(scaleInArg) as ScaleInOptions);
  const planner = values.planner === undefined ? undefined : (JSON.parse(values.planner) as PlannerOptions);
  // Fails here, naming the option, rather than in a worker half-way through the suite.
  if (planner) resolvePlannerOptions(planner);
  const simulation =
    values.simulation === undefined ? {} : (JSON.parse(values.simulation) as Partial<SimulationOptions>);
  const replay: ParallelBacktestOptions = {
    workers,
    ...simulation,
    ...(scaleIn !== undefined && { scaleIn }),
    ...(values['measure-error-correlation'] && { measureErrorCorrelation: true }),
    ...(planner && { dependencies: { planner } }),
  };
  // A subset without a baseline only records its policies (for a later --baseline): no targets.
  const partial = policies.length < POLICY_NAMES.length && !baseline;
  if (partial && !values.out) throw new RangeError('--policies without --baseline needs --out FILE.json');
  const selected = selectScenarios({ half, only: values.only, quick: values.quick, large: values.large });
  const reference = readReference();
  const suiteStarted = performance.now();
  const runs: {
    spec: ScenarioSpec;
    figures: ScenarioFigures;
    seconds: number;
    cpuSeconds: number;
    facts: Record<string, unknown>;
  }[] = [];
  if (values.render) {
    // Re-judge and re-print recorded runs (no replay): the figures are kept, the targets recomputed. Several files
    // (comma-separated) are merged per scenario, later ones' policies over earlier ones': a baseline recorded with
    // --policies and a run of the others.
    for (const file of values.render.split(',')) {
      const recorded = JSON.parse(readFileSync(file, 'utf8')) as {
        scenarios: {
          name: string;
          spec?: ScenarioSpec;
          policies: ScenarioFigures;
          seconds?: number;
          cpuSeconds: number;
          facts?: Record<string, unknown>;
        }[];
      };
      for (const s of recorded.scenarios) {
        const seen = runs.find((run) => run.spec.name === s.name);
        if (seen) {
          seen.figures = { ...seen.figures, ...s.policies };
          seen.cpuSeconds += s.cpuSeconds;
          seen.seconds += s.seconds ?? s.cpuSeconds;
          continue;
        }
        runs.push({
          spec: s.spec ?? scenarioNamed(s.name),
          figures: s.policies,
          seconds: s.seconds ?? s.cpuSeconds,
          cpuSeconds: s.cpuSeconds,
          facts: s.facts ?? {},
        });
      }
    }
  } else {
    for (const [i, spec] of selected.entries()) {
      process.stderr.write(
        `[${i + 1}/${selected.length}] ${spec.name} (${halfOf(spec)} half): ${spec.summary}\n`,
      );
      runs.push({
        spec,
        ...(await runScenario(spec, policies, baseline, replay)),
      });
    }
  }

  if (partial) {
    const file = {
      partial: true,
      policies,
      command: `npm run bench -- scenarios ${process.argv.slice(2).join(' ')}`.trim(),
      commit: gitCommit(),
      scenarios: runs.map((run) => ({
        name: run.spec.name,
        spec: run.spec,
        facts: run.facts,
        seconds: run.seconds,
        cpuSeconds: run.cpuSeconds,
        policies: run.figures,
      })),
    };
    writeFileSync(values.out!, `${JSON.stringify(file, null, 2)}\n`);
    process.stdout.write(
      `wrote ${values.out} (${policies.join(', ')} only: for --baseline, or --render with the others)\n`,
    );
    return;
  }
  let referenceScenarios = reference?.scenarios ?? {};
  if (values['write-reference']) {
    // Re-read: another half may have recorded its scenarios while this one ran.
    referenceScenarios = { ...readReference()?.scenarios };
    for (const run of runs) {
      referenceScenarios[run.spec.name] = {
        bytesMoved: run.figures.predictive.metrics.bytesMoved,
        remoteShare: run.figures.predictive.metrics.remoteShare,
        localityGapClosed: localityGapClosed(run.figures),
      };
    }
    const file: ReferenceFile = {
      description:
        "Today's predictive policy per scenario (bytes moved, remote share, locality gap closed): the reference of " +
        "the bytes-moved target of issue 12 ('at most 0.5 × what today's predictive moves, at equal or better locality').",
      commit: gitCommit(),
      recordedAt: new Date().toISOString(),
      scenarios: Object.fromEntries(
        Object.entries(referenceScenarios).sort(([a], [b]) => a.localeCompare(b)),
      ),
    };
    writeFileSync(REFERENCE_PATH, `${JSON.stringify(file, null, 2)}\n`);
    process.stderr.write(`wrote ${REFERENCE_PATH}\n`);
  }

  const evaluated = runs.map((run) => {
    const ref = referenceScenarios[run.spec.name];
    return { ...run, reference: ref, targets: evaluateScenario(run.figures, ref) };
  });
  const summary = summarizeHalf(
    evaluated.map((run) => ({ name: run.spec.name, figures: run.figures, reference: run.reference })),
  );
  const rows: ScenarioRow[] = evaluated.map((run) => ({
    name: run.spec.name,
    shape: `${run.spec.partitions}p × ${run.spec.regions}r × ${run.spec.days}d`,
    figures: run.figures,
    targets: run.targets,
    seconds: run.seconds,
    cpuSeconds: run.cpuSeconds,
  }));
  const label = values.render
    ? `re-rendered from ${values.render}`
    : values.only
      ? 'selected scenarios'
      : `${half} half${values.quick ? ' (quick)' : ''}`;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
  const totalSeconds = (performance.now() - suiteStarted) / 1000;
  const totalCpuSeconds = runs.reduce((sum, run) => sum + run.cpuSeconds, 0);
  process.stdout.write(
    `### scenario suite: ${label}, ${runs.length} scenarios, ${totalCpuSeconds.toFixed(0)} CPU s (${totalSeconds.toFixed(0)} s wall)\n` +
      `machine: ${machine}\n\n`,
  );
  process.stdout.write(formatSuiteTable(rows, summary));
  process.stdout.write(`\n${formatFailures(summary)}\n`);
  process.stdout.write(formatPolicyFigures(rows));
  if (values.render) return;

  const suffix = (values.only ? '-only' : values.quick ? '-quick' : '') + (values.policies ? '-subset' : '');
  const out = values.out ?? join('bench', 'results', `scenarios-${half}${suffix}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        half: values.only ? undefined : half,
        selection: label,
        command: `npm run bench -- scenarios ${process.argv.slice(2).join(' ')}`.trim(),
        machine,
        commit: gitCommit(),
        totalSeconds,
        totalCpuSeconds,
        referenceCommit: reference?.commit,
        scenarios: evaluated.map((run) => ({
          name: run.spec.name,
          half: halfOf(run.spec),
          spec: run.spec,
          facts: run.facts,
          seconds: run.seconds,
          cpuSeconds: run.cpuSeconds,
          policies: run.figures,
          reference: run.reference,
          targets: run.targets,
        })),
        pooled: summary.pooled,
        worst: summary.worst,
      },
      (_, value) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value),
      2,
    )}\n`,
  );
  process.stdout.write(`\nwrote ${out}\n`);
}

await main();
