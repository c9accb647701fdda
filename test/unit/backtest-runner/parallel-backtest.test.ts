import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LONGEST_FIRST,
  PolicyReplayError,
  runBacktestInWorkers,
  runningPolicyWorkers,
  sharedTrace,
} from '../../../src/backtest-runner/parallel-backtest.ts';
import type { PolicyTiming } from '../../../src/backtest-runner/worker-protocol.ts';
import { type BacktestResult, runBacktest } from '../../../src/domain/simulation/backtest.ts';
import {
  type ProfilerAndPlannerOptions,
  productionDependencies,
} from '../../../src/domain/simulation/default-dependencies.ts';
import {
  POLICY_NAMES,
  type PolicyName,
  type PolicyResult,
} from '../../../src/domain/simulation/simulation-options.ts';
import { readBacktestInput } from '../../../src/io/backtest-input.ts';

/**
 * The parallel runner against the serial path: the CLI's fixture (three partitions, two regions, two days of
 * 15-minute buckets, relationships) with the real forecaster and planner, where the planning policies do move.
 */
const FIXTURE = 'test/fixtures/backtest';
const { input } = readBacktestInput({
  trace: join(FIXTURE, 'trace.csv'),
  partitions: join(FIXTURE, 'partitions.csv'),
  topology: join(FIXTURE, 'topology.json'),
  relationships: join(FIXTURE, 'relationships.csv'),
});
const DAY = 86_400_000;

/** A policy's result without the wall-clock timings, the one part that differs between two replays. */
function withoutTimings(result: PolicyResult) {
  const { plannerMs: _plannerMs, simulationMs: _simulationMs, ...details } = result.details;
  return { ...result, details };
}

function comparable(result: BacktestResult) {
  return {
    ...result,
    options: { ...result.options, onProgress: undefined },
    policies: Object.fromEntries(
      Object.entries(result.policies).map(([name, value]) => [name, withoutTimings(value)]),
    ),
  };
}

