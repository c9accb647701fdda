import { randomBytes } from 'node:crypto';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attributeMapSize } from '../../src/adapters/dynamodb/cell-data-store.ts';
import { newPartitionRecord } from '../../src/domain/data-plane/partition-record.ts';
import type { AccessCount } from '../../src/domain/data-plane/ports.ts';
import { CONTROL_PLANE_ENV } from '../../src/lambda/control-plane-env.ts';
import { cellIdFor, dataTableFor } from '../../src/local/embedded-cluster.ts';
import { cyclePlanId } from '../../src/planner-service/planner-service.ts';
import { cycleIdFor } from '../../src/profiler/profiler-cycle.ts';
import { METRIC } from '../../src/support/metrics.ts';
import { type ControlLoop, EU, HOME, INTERVAL_SECONDS, startControlLoop } from '../support/control-loop.ts';
import { clientOn, TEST_LEASE } from '../support/test-cluster.ts';

/**
 * Partition sizes through the whole loop (test/support/control-loop.ts): the profiler Lambda measures each
 * partition's stored bytes in its cell (size probe on dynalite) and scores carry them; the planner plans the
 * moves at those sizes, so the bytes budget binds; ExecutePlan's BytesMoved is the moves' bytes; and every
 * MigratePartition records the size it copied on the partition record.
 */

const HOUR = 3_600_000;
const CYCLE_MS = Math.floor(Date.now() / HOUR) * HOUR;
const CYCLE_ID = cycleIdFor(CYCLE_MS, INTERVAL_SECONDS * 1000);
const PLAN_ID = cyclePlanId(CYCLE_ID);
const US1 = cellIdFor(HOME, 1);
/** Bytes ExecutePlan may start in one cycle: room for the two small EU-heavy partitions, not the large one. */
const BYTES_BUDGET = 24_000;

/** Three partitions whose clients are in Europe, of very different sizes, and one US-local partition. */
const LAYOUT = [
  { id: 'eu-small', items: 6, valueBytes: 400, eu: true },
  { id: 'eu-medium', items: 12, valueBytes: 700, eu: true },
  { id: 'eu-large', items: 40, valueBytes: 1400, eu: true },
  { id: 'us-local', items: 10, valueBytes: 300, eu: false },
] as const;

type Item = Record<string, AttributeValue>;

async function storedBytes(loop: ControlLoop, cellId: string, partition: string): Promise<number> {
  const client = loop.cluster.clientFor(loop.cluster.regionOfCell(cellId));
  let bytes = 0;
  let start: Item | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: dataTableFor(cellId), ExclusiveStartKey: start, ConsistentRead: true }),
    );
    for (const item of page.Items ?? [])
      if (item.pk.S?.startsWith(`${partition}#`)) bytes += attributeMapSize(item);
    start = page.LastEvaluatedKey;
  } while (start);
  return bytes;
}

async function seed(loop: ControlLoop): Promise<void> {
  // Seeding is not under test and no migration runs during it: a deadline a loaded machine meets (TEST_LEASE's
  // 300 ms was missed under load, answered WRITE_OUTCOME_UNKNOWN).
  const writer = clientOn(loop.cluster, {
    accessRecorder: undefined,
    lease: { ...TEST_LEASE, maxRequestMs: 3_000 },
  });
  const counts: AccessCount[] = [];
  for (const p of LAYOUT) {
    await loop.cluster.partitions.createIfAbsent(
      newPartitionRecord(p.id, US1, 4, CYCLE_MS - 30 * 86_400_000),
    );
    // Random text: values above 1 KB are stored compressed, and random text stays about as large.
    for (let k = 0; k < p.items; k++)
      await writer.put(p.id, `k${k}`, { k, text: randomBytes(p.valueBytes / 2).toString('hex') });
    for (let b = 1; b <= 4 * 24; b++) {
      const bucketStartMs = CYCLE_MS - b * HOUR;
      const hour = new Date(bucketStartMs).getUTCHours();
      const daily = (peak: number) => 1 + 0.6 * Math.cos((2 * Math.PI * (hour - peak)) / 24);
      const euOps = p.eu ? 12 * daily(13) : 0.3 * daily(13);
      const usOps = p.eu ? 0.8 * daily(18) : 10 * daily(19);
      counts.push(
        { partition: p.id, region: EU, bucketStartMs, count: Math.round(euOps * 3600) },
        { partition: p.id, region: HOME, bucketStartMs, count: Math.round(usOps * 3600) },
      );
    }
  }
  await loop.cluster.accessStats.add(counts, []);
}

