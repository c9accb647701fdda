import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../src/domain/seeded-random.ts';
import { runBacktest } from '../../../../src/domain/simulation/backtest.ts';
import { productionDependencies } from '../../../../src/domain/simulation/default-dependencies.ts';
import type {
  PolicyResult,
  SimulationDependencies,
  SimulationInput,
} from '../../../../src/domain/simulation/simulation-options.ts';
import { parseTopology } from '../../../../src/domain/topology.ts';
import { readBacktestInput } from '../../../../src/io/backtest-input.ts';
import { buildInput, HOUR, MIN, T0, testDeps } from './simulation-fixtures.ts';

/**
 * Golden replays: every policy on fixed traces must give exactly the results recorded in
 * `golden/cluster-simulator-results.txt` (metrics, details, hourly series and cell events, every number
 * bit for bit; only the wall-clock timings are left out). The file was recorded on the simulator before it
 * was split into a metrics accumulator, the cell lifecycle and the move engine; a refactoring must not
 * change a single figure. A deliberate change of the model re-records it (`npx vitest run -u <this file>`)
 * and says why in its commit.
 *
 * The traces cover scheduled additions and removals, alarm and forecast scale-outs, forced drains (with a
 * replica dropped when its region has no other cell), moves into PROVISIONING cells, empty partitions,
 * five-minute sub-steps inside a bucket, and the real forecaster and planner as well as a test planner.
 */

const DAY = 24 * HOUR;

/** Three regions, five cells; a cell added in b on day 1.5 and a2 removed on day 2; alarms on. */
function threeRegionInput(bucketMs: number, days: number, partitions: number, seed: number): SimulationInput {
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  const topology = parseTopology({
    regions: { a: { utcOffsetHours: -5 }, b: { utcOffsetHours: 1 }, c: { utcOffsetHours: 8 } },
    latencyMs: { a: { b: 80, c: 160 }, b: { c: 120 } },
    transferCostPerGB: 0.02,
    migrationBandwidthBytesPerSec: 20e6,
    cells: [
      { id: 'a1', region: 'a', capacityOpsPerSec: 1200, capacityBytes: 40e9 },
      { id: 'a2', region: 'a', capacityOpsPerSec: 1200, capacityBytes: 40e9 },
      { id: 'b1', region: 'b', capacityOpsPerSec: 1200, capacityBytes: 40e9 },
      { id: 'b2', region: 'b', capacityOpsPerSec: 1200, capacityBytes: 40e9 },
      { id: 'c1', region: 'c', capacityOpsPerSec: 1200, capacityBytes: 40e9 },
    ],
    scalingEvents: [
      {
        at: at(1.5 * DAY),
        action: 'add',
        cell: { id: 'b3', region: 'b', capacityOpsPerSec: 1200, capacityBytes: 40e9 },
      },
      { at: at(2 * DAY), action: 'remove', cellId: 'a2' },
      { at: at(2.25 * DAY), action: 'remove', cellId: 'c1' },
    ],
    alarmScaling: {
      utilizationThreshold: 0.8,
      sustainMinutes: 10,
      provisionMinutes: 10,
      cooldownMinutes: 60,
      maxCellsPerRegion: 3,
      cellCapacityOpsPerSec: 1200,
      cellCapacityBytes: 40e9,
    },
  });
  const random = seededRandom(seed);
  const cells = ['a1', 'a2', 'b1', 'b2', 'c1'];
  const specs = Array.from({ length: partitions }, (_, p) => ({
    id: `p${p}`,
    sizeBytes: p % 7 === 3 ? 0 : Math.round(2e8 + 4e9 * random() ** 2),
    cell: cells[Math.floor(random() * cells.length)],
  }));
  const home = specs.map(() => Math.floor(random() * 3));
  const rate = specs.map(() => 20 + 300 * random() ** 2);
  const burstAt = specs.map(() => (random() < 0.4 ? Math.floor(random() * days * 96) : -1));
  const buckets = Math.round((days * DAY) / bucketMs);
  return buildInput(topology, specs, buckets, bucketMs, (t, p, r) => {
    const hour = ((t * bucketMs) / HOUR + [-5, 1, 8][r]) % 24;
    const daily = 1 + 0.8 * Math.sin((2 * Math.PI * (hour - 9)) / 24);
    const share = r === home[p] ? 0.75 : 0.125;
    const quarter = Math.floor((t * bucketMs) / (15 * MIN));
    const burst = burstAt[p] >= 0 && quarter >= burstAt[p] && quarter < burstAt[p] + 8 ? 6 : 1;
    const ops = Math.round(rate[p] * share * daily * burst * 1000) / 1000;
    return [ops * 0.8, ops * 0.2];
  });
}

function record(name: string, input: SimulationInput, deps: SimulationDependencies, options: object): string {
  const result = runBacktest(input, deps, options);
  const lines = [`## ${name}`];
  for (const [policy, value] of Object.entries(result.policies)) {
    const { metrics, details, series, cellEvents } = value as PolicyResult;
    const { plannerMs: _plannerMs, simulationMs: _simulationMs, ...figures } = details;
    lines.push(`# ${policy}`, JSON.stringify(metrics), JSON.stringify(figures));
    for (const [key, values] of Object.entries(series)) {
      lines.push(`${key} ${JSON.stringify(values instanceof Float64Array ? Array.from(values) : values)}`);
    }
    for (const event of cellEvents) lines.push(JSON.stringify(event));
  }
  return `${lines.join('\n')}\n`;
}

describe('ClusterSimulator (golden replays)', () => {
  it('replays the recorded results, bit for bit, for every policy', async () => {
    const fixture = readBacktestInput({
      trace: 'test/fixtures/backtest/trace.csv',
      partitions: 'test/fixtures/backtest/partitions.csv',
      topology: 'test/fixtures/backtest/topology.json',
      relationships: 'test/fixtures/backtest/relationships.csv',
    }).input;
    const text = [
      record('backtest fixture, production planner', fixture, productionDependencies(), { warmupMs: DAY }),
      record(
        'three regions, production planner',
        threeRegionInput(15 * MIN, 3, 14, 11),
        productionDependencies(),
        {
          warmupMs: DAY,
          planningIntervalMs: 30 * MIN,
          drainGraceMs: 6 * HOUR,
        },
      ),
      record(
        'three regions, 5-minute buckets, test planner',
        threeRegionInput(5 * MIN, 3, 10, 12),
        testDeps,
        {
          warmupMs: DAY / 2,
          planningIntervalMs: 15 * MIN,
          drainGraceMs: 3 * HOUR,
        },
      ),
      record(
        'three regions, 20-minute buckets, test planner',
        threeRegionInput(20 * MIN, 3, 9, 13),
        testDeps,
        {
          warmupMs: DAY,
          planningIntervalMs: 40 * MIN,
        },
      ),
    ].join('\n');
    await expect(text).toMatchFileSnapshot('golden/cluster-simulator-results.txt');
  });
});
