import { afterEach, describe, expect, it } from 'vitest';
import {
  AccessRecorder,
  COUNT_AS_DECLARED,
  COUNT_ON_ARRIVAL,
  type CountingInstant,
} from '../../../src/data-plane/access-recorder.ts';
import type { AccessCount } from '../../../src/domain/data-plane/ports.ts';
import { formatSampleWeight, parseSampleWeight } from '../../../src/domain/data-plane/sample-weight.ts';
import { seededRandom } from '../../../src/domain/seeded-random.ts';
import { LoadGenerator } from '../../../src/live/load-generator.ts';
import type { SampledRequest } from '../../../src/live/request-sampler.ts';
import { LocalServer } from '../../../src/local/local-server.ts';
import { TEST_LEASE } from '../../support/test-cluster.ts';

const HOUR = 3_600_000;
const REGION = 'us-east-1';
/** A trace hour on a bucket boundary (2015-03-10T00:00Z). */
const T0 = Date.UTC(2015, 2, 10);

/**
 * Requests due in the trace hours T0, T0 + 1 h and T0 + 2 h, each standing for a different demand, so a count in
 * the wrong hour shows: hour h's requests stand for (h + 1) × 100 reads and (h + 1) × 10 writes in all.
 */
function lateBatch(partition: string): SampledRequest[] {
  const out: SampledRequest[] = [];
  for (let hour = 0; hour < 3; hour++) {
    for (let i = 0; i < 4; i++) {
      out.push({
        atTraceMs: T0 + hour * HOUR + i * 600_000 + 17,
        partition,
        region: REGION,
        kind: 'write',
        standsFor: { reads: ((hour + 1) * 100) / 4, writes: ((hour + 1) * 10) / 4 },
      });
    }
  }
  return out;
}

/**
 * `prestage up`'s path for a delayed batch: the load generator sends three trace hours' requests together, late
 * (the trace clock already in the fourth hour, as when the machine stalls), through a region's listener whose
 * recorder counts on the trace clock; returns the counts it wrote, by hour.
 */
async function countsOfDelayedBatch(countingInstant: CountingInstant): Promise<Map<number, number[]>> {
  let nowMs = T0 + 3 * HOUR + 10 * 60_000;
  const server = await LocalServer.start({
    port: 0,
    regions: [REGION],
    cellsPerRegion: 1,
    lease: TEST_LEASE,
    shardsPerPartition: 2,
    lazyMigrationRunner: true,
    accessCounting: {
      now: () => nowMs,
      bucketMs: HOUR,
      flushIntervalMs: 10 * HOUR,
      honourSampleWeights: true,
      countingInstant,
    },
  });
  servers.push(server);
  const generator = new LoadGenerator({
    urls: server.urls,
    readKeysOf: () => 1,
    measurements: { writesAcked: 0, record: () => undefined },
    maxInFlight: 64,
    random: seededRandom(7),
    lateAfterTraceMs: 60_000,
  });
  generator.enqueue(lateBatch('p-late'));
  generator.dispatchDue(nowMs);
  await generator.whenIdle();
  expect(generator.late).toBe(12);
  nowMs += 1_000;
  const listener = server.listeners.find((l) => l.region === REGION)!;
  await listener.recorder.flush();
  const byHour = new Map<number, number[]>();
  for (const c of await server.cluster.accessStatsIn(REGION).countsFor('p-late')) {
    byHour.set((c.bucketStartMs - T0) / HOUR, [c.count, c.writes ?? 0]);
  }
  return byHour;
}

const servers: LocalServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

describe("up's recorders count a late request in the trace hour it stands for", () => {
  it('a delayed, bunched batch lands in the hours its requests were due, not the hour it arrived in', async () => {
    const onTime = await countsOfDelayedBatch(COUNT_AS_DECLARED);
    expect(onTime).toEqual(
      new Map([
        [0, [110, 10]],
        [1, [220, 20]],
        [2, [330, 30]],
      ]),
    );
  }, 60_000);

  it('negative control: counted on arrival, the same batch all lands in the hour it arrived in', async () => {
    const onArrival = await countsOfDelayedBatch(COUNT_ON_ARRIVAL);
    expect(onArrival).toEqual(new Map([[3, [660, 60]]]));
  }, 60_000);

  it("the deployment's recorder (the default) counts on arrival, whatever instant a request declares", async () => {
    const written: AccessCount[] = [];
    const recorder = new AccessRecorder(
      {
        add: async (counts) => void written.push(...counts),
        countsFor: async () => [],
        coAccessFor: async () => [],
      },
      { bucketMs: HOUR, wallNow: () => T0 + 3 * HOUR + 1 },
    );
    recorder.record('p', REGION, 'read', undefined, { reads: 5, writes: 1, atMs: T0 });
    await recorder.flush();
    expect(written).toEqual([
      { partition: 'p', region: REGION, bucketStartMs: T0 + 3 * HOUR, count: 6, writes: 1 },
    ]);
  });

  it('the declared instant never moves a count into a bucket still to come, and is optional', () => {
    expect(COUNT_AS_DECLARED(5 * HOUR, 7 * HOUR)).toBe(5 * HOUR);
    expect(COUNT_AS_DECLARED(5 * HOUR, 2 * HOUR)).toBe(2 * HOUR);
    expect(COUNT_AS_DECLARED(5 * HOUR, undefined)).toBe(5 * HOUR);
    expect(COUNT_ON_ARRIVAL(5 * HOUR, 2 * HOUR)).toBe(5 * HOUR);
  });

  it('the sample-weight header carries the instant: round trip, and malformed instants rejected', () => {
    const weight = { reads: 12.5, writes: 0.25, atMs: T0 + 17 };
    expect(formatSampleWeight(weight)).toBe(`reads=12.5,writes=0.25,at=${T0 + 17}`);
    expect(parseSampleWeight(formatSampleWeight(weight))).toEqual(weight);
    expect(parseSampleWeight('reads=1,writes=0')).toEqual({ reads: 1, writes: 0 });
    for (const bad of [
      'reads=1,writes=0,at=',
      'reads=1,writes=0,at=1.5',
      'reads=1,writes=0,at=-1',
      'reads=1,writes=0,at=x',
    ]) {
      expect(parseSampleWeight(bad)).toMatch(/^at must be an integer epoch ms/);
    }
    expect(parseSampleWeight('reads=1,writes=0,at=1,at=2')).toMatch(/given twice/);
  });
});
