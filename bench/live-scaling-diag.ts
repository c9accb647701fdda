/**
 * `npx tsx bench/live-scaling-diag.ts [--counted]`: why `prestage up` and its backtest scale differently. Replays the
 * backtest's predictive policy on the bundled trace (the live run's window, hourly planning, 2 h horizon, scaled as
 * `up` scales: scalingInput) and, at each of its planning cycles, runs the profiler's `checkCapacity` on the same
 * forecasts (as score records, the placement before the plan, the rule's memory carried from cycle to cycle as the
 * profiler keeps it). Prints, per cycle with a due shortfall on either side: the simulator's due shortfalls (region:
 * cells@minutes to the latest start), its priced verdicts (benefit b against cost c, USD), the profiler's, and a
 * count of cycles and buys on each side. --counted: the forecasters fed what `up`'s recorders count (the counted
 * sample, as bench/live-observation.ts), else the exact trace.
 */
import { join } from 'node:path';
import type { MovementPlan, PlannerInput } from '../src/domain/planning/movement-plan.ts';
import { plannedMeanPeak, plannedUpperPeak, type ScoreRecord } from '../src/domain/scoring/score-record.ts';
import { prepareBacktest } from '../src/domain/simulation/backtest.ts';
import { ClusterSimulator } from '../src/domain/simulation/cluster-simulator.ts';
import { productionDependencies } from '../src/domain/simulation/default-dependencies.ts';
import type { DemandTrace } from '../src/domain/simulation/demand-trace.ts';
import { PlannerPolicy } from '../src/domain/simulation/planner-policy.ts';
import type { ClusterView } from '../src/domain/simulation/policy-driver.ts';
import { planningBuckets } from '../src/domain/simulation/replay-context.ts';
import { scalingInput } from '../src/live/live-backtest.ts';
import { chooseWindow, readLiveInput } from '../src/live/live-input.ts';
import { LIVE_PLANNER_LIMITS } from '../src/live/live-run.ts';
import { liveScalingSettings } from '../src/live/live-scaling-settings.ts';
import { countedSamplerFor, DEFAULT_CARRIERS_PER_SECOND } from '../src/live/request-sampler.ts';
import { checkCapacity } from '../src/profiler/predictive-scaling.ts';
import { countedDemand } from './sampled-demand.ts';

const HOUR = 3_600_000;
const dir = 'data/traces/tweets-3region';
const live = readLiveInput({
  trace: join(dir, 'trace.csv.gz'),
  partitions: join(dir, 'partitions.csv'),
  topology: join(dir, 'topology.json'),
});
const base = scalingInput(live.input);
const window0 = chooseWindow(live.input, {});
function observedBy(): DemandTrace {
  const sampler = countedSamplerFor(base.trace, window0, HOUR, DEFAULT_CARRIERS_PER_SECOND);
  return countedDemand(base.trace, sampler);
}
const input = process.argv.includes('--counted') ? { ...base, observedTrace: observedBy() } : base;
const window = chooseWindow(live.input, {});
const settings = liveScalingSettings(live.input.topology);
const options = prepareBacktest(input, {
  warmupMs: window.warmupMs,
  planningIntervalMs: HOUR,
  horizonMs: 2 * HOUR,
  plannerLimits: LIVE_PLANNER_LIMITS,
  policies: ['predictive'],
});
const deps = productionDependencies();
let last: { input: PlannerInput; plan: MovementPlan } | undefined;
const planMoves = deps.planMoves;
const wrapped = {
  ...deps,
  planMoves: (i: PlannerInput) => {
    const plan = planMoves(i);
    last = { input: i, plan };
    return plan;
  },
};
const planEvery = planningBuckets(options.planningIntervalMs, input.trace.bucketMs);
const policy = new PlannerPolicy('predictive', input, wrapped, options, planEvery);
const decide = policy.decide.bind(policy);
let memory: { shortRegions: readonly string[] } | undefined;
let oneCycle = 0,
  twoCycle = 0,
  profilerBuys = 0,
  simBuys = 0,
  profilerDue = 0;
