import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forecastCapacity } from '../../../src/domain/planning/capacity-forecast.ts';
import type { MovementPlan, PlannerInput } from '../../../src/domain/planning/movement-plan.ts';
import type {
  CellSnapshot,
  ProfilerCycleRepository,
  ScaleInRequest,
  ScaleOutRequest,
} from '../../../src/domain/profiling/ports.ts';
import type { ScoreRecord } from '../../../src/domain/scoring/score-record.ts';
import { withUpperPeaks } from '../../../src/domain/scoring/score-record.ts';
import { prepareBacktest } from '../../../src/domain/simulation/backtest.ts';
import { ClusterSimulator } from '../../../src/domain/simulation/cluster-simulator.ts';
import { PlannerPolicy } from '../../../src/domain/simulation/planner-policy.ts';
import type { ClusterView } from '../../../src/domain/simulation/policy-driver.ts';
import type { SimulationDependencies } from '../../../src/domain/simulation/simulation-options.ts';
import { finishCycle } from '../../../src/profiler/cycle-completion.ts';
import { cycleIdFor } from '../../../src/profiler/profiler-cycle.ts';
import { resolveProfilerOptions } from '../../../src/profiler/profiler-options.ts';
import { localDynamo } from '../../support/local-tables.ts';
import {
  buildInput,
  HOUR,
  lastValueForecaster,
  twoRegionTopology,
} from '../domain/simulation/simulation-fixtures.ts';
import { profilerFixture } from './profiler-harness.ts';

/**
 * The simulator's predictive policy and the profiler decide scale-outs and scale-ins with one rule
 * (domain/scaling/shortfall-trigger.ts): fed the same forecasts, cycle after cycle, they decide the same. The
 * simulator runs a trace; each of its planning cycles is then handed to the profiler's cycle finish as score
 * records (the same mean and upper forecasts, the same cells), on dynalite, whose Coordination table carries the
 * rule's memory from one cycle to the next as it does in AWS.
 */

const PROVISION_MS = 5 * 60_000;
/** East carries 1300 ops/s on 2 cells of 1000 (1600 usable); a 1-hour spike to 1900 and a 5-hour rise to 1900. */
function eastDemand(hour: number): number {
  if (hour === 30) return 1900;
  if (hour >= 36 && hour < 41) return 1900;
  return hour >= 44 ? 200 : 1300;
}

interface Cycle {
  readonly view: ClusterView;
  /** What the policy planned on this cycle: each partition's cell, mean and upper forecast (capacity's). */
  readonly partitions: readonly {
    readonly id: string;
    readonly cell: string;
    readonly sizeBytes: number;
    readonly writeFraction?: number;
    readonly mean: Record<string, number[]>;
    readonly upper: Record<string, number[]>;
  }[];
  readonly scaleOuts: string[];
  readonly scaleIns: string[];
}

const copyOf = (series: Readonly<Record<string, ArrayLike<number>>>) =>
  Object.fromEntries(Object.entries(series).map(([region, values]) => [region, Array.from(values)]));

