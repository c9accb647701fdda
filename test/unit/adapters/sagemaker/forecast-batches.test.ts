import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chronosCodec } from '../../../../src/adapters/forecast-contracts/chronos-codec.ts';
import { deepArCodec } from '../../../../src/adapters/forecast-contracts/deepar-codec.ts';
import { planForecastBatches } from '../../../../src/adapters/sagemaker/forecast-batches.ts';
import type { ForecastRequest } from '../../../../src/domain/forecasting/forecast-model.ts';
import { assertProperty } from '../../../support/property.ts';

const START = Date.parse('2024-03-01T00:00:00Z');

function request(i: number, length: number, horizon: number, intervalMs = 300_000): ForecastRequest {
  return {
    itemId: `p${i}`,
    series: { startMs: START, intervalMs, values: Float64Array.from({ length }, (_, t) => (t * 7 + i) % 13) },
    horizon,
    quantileLevels: [0.1, 0.9],
  };
}

const requestsArb = fc
  .array(
    fc.record({
      length: fc.integer({ min: 1, max: 200 }),
      horizon: fc.constantFrom(4, 8),
      intervalMs: fc.constantFrom(300_000, 900_000),
    }),
    { minLength: 1, maxLength: 80 },
  )
  .map((specs) => specs.map((s, i) => request(i, s.length, s.horizon, s.intervalMs)));

describe('planForecastBatches', () => {
  it('puts every request in exactly one batch or refusal, within both limits, one configuration per batch', () => {
    const seenCases = { refused: 0, splitByBytes: 0 };
    assertProperty(
      fc.property(
        requestsArb,
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 200, max: 20_000 }),
        (requests, maxSeriesPerRequest, maxPayloadBytes) => {
          const plan = planForecastBatches(requests, deepArCodec(), { maxSeriesPerRequest, maxPayloadBytes });
          if (plan.refused.length > 0) seenCases.refused++;
          if (
            plan.batches.some((b) => b.indices.length < maxSeriesPerRequest && b.bytes * 2 > maxPayloadBytes)
          ) {
            seenCases.splitByBytes++;
          }
          const seen = [...plan.batches.flatMap((b) => b.indices), ...plan.refused.flatMap((r) => r.indices)];
          expect(seen.sort((a, b) => a - b)).toEqual(requests.map((_, i) => i));
          for (const batch of plan.batches) {
            expect(batch.indices.length).toBeLessThanOrEqual(maxSeriesPerRequest);
            expect(batch.bytes).toBe(Buffer.byteLength(batch.body));
            expect(batch.bytes).toBeLessThanOrEqual(maxPayloadBytes);
            const body = JSON.parse(batch.body);
            expect(body.instances).toHaveLength(batch.indices.length);
            const first = requests[batch.indices[0]];
            for (const i of batch.indices) {
              expect(requests[i].horizon).toBe(first.horizon);
              expect(requests[i].series.intervalMs).toBe(first.series.intervalMs);
            }
            // Request order is kept inside a batch.
            expect([...batch.indices]).toEqual([...batch.indices].sort((a, b) => a - b));
          }
          // Only a request that alone is too large is refused.
          for (const refused of plan.refused) {
            expect(refused.reason).toBe('payload-too-large');
            expect(refused.indices).toHaveLength(1);
            const alone = JSON.stringify(deepArCodec().encode([requests[refused.indices[0]]]));
            expect(Buffer.byteLength(alone)).toBeGreaterThan(maxPayloadBytes);
          }
        },
      ),
      { numRuns: 150 },
    );
    // The generated cases do exercise both refusals and byte-driven splits.
    expect(seenCases.refused).toBeGreaterThan(5);
    expect(seenCases.splitByBytes).toBeGreaterThan(5);
  });

  it('does not split when everything fits', () => {
    const requests = Array.from({ length: 25 }, (_, i) => request(i, 50, 8));
    const plan = planForecastBatches(requests, deepArCodec(), {
      maxSeriesPerRequest: 10,
      maxPayloadBytes: 6e6,
    });
    expect(plan.batches.map((b) => b.indices.length)).toEqual([10, 10, 5]);
    expect(plan.refused).toEqual([]);
  });

  it('refuses only the series the contract cannot carry, keeping their neighbours together', () => {
    const requests = Array.from({ length: 12 }, (_, i) => request(i, i === 5 || i === 9 ? 3 : 40, 6));
    const plan = planForecastBatches(requests, chronosCodec(), {
      maxSeriesPerRequest: 12,
      maxPayloadBytes: 6e6,
    });
    expect(plan.refused.map((r) => [r.indices, r.reason])).toEqual([
      [[5], 'request-contract'],
      [[9], 'request-contract'],
    ]);
    expect(plan.refused[0].message).toMatch(/'p5' has 3 observations/);
    expect(plan.batches.flatMap((b) => b.indices)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 10, 11]);
  });

  it('refuses a single series larger than the payload limit', () => {
    const requests = [request(0, 10, 4), request(1, 5000, 4), request(2, 10, 4)];
    const plan = planForecastBatches(requests, deepArCodec(), {
      maxSeriesPerRequest: 3,
      maxPayloadBytes: 2000,
    });
    expect(plan.refused).toHaveLength(1);
    expect(plan.refused[0]).toMatchObject({ indices: [1], reason: 'payload-too-large' });
    expect(plan.refused[0].message).toMatch(/'p1' alone makes a \d+-byte request body; the limit is 2000/);
    expect(plan.batches.flatMap((b) => b.indices)).toEqual([0, 2]);
  });
});
