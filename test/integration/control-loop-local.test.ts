import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPartitionRecord } from '../../src/domain/data-plane/partition-record.ts';
import type { AccessCount } from '../../src/domain/data-plane/ports.ts';
import { cellIdFor, dataTableFor } from '../../src/local/embedded-cluster.ts';
import { cyclePlanId } from '../../src/planner-service/planner-service.ts';
import { cycleIdFor } from '../../src/profiler/profiler-cycle.ts';
import { METRIC } from '../../src/support/metrics.ts';
import {
  type ControlLoop,
  ENDPOINT_NAME,
  EU,
  HOME,
  INTERVAL_SECONDS,
  PLANNER_FUNCTION,
  PROFILER_FUNCTION,
  PROFILER_SHARDS,
  startControlLoop,
} from '../support/control-loop.ts';
import { clientOn } from '../support/test-cluster.ts';

/**
 * The loop, end to end on a laptop: access history → scheduled profiler (coordinator, async shards,
 * forecasts from the SageMaker endpoint double over HTTP) → ScoreRecords → the last shard invokes the planner →
 * plan in the plans table → ExecutePlan (synthesized ASL) → MigratePartition children moving real data between
 * dynalite cells. See test/support/control-loop.ts for what is bound locally and why.
 */

const HOUR = 3_600_000;
const HISTORY_DAYS = 4;
const ITEMS = 12;
const [US1, US2] = [1, 2].map((i) => cellIdFor(HOME, i));
const EU_CELLS = [1, 2].map((i) => cellIdFor(EU, i));

type Demand = 'eu-heavy' | 'us-local';
/** Eight partitions, all in us-east-1: three whose clients are now mostly in Europe, five US-local ones. */
const LAYOUT: readonly { id: string; cell: string; demand: Demand }[] = [
  { id: 'orders-fr', cell: US1, demand: 'eu-heavy' },
  { id: 'orders-de', cell: US1, demand: 'eu-heavy' },
  { id: 'carts-uk', cell: US2, demand: 'eu-heavy' },
  { id: 'orders-ny', cell: US1, demand: 'us-local' },
  { id: 'orders-tx', cell: US1, demand: 'us-local' },
  { id: 'carts-ca', cell: US2, demand: 'us-local' },
  { id: 'carts-wa', cell: US2, demand: 'us-local' },
  { id: 'users-us', cell: US2, demand: 'us-local' },
];
const EU_HEAVY = LAYOUT.filter((p) => p.demand === 'eu-heavy').map((p) => p.id);
const US_LOCAL = LAYOUT.filter((p) => p.demand === 'us-local').map((p) => p.id);

/** A daily cycle peaking at `peakHourUtc`, between 0.4 and 1.6 of the mean. */
function daily(bucketStartMs: number, peakHourUtc: number): number {
  const hour = new Date(bucketStartMs).getUTCHours();
  return 1 + 0.6 * Math.cos((2 * Math.PI * (hour - peakHourUtc)) / 24);
}

/** Mean ops/s of a partition from a region in an hour: the EU-heavy ones get ~94% of their demand from Europe. */
function opsPerSec(demand: Demand, region: string, bucketStartMs: number, index: number): number {
  const scale = 1 + index / 10;
  if (demand === 'eu-heavy')
    return region === EU ? 12 * scale * daily(bucketStartMs, 13) : 0.8 * daily(bucketStartMs, 18);
  return region === HOME ? 10 * scale * daily(bucketStartMs, 19) : 0.3 * daily(bucketStartMs, 13);
}

/** The schedule fires on the hour; every variant runs the cycle of the current hour. */
const CYCLE_MS = Math.floor(Date.now() / HOUR) * HOUR;
const CYCLE_ID = cycleIdFor(CYCLE_MS, INTERVAL_SECONDS * 1000);
const PLAN_ID = cyclePlanId(CYCLE_ID);

type Item = Record<string, AttributeValue>;

