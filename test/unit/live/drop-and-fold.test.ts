import { afterEach, describe, expect, it } from 'vitest';
import { COUNT_AS_DECLARED } from '../../../src/data-plane/access-recorder.ts';
import { CellHealth } from '../../../src/data-plane/cell-health.ts';
import { RoutingClient } from '../../../src/data-plane/routing-client.ts';
import { HybridLogicalClock } from '../../../src/domain/migration/hlc.ts';
import { seededRandom } from '../../../src/domain/seeded-random.ts';
import type { RequestOutcome } from '../../../src/live/live-measurements.ts';
import { LoadGenerator, type LoadGeneratorOptions } from '../../../src/live/load-generator.ts';
import type { SampledRequest } from '../../../src/live/request-sampler.ts';
import { LocalServer } from '../../../src/local/local-server.ts';
import {
  FOLDED_WEIGHT_HEADER,
  formatFoldedWeights,
  parseFoldedWeights,
} from '../../../src/local/regional-listener.ts';
import { TEST_LEASE } from '../../support/test-cluster.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const REGION = 'us-east-1';
/** A trace hour on a bucket boundary (2015-03-10T00:00Z). */
const T0 = Date.UTC(2015, 2, 10);

function request(partition: string, atTraceMs: number, reads: number, writes: number): SampledRequest {
  return {
    atTraceMs,
    partition,
    region: REGION,
    kind: writes > reads ? 'write' : 'read',
    standsFor: { reads, writes },
  };
}

/**
 * Three series, each request standing for a different demand so a count lost or moved to another hour shows:
 * - `p-a`: four requests in each of the hours T0, T0 + 1 h, T0 + 2 h, then one due just before the clock's
 *   reading: the twelve are far too late and dropped, the last is sent in time and carries their weights;
 * - `p-b`: two requests in hour T0 + 1 h and none after: dropped, declared at the end by a request of their own;
 * - `p-c`: two requests due together with one request allowed in flight: the second waits, becomes late while the
 *   first is in flight and is dropped, and the third, due later, carries it.
 */
function trace(): { early: SampledRequest[]; pC: SampledRequest[] } {
  const early: SampledRequest[] = [];
  for (let hour = 0; hour < 3; hour++) {
    for (let i = 0; i < 4; i++) {
      early.push(request('p-a', T0 + hour * HOUR + i * 10 * MINUTE + 17, (hour + 1) * 100 + i, hour + 1));
    }
  }
  early.push(request('p-b', T0 + HOUR + 5 * MINUTE, 7, 3));
  early.push(request('p-b', T0 + HOUR + 45 * MINUTE, 11, 0));
  early.push(request('p-a', T0 + 2 * HOUR + 59 * MINUTE, 5, 0));
  early.sort((x, y) => x.atTraceMs - y.atTraceMs);
  const at = T0 + 3 * HOUR + 10 * MINUTE;
  const pC = [request('p-c', at, 40, 0), request('p-c', at, 0, 9), request('p-c', at + 2 * MINUTE, 13, 0)];
  return { early, pC };
}

/** What the trace's requests stand for, by partition and hour: [reads + writes, writes]. */
function expectedCounts(requests: readonly SampledRequest[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const r of requests) {
    const key = `${r.partition} ${Math.floor((r.atTraceMs - T0) / HOUR)}`;
    const [count, writes] = out.get(key) ?? [0, 0];
    out.set(key, [count + r.standsFor!.reads + r.standsFor!.writes, writes + r.standsFor!.writes]);
  }
  return out;
}

const servers: LocalServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/**
 * Replays `trace()` through a listener counting as `up`'s do (on the trace clock, at the instant each weight
 * declares), with one request in flight at most and the clock read at a few instants; returns the counts the
 * listener wrote by partition and hour, what the generator measured, and its tallies.
 */
