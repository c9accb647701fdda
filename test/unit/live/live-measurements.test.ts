import { describe, expect, it } from 'vitest';
import { LiveMeasurements, type RequestOutcome } from '../../../src/live/live-measurements.ts';

const HOUR = 3_600_000;

function outcome(overrides: Partial<RequestOutcome>): RequestOutcome {
  return {
    region: 'us-east-1',
    kind: 'read',
    atTraceMs: 0,
    latencyMs: 5,
    status: 200,
    local: true,
    ...overrides,
  };
}

describe('LiveMeasurements, weighted by the trace demand each request stands for', () => {
  it('weighs local share and latency by each request, as the backtest weighs its buckets by demand', () => {
    const m = new LiveMeasurements(['us-east-1', 'eu-west-1'], HOUR);
    // Three light local requests and one heavy remote one: by count 25% remote, by demand 90%.
    for (let i = 0; i < 3; i++) m.record(outcome({ weight: 100, latencyMs: 5 }));
    m.record(outcome({ weight: 2700, latencyMs: 85, local: false }));
    expect(m.remoteShare).toBeCloseTo(0.9, 9);
    const region = m.region('us-east-1');
    expect(region.requests).toBe(4);
    expect(region.localShare).toBeCloseTo(0.1, 9);
    expect(region.p50Ms).toBeGreaterThan(80); // the median request of the trace is the heavy remote one
    // Unweighted requests (a deployment's view, or a plain sample) count one each.
    const plain = new LiveMeasurements(['us-east-1'], HOUR);
    for (let i = 0; i < 3; i++) plain.record(outcome({ latencyMs: 5 }));
    plain.record(outcome({ latencyMs: 85, local: false }));
    expect(plain.remoteShare).toBeCloseTo(0.25, 9);
    expect(plain.region('us-east-1').p50Ms).toBeLessThan(10);
  });

  it('weighs each chart point the same way, and counts its requests', () => {
    const m = new LiveMeasurements(['eu-west-1'], HOUR);
    m.record(outcome({ region: 'eu-west-1', weight: 1, latencyMs: 5 }));
    m.record(outcome({ region: 'eu-west-1', weight: 1, latencyMs: 6 }));
    m.record(outcome({ region: 'eu-west-1', weight: 8, latencyMs: 90, local: false }));
    m.closePointsBefore(HOUR);
    const [point] = m.latencySeries();
    expect(point).toMatchObject({ region: 'eu-west-1', requests: 3, p50Ms: 90, p99Ms: 90 });
    expect(point.localShare).toBeCloseTo(0.2, 9);
  });
});