const startMs = window.startMs;
policy.decide = (view: ClusterView) => {
  const d = decide(view);
  if (!last || view.nowMs < startMs) return d;
  const { input: pi, plan } = last;
  const next = view.nowMs + planEvery * input.trace.bucketMs;
  const seen = plan.capacityForecast.filter((s) => s.scaleOutByMs <= next && s.cellsNeeded > 0);
  if (seen.length) oneCycle++;
  const a = policy.scaleOutAssessments();
  if (a.length) twoCycle++;
  if (d.scaleOut.length) simBuys++;
  // The profiler's checkCapacity on the same forecasts, placement before the plan.
  const records: ScoreRecord[] = pi.partitions.map((p) => ({
    partition: p.id,
    cell: p.cell,
    affinity: p.affinity ?? 0,
    predictionVector: {},
    confidence: 1,
    peakStep: 0,
    peakOpsPerSec: 0,
    models: [],
    writeFraction: p.writeFraction,
    sizeBytes: p.sizeBytes,
    stepSeconds: pi.stepSeconds,
    forecastStartMs: view.nowMs,
    mean: Object.fromEntries(Object.entries(p.forecast).map(([r, v]) => [r, Array.from(v)])),
    upper: Object.fromEntries(
      Object.entries(p.forecastUpper ?? p.forecast).map(([r, v]) => [r, Array.from(v)]),
    ),
    upperLevel: 0.9,
    observedOpsPerSec: {},
    scoredAtMs: view.nowMs,
    cycleId: 'c',
    expiresAt: 0,
  }));
  const cells = view.topology.cells.map((c) => ({
    id: c.id,
    region: c.region,
    capacityOpsPerSec: c.capacityOpsPerSec,
    capacityBytes: c.capacityBytes,
    status: view.cellStatus[c.id] ?? 'ACTIVE',
  }));
  const check = checkCapacity(records, cells, {
    ...(memory && { previous: memory }),
    nowMs: view.nowMs,
    stepSeconds: pi.stepSeconds,
    bufferMs: HOUR,
    provisionMs: settings.provisionMinutes * 60_000,
    migrationBandwidthBytesPerSec: input.topology.migrationBandwidthBytesPerSec,
    scaleIn: {},
    scaleOut: {},
  });
  memory = { shortRegions: check.shortRegions };
  // What capacity planned on, summed over every partition (as the live shortfall log's `hosted`, all regions).
  if (process.argv.includes('--totals') && new Date(view.nowMs).getUTCHours() % 6 === 3) {
    let meanPeak = 0;
    let upperPeak = 0;
    for (const r of records) {
      meanPeak += plannedMeanPeak(r);
      upperPeak += plannedUpperPeak(r);
    }
    console.log(
      new Date(view.nowMs).toISOString().slice(0, 16),
      `totals mean-peak ${meanPeak.toFixed(0)} upper-peak ${upperPeak.toFixed(0)}`,
    );
  }
  const pdue = check.scaleOuts.length + check.declinedScaleOuts.length;
  if (pdue) profilerDue++;
  if (check.scaleOuts.length) profilerBuys++;
  if (seen.length || pdue)
    console.log(
      new Date(view.nowMs).toISOString().slice(0, 16),
      'sim-seen',
      seen
        .map((s) => `${s.region}:${s.cellsNeeded}@${((s.scaleOutByMs - view.nowMs) / 60000).toFixed(0)}m`)
        .join(','),
      '| sim-priced',
      a.map((x) => `${x.region}:${x.cells} b=${x.benefitUsd.toFixed(3)} c=${x.costUsd.toFixed(3)}`).join(','),
      '| prof-due',
      [...check.scaleOuts, ...check.declinedScaleOuts]
        .map((x) => `${x.region}:${x.cells} b=${x.benefitUsd?.toFixed(3)} c=${x.costUsd?.toFixed(3)}`)
        .join(','),
      '| prof-shortfalls',
      check.shortfalls
        .map((s) => `${s.region}@${((s.scaleOutByMs - view.nowMs) / 60000).toFixed(0)}m`)
        .join(','),
    );
  return d;
};
const result = new ClusterSimulator(input, 'predictive', policy, options).run();
console.log({
  cycles: policy.plannerCalls,
  oneCycle,
  twoCycle,
  simBuys,
  profilerDue,
  profilerBuys,
  cellsAvg: result.details.cellsInServiceAvg,
  added: result.metrics.cellsAdded,
});