async function replay(lateRequests: NonNullable<LoadGeneratorOptions['lateRequests']>) {
  let nowMs = T0 + 2 * HOUR + 59 * MINUTE + 30_000;
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
      countingInstant: COUNT_AS_DECLARED,
    },
  });
  servers.push(server);
  // The partitions and the key reads ask for exist, as `up` seeds them, written without counting.
  const seeder = new RoutingClient({
    partitions: server.cluster.partitions,
    cells: server.cluster.cells,
    stores: server.cluster.stores,
    clock: new HybridLogicalClock('seed'),
    lease: TEST_LEASE,
    region: REGION,
    shardsPerPartition: 2,
    health: new CellHealth(),
  });
  for (const partition of ['p-a', 'p-b', 'p-c']) await seeder.put(partition, 'k0', { seeded: true });
  const outcomes: RequestOutcome[] = [];
  const generator = new LoadGenerator({
    urls: server.urls,
    readKeysOf: () => 1,
    measurements: { writesAcked: 0, record: (o) => void outcomes.push(o) },
    maxInFlight: 1,
    random: seededRandom(7),
    lateAfterTraceMs: MINUTE,
    lateRequests,
    foldBucketMs: HOUR,
  });
  const { early, pC } = trace();
  generator.enqueue(early);
  generator.dispatchDue(nowMs);
  await generator.whenIdle();
  nowMs = pC[0].atTraceMs;
  generator.enqueue(pC);
  generator.dispatchDue(nowMs);
  expect(generator.inFlight).toBe(1);
  // The first p-c request is still in flight (nothing awaited): the second is now two minutes late.
  nowMs += 2 * MINUTE;
  generator.dispatchDue(nowMs);
  await generator.whenIdle();
  nowMs += 10_000;
  generator.dispatchDue(nowMs);
  await generator.whenIdle();
  const foldCarriers = generator.foldRemaining(nowMs);
  await generator.whenIdle();
  const listener = server.listeners.find((l) => l.region === REGION)!;
  nowMs += 1_000;
  await listener.recorder.flush();
  const counts = new Map<string, [number, number]>();
  for (const partition of ['p-a', 'p-b', 'p-c']) {
    for (const c of await server.cluster.accessStatsIn(REGION).countsFor(partition)) {
      counts.set(`${partition} ${(c.bucketStartMs - T0) / HOUR}`, [c.count, c.writes ?? 0]);
    }
  }
  return {
    counts,
    outcomes,
    dropped: generator.dropped,
    late: generator.late,
    foldCarriers,
    all: [...early, ...pC],
  };
}

const weightOf = (rows: readonly { weight?: number }[]) => rows.reduce((s, r) => s + (r.weight ?? 1), 0);

describe('the load generator drops a request it cannot send in time and folds its weight into its series', () => {
  it('the counts per partition and hour stay the trace’s, and the measurements weigh every request', async () => {
    const run = await replay('drop-and-fold');
    // p-a: 12 dropped; p-b: 2 dropped; p-c: the one that waited behind the in-flight limit.
    expect(run.dropped).toBe(15);
    expect(run.late).toBe(0);
    expect(run.foldCarriers).toBe(1);
    // Sent: p-a's last, p-c's first and third, and p-b's fold carrier.
    expect(run.outcomes).toHaveLength(4);
    expect(run.outcomes.every((o) => o.status === 200)).toBe(true);
    expect(run.counts).toEqual(expectedCounts(run.all));
    const total = run.all.reduce((s, r) => s + r.standsFor!.reads + r.standsFor!.writes, 0);
    expect(weightOf(run.outcomes)).toBeCloseTo(total, 9);
  }, 60_000);

  it('negative control: dropped without folding, the counts fall short by exactly the dropped demand', async () => {
    const run = await replay('drop');
    expect(run.dropped).toBe(15);
    expect(run.foldCarriers).toBe(0);
    expect(run.counts).not.toEqual(expectedCounts(run.all));
    const sent = run.all.filter(
      (r) =>
        (r.partition === 'p-a' && r.atTraceMs === T0 + 2 * HOUR + 59 * MINUTE) ||
        (r.partition === 'p-c' && r.standsFor!.writes === 0),
    );
    expect(run.counts).toEqual(expectedCounts(sent));
  }, 60_000);

  it('the folded-weight header round-trips and rejects what the sample-weight header rejects', () => {
    const weights = [
      { reads: 1.5, writes: 0, atMs: T0 },
      { reads: 0, writes: 2, atMs: T0 + HOUR },
    ];
    expect(parseFoldedWeights(formatFoldedWeights(weights))).toEqual(weights);
    expect(parseFoldedWeights('reads=1,writes=0;reads=0,writes=0')).toMatch(/both 0/);
    expect(parseFoldedWeights(Array(65).fill('reads=1,writes=0').join(';'))).toMatch(/more than 64/);
    expect(FOLDED_WEIGHT_HEADER).toBe('x-prestage-folded-weight');
  });
});
