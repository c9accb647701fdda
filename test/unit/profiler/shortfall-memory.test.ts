import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortfallMemoryFor } from '../../../src/profiler/shortfall-memory.ts';
import { localDynamo } from '../../support/local-tables.ts';
import { profilerFixture } from './profiler-harness.ts';

const HOUR = 3_600_000;
const T = Date.UTC(2024, 0, 1);
const cycle = (hours: number) => ({ cycleId: `c${hours}`, seriesEndMs: T + hours * HOUR });

/** The shortfall rule's memory in the Coordination table (DynamoProfilerCycleRepository on dynalite). */
describe('shortfallMemoryFor', () => {
  let dynamo: Awaited<ReturnType<typeof localDynamo>>['dynamo'];
  let client: DynamoDBClient;
  beforeAll(async () => {
    ({ dynamo, client } = await localDynamo());
  });
  afterAll(async () => dynamo?.close());

  it('hands each cycle the regions the last cycle before it stored, skipped ticks or not', async () => {
    const { cycles } = await profilerFixture(client, 'memory-chain');
    const first = await shortfallMemoryFor(cycles, cycle(0));
    expect(first.previous).toBeUndefined();
    expect(await first.remember(['east'])).toBe(true);
    // Two ticks skipped: the cycle at +3 h decides with the one at 0.
    const next = await shortfallMemoryFor(cycles, cycle(3));
    expect(next.previous).toEqual({ shortRegions: ['east'] });
    await next.remember([]);
    expect((await shortfallMemoryFor(cycles, cycle(4))).previous).toEqual({ shortRegions: [] });
  });

  it('a redelivered cycle finish decides with what the first delivery decided with', async () => {
    const { cycles } = await profilerFixture(client, 'memory-redelivery');
    await (await shortfallMemoryFor(cycles, cycle(0))).remember(['east']);
    const once = await shortfallMemoryFor(cycles, cycle(1));
    await once.remember(['west']);
    const again = await shortfallMemoryFor(cycles, cycle(1));
    expect(again.previous).toEqual(once.previous);
    expect(await again.remember(['west'])).toBe(true);
    expect(await cycles.shortfallMemory()).toEqual({
      cycleId: 'c1',
      seriesEndMs: T + HOUR,
      shortRegions: ['west'],
      previousShortRegions: ['east'],
    });
  });

  it('a cycle finishing after a later one decides with no memory and leaves the later one stored', async () => {
    const { cycles } = await profilerFixture(client, 'memory-late');
    await (await shortfallMemoryFor(cycles, cycle(5))).remember(['east']);
    const late = await shortfallMemoryFor(cycles, cycle(2));
    expect(late.previous).toBeUndefined();
    expect(await late.remember(['west'])).toBe(false);
    // Also refused by the table's condition when a later memory lands between the read and the write.
    expect(
      await cycles.rememberShortfalls({ ...cycle(2), shortRegions: ['west'], previousShortRegions: [] }),
    ).toBe(false);
    expect((await cycles.shortfallMemory())?.cycleId).toBe('c5');
  });
});