describe('partition sizes through the control loop, run locally', () => {
  let loop: ControlLoop;
  const savedBudget = process.env[CONTROL_PLANE_ENV.maxBytesPerCycle];
  beforeAll(async () => {
    process.env[CONTROL_PLANE_ENV.maxBytesPerCycle] = String(BYTES_BUDGET);
    loop = await startControlLoop({ modelServer: 'down' });
    await seed(loop);
  }, 60_000);
  afterAll(async () => {
    await loop?.close();
    if (savedBudget === undefined) delete process.env[CONTROL_PLANE_ENV.maxBytesPerCycle];
    else process.env[CONTROL_PLANE_ENV.maxBytesPerCycle] = savedBudget;
  });

  it('measures sizes, plans within the bytes budget at them, reports BytesMoved and records the copied sizes', async () => {
    const truth = new Map<string, number>();
    for (const p of LAYOUT) truth.set(p.id, await storedBytes(loop, US1, p.id));
    await loop.tick(CYCLE_MS);
    expect(loop.deadLetters).toEqual([]);

    // Every shard measured its partitions (none had a size) and every score carries the size.
    const scores = new Map((await loop.scores.listAll()).map((s) => [s.partition, s]));
    const lines: string[] = [];
    for (const p of LAYOUT) {
      const measured = scores.get(p.id)?.sizeBytes;
      lines.push(`${p.id}: stored ${truth.get(p.id)} B, probed ${measured} B`);
      expect(measured, p.id).toBeDefined();
      expect(measured! / truth.get(p.id)!, p.id).toBeGreaterThan(0.5);
      expect(measured! / truth.get(p.id)!, p.id).toBeLessThan(2);
    }
    // The sizes differ enough for the budget to choose: the two small ones fit, the large one does not.
    const size = (id: string) => scores.get(id)!.sizeBytes!;
    expect(size('eu-small') + size('eu-medium')).toBeLessThanOrEqual(BYTES_BUDGET);
    expect(size('eu-large')).toBeGreaterThan(BYTES_BUDGET - size('eu-small'));

    // The plan: moves at the measured sizes, within the budget (the large EU-heavy partition waits).
    const moves = await loop.plans.allMoves(PLAN_ID);
    expect(moves.map((m) => m.partition).sort()).toEqual(['eu-medium', 'eu-small']);
    for (const m of moves)
      expect({ p: m.partition, bytes: m.bytes }).toEqual({ p: m.partition, bytes: size(m.partition) });
    const header = await loop.plans.getHeader(PLAN_ID);
    const planned = moves.reduce((sum, m) => sum + m.bytes, 0);
    expect(header).toMatchObject({ status: 'SUCCEEDED', totalBytes: planned });
    expect(planned).toBeGreaterThan(0);
    expect(planned).toBeLessThanOrEqual(BYTES_BUDGET);

    // ExecutePlan's BytesMoved: the bytes of the moves that succeeded.
    expect(loop.executePlanMetrics.totals[METRIC.migrationsSucceeded]).toBe(2);
    expect(loop.executePlanMetrics.totals[METRIC.bytesMoved]).toBe(planned);

    // Each migration recorded what it copied: exactly what the target cell stores now.
    for (const m of moves) {
      const record = (await loop.cluster.partitions.get(m.partition))!;
      expect(record.cell).toBe(m.to);
      expect({ p: m.partition, size: record.sizeBytes }).toEqual({
        p: m.partition,
        size: await storedBytes(loop, m.to, m.partition),
      });
      expect(record.sizeMeasuredAtMs).toBe(record.lastMigration?.atMs);
    }
    const waiting = (await loop.cluster.partitions.get('eu-large'))!;
    expect({ cell: waiting.cell, size: waiting.sizeBytes }).toEqual({ cell: US1, size: size('eu-large') });
    process.stdout.write(
      `\nControl loop sizes (budget ${BYTES_BUDGET} B): planned ${planned} B, BytesMoved ${loop.executePlanMetrics.totals[METRIC.bytesMoved]}\n  ${lines.join('\n  ')}\n`,
    );
  });
});
