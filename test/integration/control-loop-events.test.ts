import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAllCommands } from '../../src/cli/commands/index.ts';
import { runCli } from '../../src/cli/main.ts';
import { newPartitionRecord } from '../../src/domain/data-plane/partition-record.ts';
import type { AccessCount } from '../../src/domain/data-plane/ports.ts';
import { cellIdFor } from '../../src/local/embedded-cluster.ts';
import { cyclePlanId } from '../../src/planner-service/planner-service.ts';
import { cycleIdFor } from '../../src/profiler/profiler-cycle.ts';
import { METRIC } from '../../src/support/metrics.ts';
import { captureCliIo } from '../support/cli-capture.ts';
import {
  type ControlLoop,
  EU,
  EVENTS_TABLE,
  HOME,
  HORIZON_STEPS,
  INTERVAL_SECONDS,
  PLANNER_FUNCTION,
  PROFILER_FUNCTION,
  startControlLoop,
} from '../support/control-loop.ts';
import { clientOn } from '../support/test-cluster.ts';

/**
 * Issue 12, known events in AWS: an operator adds a launch in eu-west-1 that starts a few hours after the cycle
 * (`prestage events add` against the embedded cluster's home-region DynamoDB, the events table the stack deploys);
 * the scheduled profiler reads it from the table, sends it to the DeepAR endpoint (the local model server, trained
 * with the event feature, so `dynamic_feat` is required), the forecast of the EU demand rises for the event's
 * steps, and the planner moves the partitions with European users to eu-west-1 before the launch starts. The
 * negative control is the same cluster, history and cycle without the event: nothing moves.
 */

registerAllCommands();

const HOUR = 3_600_000;
const HISTORY_DAYS = 4;
const ITEMS = 6;
const [US1, US2] = [1, 2].map((i) => cellIdFor(HOME, i));
const EU_CELLS = [1, 2].map((i) => cellIdFor(EU, i));

/** Six partitions in us-east-1: three with a European audience (a quarter of their demand), three US-only ones. */
const LAYOUT: readonly { id: string; cell: string; euOpsPerSec: number }[] = [
  { id: 'shop-fr', cell: US1, euOpsPerSec: 3 },
  { id: 'shop-de', cell: US2, euOpsPerSec: 3.5 },
  { id: 'shop-it', cell: US1, euOpsPerSec: 2.5 },
  { id: 'shop-ny', cell: US1, euOpsPerSec: 0.2 },
  { id: 'shop-tx', cell: US2, euOpsPerSec: 0.2 },
  { id: 'shop-ca', cell: US2, euOpsPerSec: 0.1 },
];
const US_OPS_PER_SEC = 10;
const EUROPEAN = LAYOUT.filter((p) => p.euOpsPerSec >= 1).map((p) => p.id);

/** The schedule fires on the hour; the launch starts three hours after this cycle, within its 8-hour horizon. */
const CYCLE_MS = Math.floor(Date.now() / HOUR) * HOUR;
const CYCLE_ID = cycleIdFor(CYCLE_MS, INTERVAL_SECONDS * 1000);
const PLAN_ID = cyclePlanId(CYCLE_ID);
const LAUNCH_START_MS = CYCLE_MS + 3 * HOUR;
const LAUNCH_END_MS = CYCLE_MS + 12 * HOUR;
const LAUNCH_MULTIPLIER = 8;

async function seed(loop: ControlLoop): Promise<void> {
  const writer = clientOn(loop.cluster, { accessRecorder: undefined });
  const counts: AccessCount[] = [];
  for (const p of LAYOUT) {
    await loop.cluster.partitions.createIfAbsent(
      newPartitionRecord(p.id, p.cell, 4, CYCLE_MS - 30 * 86_400_000),
    );
    for (let k = 0; k < ITEMS; k++) await writer.put(p.id, `k${k}`, { partition: p.id, k });
    for (let b = 1; b <= HISTORY_DAYS * 24; b++) {
      const bucketStartMs = CYCLE_MS - b * HOUR;
      counts.push({ partition: p.id, region: HOME, bucketStartMs, count: US_OPS_PER_SEC * 3600 });
      counts.push({ partition: p.id, region: EU, bucketStartMs, count: Math.round(p.euOpsPerSec * 3600) });
    }
  }
  await loop.cluster.accessStats.add(counts, []);
}

/** `prestage events` against the embedded cluster's home-region DynamoDB, as an operator runs it. */
async function events(loop: ControlLoop, ...argv: string[]) {
  const { io, out, err } = captureCliIo();
  const code = await runCli(
    ['events', ...argv, '--endpoint', loop.cluster.endpointFor(HOME), '--table', EVENTS_TABLE],
    io,
  );
  return { code, out: out(), err: err() };
}

interface ShardFacts {
  partitions: number;
  series: number;
  events: string[];
  models: Record<string, number>;
}

async function runCycle(loop: ControlLoop) {
  const started = await loop.tick(CYCLE_MS);
  expect(started).toMatchObject({ cycleId: CYCLE_ID, created: true });
  expect(loop.deadLetters).toEqual([]);
  const shards = loop.invocations
    .filter((i) => i.functionName === PROFILER_FUNCTION)
    .map((i) => i.result as ShardFacts);
  const planner = loop.invocations.filter((i) => i.functionName === PLANNER_FUNCTION);
  expect(planner).toHaveLength(1);
  // Every series was scored by the endpoint, which refuses a request without dynamic_feat: the feature was sent.
  expect(loop.metricValues(METRIC.forecastFallbacks)).toEqual([]);
  for (const shard of shards) expect(Object.keys(shard.models)).toEqual(['sagemaker:deepar']);
  expect(loop.modelServer.stats.seriesForecast).toBe(LAYOUT.length * 2);
  const scores = new Map((await loop.scores.listAll()).map((s) => [s.partition, s]));
  return { shards, planner: planner[0].result as { moveCount: number; started: boolean }, scores };
}

