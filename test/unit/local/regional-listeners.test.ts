import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalServer } from '../../../src/local/local-server.ts';
import { REAL_WAN_LATENCY, wanRoundTripMs } from '../../../src/local/wan-latency.ts';
import { testAsl } from '../../support/migration-harness.ts';
import { TEST_LEASE } from '../../support/test-cluster.ts';

const RTT_MS = wanRoundTripMs(REAL_WAN_LATENCY, 'eu-west-1', 'us-east-1');

/** Milliseconds of each of `n` GETs of one item through one listener. */
async function readLatencies(url: string, path: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const response = await fetch(`${url}${path}`);
    expect(response.status).toBe(200);
    await response.json();
    out.push(performance.now() - started);
  }
  return out;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

describe('one listener per region: region of arrival, placement, locality a client can measure', () => {
  let server: LocalServer;

  beforeAll(async () => {
    testAsl();
    server = await LocalServer.start({
      port: 0,
      regions: ['us-east-1', 'eu-west-1'],
      cellsPerRegion: 1,
      lease: TEST_LEASE,
      waitOverrideMs: 0,
      shardsPerPartition: 2,
      wanLatency: REAL_WAN_LATENCY,
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('places a new partition in the region of the listener that took its first write', async () => {
    for (const region of ['us-east-1', 'eu-west-1']) {
      const response = await fetch(`${server.urls.get(region)}/v1/partitions/first-${region}/items/k`, {
        method: 'PUT',
        body: '1',
      });
      expect(response.status).toBe(200);
      const record = await server.cluster.partitions.get(`first-${region}`);
      expect(server.cluster.regionOfCell(record!.cell)).toBe(region);
    }
  });

  it('an eu-west-1 client pays the inter-region round trip for data in us-east-1, and not after the move', async () => {
    const us = server.urls.get('us-east-1')!;
    const eu = server.urls.get('eu-west-1')!;
    const path = '/v1/partitions/catalog/items/sku-1';
    expect((await fetch(`${us}${path}`, { method: 'PUT', body: '{"price":3}' })).status).toBe(200);
    expect(RTT_MS).toBeGreaterThan(50);

    // Warm the eu-west-1 listener's routing cache, then measure: every read crosses to us-east-1 and back.
    await readLatencies(eu, path, 3);
    const remote = await readLatencies(eu, path, 10);
    expect(Math.min(...remote)).toBeGreaterThanOrEqual(RTT_MS);
    expect(
      server.listeners.find((l) => l.region === 'eu-west-1')!.stores.crossRegionCalls,
    ).toBeGreaterThanOrEqual(10);

    const moved = await fetch(`${us}/v1/admin/migrations`, {
      method: 'POST',
      body: JSON.stringify({ partition: 'catalog', targetCell: 'eu-west-1-c1', canarySteps: [] }),
    });
    expect(moved.status).toBe(202);
    const id = ((await moved.json()) as { migrationId: string }).migrationId;
    for (;;) {
      const state = (await (await fetch(`${us}/v1/admin/migrations/${id}`)).json()) as { status: string };
      if (state.status !== 'RUNNING') {
        expect(state.status).toBe('SUCCEEDED');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // The same reads are local now: no call crosses regions, so none waits the round trip (the typical read takes
    // a few milliseconds; the timing bound is loose so a loaded machine does not fail it).
    await readLatencies(eu, path, 3);
    const euListener = server.listeners.find((l) => l.region === 'eu-west-1')!;
    const crossedBefore = euListener.stores.crossRegionCalls;
    const local = await readLatencies(eu, path, 10);
    expect(euListener.stores.crossRegionCalls).toBe(crossedBefore);
    expect(median(local)).toBeLessThan(RTT_MS);
    // And a us-east-1 client now pays the trip the other way.
    expect(Math.min(...(await readLatencies(us, path, 5)))).toBeGreaterThanOrEqual(RTT_MS);
  });
});