/** The simulator's predictive policy on the trace; its capacity forecast is the placement's (the plan moves nothing). */
function simulate(): Cycle[] {
  const topology = twoRegionTopology({
    cells: [
      { id: 'e1', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
      { id: 'e2', region: 'east', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
      { id: 'w1', region: 'west', capacityOpsPerSec: 1000, capacityBytes: 1e12 },
    ],
  });
  const input = buildInput(
    topology,
    [
      { id: 'a', sizeBytes: 1e9, cell: 'e1' },
      { id: 'b', sizeBytes: 1e9, cell: 'e2' },
      { id: 'w', sizeBytes: 1e9, cell: 'w1' },
    ],
    72,
    HOUR,
    (t, p, r) => (p === 2 ? (r === 1 ? [300, 0] : [0, 0]) : r === 0 ? [eastDemand(t) / 2, 0] : [0, 0]),
  );
  let planned: PlannerInput | undefined;
  const deps: SimulationDependencies = {
    createForecaster: () => lastValueForecaster(),
    planMoves: (i): MovementPlan => {
      planned = i;
      return {
        createdAtMs: i.nowMs,
        moves: [],
        costBefore: 0,
        costAfter: 0,
        deferred: {},
        capacityForecast: forecastCapacity(i, { provisionMs: PROVISION_MS, demandBeyondCapacity: 'report' }),
      };
    },
  };
  const options = prepareBacktest(input, {
    warmupMs: 0,
    planningIntervalMs: HOUR,
    horizonMs: 2 * HOUR,
    provisionMs: PROVISION_MS,
    scaleOut: false,
    scaleIn: { quietAfterScaleOutMs: 4 * HOUR, lookbackMs: 6 * HOUR },
  });
  const policy = new PlannerPolicy('predictive', input, deps, options, 1);
  const cycles: Cycle[] = [];
  const decide = policy.decide.bind(policy);
  policy.decide = (view) => {
    const decision = decide(view);
    // Copied now: the policy reuses its forecast buffers and partition objects from cycle to cycle.
    if (planned && view.bucket >= 24)
      cycles.push({
        view: { ...view, cellStatus: { ...view.cellStatus }, lastScaleOutAtMs: { ...view.lastScaleOutAtMs } },
        partitions: planned.partitions.map((p) => ({
          id: p.id,
          cell: p.cell,
          sizeBytes: p.sizeBytes,
          writeFraction: p.writeFraction,
          mean: copyOf(p.forecast),
          upper: copyOf(p.forecastUpper ?? p.forecast),
        })),
        scaleOuts: decision.scaleOut.map((s) => `${s.region}:${s.cells}`),
        scaleIns: (decision.scaleIn ?? []).map((s) => s.cell),
      });
    return decision;
  };
  new ClusterSimulator(input, 'predictive', policy, options).run();
  return cycles;
}

/** The profiler's cycle finish on each simulated cycle's forecasts and cells. */
async function profile(
  client: DynamoDBClient,
  prefix: string,
  cycles: readonly Cycle[],
  memory?: (repo: ProfilerCycleRepository) => ProfilerCycleRepository,
) {
  const f = await profilerFixture(client, prefix);
  const started: (ScaleOutRequest | ScaleInRequest)[] = [];
  const cyclesRepo = memory ? memory(f.cycles) : f.cycles;
  const deps = {
    ...f.deps,
    cycles: cyclesRepo,
    scaling: {
      start: async (_name: string, request: ScaleOutRequest | ScaleInRequest) => {
        started.push(request);
        return { started: true };
      },
    },
  };
  const o = resolveProfilerOptions({
    intervalSeconds: 3600,
    horizonSteps: 2,
    shards: 1,
    scaleOutBufferMinutes: 60,
    provisionMs: PROVISION_MS,
    migrationBandwidthBytesPerSec: 1_000_000,
    scaleOut: false,
    scaleIn: { quietAfterScaleOutMs: 4 * HOUR, lookbackMs: 6 * HOUR },
  });
  const decided: { scaleOuts: string[]; scaleIns: string[] }[] = [];
  const previous = new Map<string, ScoreRecord>();
  for (const { view, partitions } of cycles) {
    const cycleId = cycleIdFor(view.nowMs, HOUR);
    const original = new Set(['e1', 'e2', 'w1']);
    const cells: CellSnapshot[] = view.topology.cells.map((c) => ({
      id: c.id,
      region: c.region,
      capacityOpsPerSec: c.capacityOpsPerSec,
      capacityBytes: c.capacityBytes,
      status: view.cellStatus[c.id] ?? 'ACTIVE',
      ...(!original.has(c.id) && { scaledOutAtMs: view.lastScaleOutAtMs[c.region] }),
    }));
    await deps.cycles.create({
      cycleId,
      shards: 1,
      seriesEndMs: view.nowMs,
      startedAtMs: view.nowMs,
      cells,
      doneShards: [],
      expiresAt: 0,
    });
    const records = partitions.map((p) => {
      const record: ScoreRecord = {
        partition: p.id,
        cell: p.cell,
        affinity: 0,
        predictionVector: {},
        confidence: 1,
        peakStep: 0,
        peakOpsPerSec: 0,
        models: ['test:last-value'],
        ...(p.writeFraction !== undefined && { writeFraction: p.writeFraction }),
        sizeBytes: p.sizeBytes,
        stepSeconds: 3600,
        forecastStartMs: view.nowMs,
        mean: p.mean,
        // What capacity plans on, as the simulator planned it (its persistence floor included).
        upper: p.upper,
        upperLevel: 0.9,
        observedOpsPerSec: {},
        scoredAtMs: view.nowMs,
        cycleId,
        expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      };
      const before = previous.get(p.id);
      const rolled = withUpperPeaks(record, before?.upperPeaks, 6 * HOUR, before?.meanPeaks);
      previous.set(p.id, rolled);
      return rolled;
    });
    await f.scores.putAll(records);
    const result = await finishCycle(deps, o, cycleId);
    decided.push({
      scaleOuts: result.scaleOuts.map((s) => `${s.region}:${s.cells}`),
      scaleIns: result.scaleIns.map((s) => s.cellId),
    });
  }
  return { decided, started };
}

describe('the simulator and the profiler scale on one rule', () => {
  let dynamo: Awaited<ReturnType<typeof localDynamo>>['dynamo'];
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  it('fed the same forecasts cycle after cycle, they decide the same scale-outs and scale-ins', async () => {
    const cycles = simulate();
    const simulated = cycles.map((c) => ({ scaleOuts: c.scaleOuts, scaleIns: c.scaleIns }));
    // The simulated run exercises every branch: the one-hour spike (due in one cycle only) buys nothing, the
    // sustained rise buys a cell on its second cycle, and the quiet after it retires one.
    const hourOf = (i: number) => (cycles[i].view.nowMs - cycles[0].view.nowMs) / HOUR + 24;
    const outs = simulated.flatMap((d, i) => (d.scaleOuts.length > 0 ? [hourOf(i)] : []));
    const ins = simulated.flatMap((d, i) => (d.scaleIns.length > 0 ? [hourOf(i)] : []));
    expect(outs).toEqual([38]);
    expect(ins.length).toBeGreaterThan(0);

    const { decided } = await profile(client, 'agree', cycles);
    expect(decided).toEqual(simulated);
  });

  it('catches a divergence: a profiler that acts on a shortfall seen once decides differently', async () => {
    const cycles = simulate();
    const simulated = cycles.map((c) => ({ scaleOuts: c.scaleOuts, scaleIns: c.scaleIns }));
    // The negative control: every region counts as short in the previous cycle (a one-cycle trigger).
    const oneCycle = (repo: ProfilerCycleRepository): ProfilerCycleRepository => ({
      create: (c) => repo.create(c),
      get: (id) => repo.get(id),
      completeShard: (id, shard) => repo.completeShard(id, shard),
      markFinished: (id, at) => repo.markFinished(id, at),
      rememberShortfalls: (m) => repo.rememberShortfalls(m),
      shortfallMemory: async () => ({
        cycleId: 'always',
        seriesEndMs: 0,
        shortRegions: ['east', 'west'],
        previousShortRegions: [],
      }),
    });
    const { decided } = await profile(client, 'one-cycle', cycles, oneCycle);
    expect(decided).not.toEqual(simulated);
    // It buys a cell for the one-hour spike, which the rule does not.
    const spike = cycles.findIndex((c) => c.view.nowMs === cycles[0].view.nowMs + 7 * HOUR);
    expect(simulated[spike].scaleOuts).toEqual([]);
    expect(decided[spike].scaleOuts.map((s) => s.split(':')[0])).toEqual(['east']);
  });
});