describe('runBacktestInWorkers', () => {
  it.each([
    ['default options', {}],
    [
      'planner and forecaster options, rebuilt in each worker',
      {
        planner: { localSearchRounds: 1, forcedInsertions: 0 },
        // A one-hour level memory (6 h by default) changes the forecasts enough to change predictive's plans.
        forecaster: { weekly: false, tuning: { levelMemoryMs: 3_600_000 } },
      },
    ],
  ] as [string, ProfilerAndPlannerOptions][])(
    'gives the serial path’s results, policy by policy (%s)',
    async (_label, dependencies) => {
      const serial = runBacktest(input, productionDependencies(dependencies), { warmupMs: DAY });
      const parallel = await runBacktestInWorkers(input, { warmupMs: DAY, workers: 2, dependencies });
      // The fixture does exercise the planner: the oracle moves something.
      expect(serial.policies.oracle!.metrics.moves).toBeGreaterThan(0);
      expect(Object.keys(parallel.policies)).toEqual([...POLICY_NAMES]);
      expect(comparable(parallel)).toEqual(comparable(serial));
      expect(runningPolicyWorkers()).toBe(0);
      if (Object.keys(dependencies).length > 0) {
        // The options change the plans here, so a worker that dropped them would not match.
        const defaults = runBacktest(input, productionDependencies(), { warmupMs: DAY });
        expect(comparable(serial)).not.toEqual(comparable(defaults));
      }
    },
  );

  it('keeps the order asked for, and with one worker runs the serial path in this thread', async () => {
    const policies: PolicyName[] = ['oracle', 'static'];
    const timings: [PolicyName, PolicyTiming][] = [];
    const serial = await runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 1,
      policies,
      onPolicyDone: (policy, timing) => timings.push([policy, timing]),
    });
    expect(Object.keys(serial.policies)).toEqual(policies);
    // One after another, in the order asked for, all on "worker" 0 (this thread).
    expect(timings.map(([policy, t]) => [policy, t.worker])).toEqual([
      ['oracle', 0],
      ['static', 0],
    ]);
    const parallel = await runBacktestInWorkers(input, { warmupMs: DAY, workers: 3, policies });
    expect(Object.keys(parallel.policies)).toEqual(policies);
    expect(comparable(parallel)).toEqual(comparable(serial));
  });

  it('starts the longest replays first, and reports each policy’s progress to its last bucket', async () => {
    const started: PolicyName[] = [];
    const finished: PolicyName[] = [];
    await runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 1,
      policies: [...LONGEST_FIRST].reverse(),
      onProgress: (p) => {
        if (!started.includes(p.policy)) started.push(p.policy);
        if (p.bucket === p.buckets) finished.push(p.policy);
      },
    });
    // Serial keeps the order asked for.
    expect(started).toEqual([...LONGEST_FIRST].reverse());

    const order: [PolicyName, number][] = [];
    const done: PolicyName[] = [];
    await runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 2,
      // Dispatch order, not the order of the workers' first messages: a worker slow to start (tsx loading the
      // sources on a loaded machine) may report after the other worker has finished a short replay and taken a
      // third policy, so the progress messages' order is not the schedule's.
      onPolicyStart: (policy, worker) => order.push([policy, worker]),
      onProgress: (p) => {
        if (p.bucket === p.buckets) done.push(p.policy);
      },
    });
    // Two workers: predictive and reactive first, one each; a third policy goes to whichever ends first.
    expect(order.slice(0, 2)).toEqual([
      ['predictive', 0],
      ['reactive', 1],
    ]);
    expect(order.map(([policy]) => policy)).toEqual([...LONGEST_FIRST]);
    expect(new Set(done)).toEqual(new Set(POLICY_NAMES));
    expect(done).toHaveLength(POLICY_NAMES.length);
  });

  it('fails the whole run naming the policy whose worker threw, and leaves no worker running', async () => {
    // Out of range, so the planner throws at the oracle's first planning cycle; static never plans.
    const run = runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 2,
      policies: ['static', 'oracle'],
      dependencies: { planner: { upperCorrelation: 2 } },
    });
    await expect(run).rejects.toThrow(PolicyReplayError);
    await expect(run).rejects.toThrow(/the oracle replay failed: InputValidationError: .*upperCorrelation/);
    await run.catch((error: PolicyReplayError) => expect(error.policy).toBe('oracle'));
    expect(runningPolicyWorkers()).toBe(0);
  });

  it('stops every worker when aborted, and rejects with the abort reason', async () => {
    const controller = new AbortController();
    const run = runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 2,
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('interrupted')),
    });
    await expect(run).rejects.toThrow('interrupted');
    expect(runningPolicyWorkers()).toBe(0);
    // The serial path stops between buckets.
    const serialController = new AbortController();
    const serial = runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 1,
      signal: serialController.signal,
      onProgress: () => serialController.abort(new Error('interrupted')),
    });
    await expect(serial).rejects.toThrow('interrupted');
  });

  it('stops every worker when a progress callback throws, and rejects with what it threw', async () => {
    const run = runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 2,
      onProgress: (p) => {
        if (p.bucket > 10) throw new RangeError(`enough at ${p.policy}`);
      },
    });
    await expect(run).rejects.toThrow(/^enough at/);
    expect(runningPolicyWorkers()).toBe(0);
  });

  it('replays a policy listed twice once, as the serial path keys it once', async () => {
    const result = await runBacktestInWorkers(input, {
      warmupMs: DAY,
      workers: 2,
      policies: ['static', 'static'],
    });
    expect(Object.keys(result.policies)).toEqual(['static']);
  });

  it('rejects a worker count that is not a positive integer, and bad input before starting any worker', async () => {
    await expect(runBacktestInWorkers(input, { workers: 0 })).rejects.toThrow(/positive integer/);
    await expect(runBacktestInWorkers(input, { workers: 2, warmupMs: 30 * DAY })).rejects.toThrow(/warm-up/);
    expect(runningPolicyWorkers()).toBe(0);
  });

  it('shares the trace with the workers instead of copying it', () => {
    const shared = sharedTrace(input.trace);
    expect(shared.reads.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(shared.reads)).toEqual(Array.from(input.trace.reads));
    expect(Array.from(shared.writes)).toEqual(Array.from(input.trace.writes));
    // Already shared: kept as it is.
    expect(sharedTrace(shared).reads).toBe(shared.reads);
  });
});