async function cellsNow(loop: ControlLoop): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  for (const p of LAYOUT) out.set(p.id, (await loop.cluster.partitions.get(p.id))?.cell);
  return out;
}

const summary: string[] = [];

describe('a known event in AWS: the planner pre-stages toward its region before it starts', () => {
  afterAll(() => {
    if (summary.length > 0)
      process.stdout.write(`\nControl loop with known events\n${summary.join('\n')}\n\n`);
  });

  describe('with a launch in eu-west-1 three hours after the cycle', () => {
    let loop: ControlLoop;
    beforeAll(async () => {
      loop = await startControlLoop({ modelServer: 'up', knownEvents: true });
      await seed(loop);
    }, 60_000);
    afterAll(async () => loop?.close());

    it('moves the partitions with European users to eu-west-1, and their data, before the launch starts', async () => {
      const added = await events(
        loop,
        'add',
        '--name',
        'eu-launch',
        '--region',
        EU,
        '--start',
        new Date(LAUNCH_START_MS).toISOString(),
        '--end',
        new Date(LAUNCH_END_MS).toISOString(),
        '--multiplier',
        String(LAUNCH_MULTIPLIER),
      );
      expect(added).toMatchObject({ code: 0, err: '' });
      expect((await events(loop, 'list')).out).toContain('eu-launch  eu-west-1');

      const { shards, planner, scores } = await runCycle(loop);
      // The launch reached the model with every series of eu-west-1 (and no other event exists).
      expect([...new Set(shards.flatMap((s) => s.events))]).toEqual(['eu-launch']);
      // Its forecast: the EU demand of the launch's steps is about eight times the steps before it.
      const launchStep = (LAUNCH_START_MS - CYCLE_MS) / HOUR;
      for (const id of EUROPEAN) {
        const eu = scores.get(id)!.mean[EU];
        expect(eu).toHaveLength(HORIZON_STEPS);
        expect({ id, ratio: eu[launchStep + 1] / eu[launchStep - 2] > 5 }).toEqual({ id, ratio: true });
      }

      // The plan, made at the cycle: exactly the European partitions, to eu-west-1 cells, each for a peak (its
      // deadline) inside the launch.
      expect(planner).toMatchObject({ moveCount: EUROPEAN.length, started: true });
      const moves = await loop.plans.allMoves(PLAN_ID);
      expect(moves.map((m) => m.partition).sort()).toEqual([...EUROPEAN].sort());
      for (const m of moves) {
        expect(EU_CELLS).toContain(m.to);
        expect({
          partition: m.partition,
          deadlineInLaunch: m.deadlineMs > LAUNCH_START_MS && m.deadlineMs <= LAUNCH_END_MS,
        }).toEqual({ partition: m.partition, deadlineInLaunch: true });
      }
      // ExecutePlan moved them, and the data is in eu-west-1 while the launch is still ahead.
      const run = loop.executions[0].result!;
      expect(run.status).toBe('SUCCEEDED');
      expect(run.output).toMatchObject({
        outcomes: { succeeded: EUROPEAN.length, failed: 0, rolledBack: 0 },
      });
      // Every move ended (SUCCEEDED) before the launch starts.
      for (const m of await loop.plans.allMoves(PLAN_ID))
        expect({
          partition: m.partition,
          status: m.status,
          beforeLaunch: m.updatedAtMs < LAUNCH_START_MS,
        }).toEqual({
          partition: m.partition,
          status: 'SUCCEEDED',
          beforeLaunch: true,
        });
      expect(Date.now()).toBeLessThan(LAUNCH_START_MS);
      const cells = await cellsNow(loop);
      const reader = clientOn(loop.cluster, { region: EU, accessRecorder: undefined });
      for (const p of LAYOUT) {
        if (EUROPEAN.includes(p.id)) expect(EU_CELLS).toContain(cells.get(p.id));
        else expect(cells.get(p.id)).toBe(p.cell);
        for (let k = 0; k < ITEMS; k++)
          expect(JSON.parse((await reader.get(p.id, `k${k}`)).json)).toEqual({ partition: p.id, k });
      }
      summary.push(
        `  with eu-launch (×${LAUNCH_MULTIPLIER} from +3 h): ${moves.length} moves, ` +
          moves
            .map(
              (m) =>
                `${m.partition} ${m.from} -> ${m.to} (start by +${((m.startByMs - CYCLE_MS) / HOUR).toFixed(1)} h, deadline +${((m.deadlineMs - CYCLE_MS) / HOUR).toFixed(1)} h)`,
            )
            .join(', '),
      );
    });
  });

  describe('negative control: the same cycle without the event', () => {
    let loop: ControlLoop;
    beforeAll(async () => {
      loop = await startControlLoop({ modelServer: 'up', knownEvents: true });
      await seed(loop);
    }, 60_000);
    afterAll(async () => loop?.close());

    it('moves nothing: without the launch, a quarter of the demand from Europe does not pay for a move', async () => {
      expect((await events(loop, 'list')).out).toContain('0 events');
      const { shards, planner, scores } = await runCycle(loop);
      expect(shards.flatMap((s) => s.events)).toEqual([]);
      for (const id of EUROPEAN) expect(scores.get(id)!.predictionVector[EU] ?? 0).toBeLessThan(0.5);
      expect(planner.moveCount).toBe(0);
      expect(loop.executions).toEqual([]);
      const cells = await cellsNow(loop);
      for (const p of LAYOUT) expect(cells.get(p.id)).toBe(p.cell);
      summary.push('  without the event: 0 moves');
    });
  });
});
