import { describe, expect, it } from 'vitest';
import type { ScoreRecord } from '../../../src/domain/scoring/score-record.ts';
import { OnlineErrorAccumulator } from '../../../src/profiler/online-error.ts';

const STEP = 900_000;
const T = Date.UTC(2024, 2, 5, 12, 0);

function previous(mean: Record<string, number[]>, stepSeconds = 900): ScoreRecord {
  return {
    partition: 'p',
    cell: 'c',
    affinity: 0,
    predictionVector: {},
    confidence: 0,
    peakStep: 0,
    peakOpsPerSec: 0,
    models: [],
    stepSeconds,
    forecastStartMs: T,
    mean,
    upper: mean,
    upperLevel: 0.9,
    observedOpsPerSec: {},
    scoredAtMs: T,
    cycleId: 'c0',
    expiresAt: 0,
  };
}

describe('OnlineErrorAccumulator', () => {
  it('scores the observed first steps of the previous forecast (pooled MASE and MAPE)', () => {
    const history = {
      startMs: T - 4 * STEP,
      intervalMs: STEP,
      regions: new Map([
        ['us-east-1', Float64Array.from([8, 12, 9, 11, 13, 7])],
        ['eu-west-1', Float64Array.from([5, 5, 5, 5, 5, 5])],
      ]),
    };
    const acc = new OnlineErrorAccumulator();
    acc.add(
      previous({ 'us-east-1': [10, 10, 10], 'eu-west-1': [5, 5, 5], 'ap-south-1': [1, 1, 1] }),
      history,
    );
    const result = acc.result();
    // Two steps observed in each of two regions (ap-south-1 has no history).
    expect(result.points).toBe(4);
    expect(result.series).toBe(2);
    // us-east-1: MAE 3 over a naive in-sample MAE of (4 + 3 + 2) / 3 = 3; eu-west-1 has scale 0 (left out).
    expect(result.mase).toBeCloseTo(1, 12);
    expect(result.mape).toBeCloseTo((100 * (3 / 13 + 3 / 7 + 0 + 0)) / 4, 9);
  });

  it('ignores forecasts on another grid or from before the history, and merges shards', () => {
    const history = { startMs: T, intervalMs: STEP, regions: new Map([['r', Float64Array.from([4, 6])]]) };
    const acc = new OnlineErrorAccumulator();
    acc.add(previous({ r: [1, 1] }, 300), history);
    acc.add({ ...previous({ r: [1, 1] }), forecastStartMs: T - STEP }, history);
    expect(acc.result().points).toBe(0);
    expect(Number.isNaN(acc.result().mase)).toBe(true);

    const other = new OnlineErrorAccumulator();
    other.add(previous({ r: [5, 5] }), history);
    acc.merge(other);
    // No in-sample history before T: MAPE only.
    expect(acc.result()).toMatchObject({ points: 2, series: 1 });
    expect(acc.result().mape).toBeCloseTo((100 * (1 / 4 + 1 / 6)) / 2, 9);
  });
});