async function itemsOf(loop: ControlLoop, cellId: string, partition: string): Promise<Item[]> {
  const region = loop.cluster.regionOfCell(cellId);
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await loop.cluster
      .clientFor(region)
      .send(
        new ScanCommand({ TableName: dataTableFor(cellId), ExclusiveStartKey: start, ConsistentRead: true }),
      );
    items.push(...(page.Items ?? []).filter((i) => i.pk.S?.startsWith(`${partition}#`)));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The cluster before the cycle: partitions with data written through the data plane, and their access history. */
async function seed(loop: ControlLoop): Promise<void> {
  const writer = clientOn(loop.cluster, { accessRecorder: undefined });
  const counts: AccessCount[] = [];
  for (const [index, p] of LAYOUT.entries()) {
    await loop.cluster.partitions.createIfAbsent(
      newPartitionRecord(p.id, p.cell, 4, CYCLE_MS - 30 * 86_400_000),
    );
    for (let k = 0; k < ITEMS; k++)
      await writer.put(p.id, `k${k}`, { partition: p.id, k, note: 'x'.repeat(k * 20) });
    // Hourly counters for the last days, as the interceptor's recorder stores them (one item per counter).
    for (let b = 1; b <= HISTORY_DAYS * 24; b++) {
      const bucketStartMs = CYCLE_MS - b * HOUR;
      for (const region of [HOME, EU])
        counts.push({
          partition: p.id,
          region,
          bucketStartMs,
          count: Math.round(opsPerSec(p.demand, region, bucketStartMs, index) * 3600),
        });
    }
  }
  await loop.cluster.accessStats.add(counts, []);
}

interface CycleFacts {
  readonly seconds: number;
  readonly moves: readonly string[];
  readonly shardResults: {
    partitions: number;
    series: number;
    last: boolean;
    models: Record<string, number>;
  }[];
  readonly models: Map<string, readonly string[]>;
}

/** Run one scheduled cycle and check everything that must hold whichever model scored it. */
async function runCycleAndCheckLoop(loop: ControlLoop): Promise<CycleFacts> {
  const cellsBefore = new Map(LAYOUT.map((p) => [p.id, p.cell]));
  const t0 = Date.now();
  const started = await loop.tick(CYCLE_MS);
  const seconds = (Date.now() - t0) / 1000;
  expect(started).toEqual({ cycleId: CYCLE_ID, shards: PROFILER_SHARDS, created: true, cells: 4 });
  expect(loop.deadLetters).toEqual([]);

  // The coordinator invoked every shard asynchronously, each ran once and succeeded.
  const shards = loop.invocations.filter((i) => i.functionName === PROFILER_FUNCTION);
  expect(
    shards
      .map((s) => s.event)
      .sort((a, b) => (a as { shard: number }).shard - (b as { shard: number }).shard),
  ).toEqual(
    Array.from({ length: PROFILER_SHARDS }, (_, shard) => ({
      cycleId: CYCLE_ID,
      shard,
      shards: PROFILER_SHARDS,
    })),
  );
  expect(shards.map((s) => [s.attempts, s.error])).toEqual(shards.map(() => [1, undefined]));
  const shardResults = shards.map(
    (s) => s.result as CycleFacts['shardResults'][number] & { plannerInvoked: boolean },
  );
  expect(shardResults.reduce((n, r) => n + r.partitions, 0)).toBe(LAYOUT.length);
  // Both shards had work, and exactly one of them (the last to finish) invoked the planner.
  expect(shardResults.every((r) => r.partitions > 0)).toBe(true);
  expect(shardResults.filter((r) => r.last).map((r) => r.plannerInvoked)).toEqual([true]);

  // The planner ran once on the cycle, wrote the plan and started ExecutePlan on it.
  const planner = loop.invocations.filter((i) => i.functionName === PLANNER_FUNCTION);
  expect(planner.map((p) => p.event)).toEqual([{ trigger: 'schedule', cycleId: CYCLE_ID }]);
  expect(planner[0]).toMatchObject({
    attempts: 1,
    result: {
      trigger: 'schedule',
      planId: PLAN_ID,
      moveCount: EU_HEAVY.length,
      reused: false,
      started: true,
    },
  });
  expect(loop.executions.map((e) => [e.name, e.input])).toEqual([
    [PLAN_ID, { planId: PLAN_ID, approval: false }],
  ]);

  // Scores of every partition from this cycle; the EU-heavy ones predicted mostly from Europe.
  const scores = await loop.scores.listAll();
  expect(scores.map((s) => s.partition).sort()).toEqual(LAYOUT.map((p) => p.id).sort());
  for (const s of scores) {
    expect({ partition: s.partition, cycleId: s.cycleId, stepSeconds: s.stepSeconds }).toEqual({
      partition: s.partition,
      cycleId: CYCLE_ID,
      stepSeconds: INTERVAL_SECONDS,
    });
    expect(s.mean[HOME]).toHaveLength(8);
    const euShare = s.predictionVector[EU] ?? 0;
    if (EU_HEAVY.includes(s.partition))
      expect({ partition: s.partition, eu: euShare > 0.75 }).toEqual({ partition: s.partition, eu: true });
    else expect({ partition: s.partition, eu: euShare < 0.25 }).toEqual({ partition: s.partition, eu: true });
  }

  // ExecutePlan ran the plan to the end.
  const run = loop.executions[0].result!;
  expect(run.error).toBeUndefined();
  expect(run.status).toBe('SUCCEEDED');
  expect(run.output).toMatchObject({
    planId: PLAN_ID,
    status: 'SUCCEEDED',
    outcomes: { succeeded: EU_HEAVY.length, rolledBack: 0, failed: 0, skipped: 0 },
  });
  expect(run.children.map((c) => c.partition).sort()).toEqual([...EU_HEAVY].sort());
  expect(run.children.every((c) => c.status === 'SUCCEEDED')).toBe(true);
  expect(loop.executePlanMetrics.totals[METRIC.migrationsSucceeded]).toBe(EU_HEAVY.length);

  // The plans table: header and moves in their final statuses.
  const header = await loop.plans.getHeader(PLAN_ID);
  expect(header).toMatchObject({
    planId: PLAN_ID,
    status: 'SUCCEEDED',
    trigger: 'schedule',
    cycleId: CYCLE_ID,
    approval: false,
    moveCount: EU_HEAVY.length,
    outcomes: { succeeded: EU_HEAVY.length },
  });
  expect(header?.expiresAt).toBeGreaterThan(Date.now() / 1000);
  const moves = await loop.plans.allMoves(PLAN_ID);
  expect(moves.map((m) => m.partition).sort()).toEqual([...EU_HEAVY].sort());
  for (const m of moves) {
    expect({ partition: m.partition, status: m.status, from: m.from }).toEqual({
      partition: m.partition,
      status: 'SUCCEEDED',
      from: cellsBefore.get(m.partition),
    });
    expect(EU_CELLS).toContain(m.to);
  }

  // The data: EU-heavy partitions served from their EU cell, every item there and none left at the source.
  const reader = clientOn(loop.cluster, { region: EU, accessRecorder: undefined });
  const targets = new Map(moves.map((m) => [m.partition, m.to]));
  for (const p of LAYOUT) {
    const record = await loop.cluster.partitions.get(p.id);
    const expectedCell = targets.get(p.id) ?? p.cell;
    expect({
      partition: p.id,
      cell: record?.cell,
      phase: record?.routing.phase,
      fence: record?.fence,
    }).toEqual({
      partition: p.id,
      cell: expectedCell,
      phase: 'stable',
      fence: undefined,
    });
    for (let k = 0; k < ITEMS; k++) {
      const read = await reader.get(p.id, `k${k}`);
      expect(JSON.parse(read.json)).toEqual({ partition: p.id, k, note: 'x'.repeat(k * 20) });
    }
    expect((await itemsOf(loop, expectedCell, p.id)).length).toBe(ITEMS);
    if (expectedCell !== p.cell) expect(await itemsOf(loop, p.cell, p.id)).toEqual([]);
  }
  for (const id of US_LOCAL) expect(targets.has(id)).toBe(false);

  return {
    seconds,
    moves: moves.map((m) => `${m.partition} ${m.from} -> ${m.to}`).sort(),
    shardResults,
    models: new Map(scores.map((s) => [s.partition, s.models])),
  };
}

const summary: string[] = [];
function report(label: string, loop: ControlLoop, facts: CycleFacts) {
  summary.push(
    `  ${label}: cycle ${CYCLE_ID}, ${facts.seconds.toFixed(1)} s from schedule to plan SUCCEEDED; ` +
      `model server ${loop.modelServer.stats.invocations} invocations, ${loop.modelServer.stats.seriesForecast} series; ` +
      `ForecastFallbacks ${loop.metricValues(METRIC.forecastFallbacks).length}`,
    ...facts.moves.map((m) => `    ${m}`),
  );
}

describe('the control loop, run locally end to end', () => {
  afterAll(() => {
    if (summary.length > 0) process.stdout.write(`\nControl loop local runs\n${summary.join('\n')}\n\n`);
  });

  describe('with the SageMaker endpoint (local DeepAR model server) up', () => {
    let loop: ControlLoop;
    beforeAll(async () => {
      loop = await startControlLoop({ modelServer: 'up' });
      await seed(loop);
    }, 60_000);
    afterAll(async () => loop?.close());

    it('profiles through the hosted model, plans the EU-heavy partitions into eu-west-1 and moves their data', async () => {
      const facts = await runCycleAndCheckLoop(loop);
      report('endpoint up', loop, facts);
      // Every series went to the endpoint over HTTP (one batch per shard) and the hosted model answered all.
      const series = LAYOUT.length * 2;
      expect(facts.shardResults.reduce((n, r) => n + r.series, 0)).toBe(series);
      expect(loop.modelServer.stats.seriesForecast).toBe(series);
      expect(loop.modelServer.stats.invocations).toBe(PROFILER_SHARDS);
      for (const r of facts.shardResults) expect(Object.keys(r.models)).toEqual(['sagemaker:deepar']);
      for (const [partition, models] of facts.models)
        expect({ partition, models }).toEqual({ partition, models: ['sagemaker:deepar'] });
      expect(loop.metricValues(METRIC.forecastFallbacks)).toEqual([]);
      expect(loop.metricValues(METRIC.partitionsScored).reduce((a, b) => a + b, 0)).toBe(LAYOUT.length);
    });
  });

  describe('with the endpoint down', () => {
    let loop: ControlLoop;
    beforeAll(async () => {
      loop = await startControlLoop({ modelServer: 'down' });
      await seed(loop);
    }, 60_000);
    afterAll(async () => loop?.close());

    it('falls back to the embedded model, counts ForecastFallbacks, and the loop still plans and moves', async () => {
      const facts = await runCycleAndCheckLoop(loop);
      report('endpoint down', loop, facts);
      expect(loop.modelServer.stats.invocations).toBe(0);
      for (const [partition, models] of facts.models)
        expect({
          partition,
          fallback: models.length > 0 && models.every((m) => m.startsWith('fallback:embedded')),
        }).toEqual({
          partition,
          fallback: true,
        });
      // One fallback batch per shard, each counted in the metric and logged with its reason.
      expect(loop.metricValues(METRIC.forecastFallbacks)).toEqual(Array(PROFILER_SHARDS).fill(1));
      const fallbacks = loop
        .warnings()
        .filter((w) => w.message === 'forecast batch scored by the embedded fallback');
      expect(fallbacks).toHaveLength(PROFILER_SHARDS);
      for (const w of fallbacks)
        expect(w.details).toMatchObject({
          endpoint: ENDPOINT_NAME,
          contract: 'deepar',
          reason: 'endpoint-error',
        });
    });
  });
});
