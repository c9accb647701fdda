import { describe, expect, it } from 'vitest';
import type { ScoreRecord } from '../../../src/domain/scoring/score-record.ts';
import { ForecastTracker } from '../../../src/live/live-forecasts.ts';

const HOUR = 3_600_000;

function score(
  partition: string,
  forecastStartMs: number,
  peak: number,
  observed: number,
  mean: number[],
): ScoreRecord {
  return {
    partition,
    cell: 'us-a',
    affinity: 0.5,
    predictionVector: { 'eu-west-1': 0.8, 'us-east-1': 0.2 },
    confidence: 1,
    peakStep: 0,
    peakOpsPerSec: peak,
    models: ['embedded'],
    stepSeconds: 3600,
    forecastStartMs,
    mean: { 'eu-west-1': mean, 'us-east-1': mean.map(() => 0) },
    upper: { 'eu-west-1': mean, 'us-east-1': mean.map(() => 0) },
    upperLevel: 0.9,
    observedOpsPerSec: { 'eu-west-1': observed, 'us-east-1': 1 },
    scoredAtMs: forecastStartMs,
    cycleId: `c${forecastStartMs}`,
    expiresAt: 0,
  };
}

describe('ForecastTracker', () => {
  it('pairs each bucket with the latest forecast made for it and what the next cycle observed', () => {
    const tracker = new ForecastTracker();
    tracker.observe([score('p', 10 * HOUR, 5, 3, [4, 6])]);
    tracker.observe([score('p', 11 * HOUR, 5, 4.5, [7, 8])]);
    const [series] = tracker.series();
    expect(series.partition).toBe('p');
    expect(series.region).toBe('eu-west-1');
    expect(series.points).toEqual([
      { traceMs: 9 * HOUR, actual: 3, forecast: null },
      { traceMs: 10 * HOUR, actual: 4.5, forecast: 4 },
      { traceMs: 11 * HOUR, actual: null, forecast: 7 },
      { traceMs: 12 * HOUR, actual: null, forecast: 8 },
    ]);
  });

  it('shows the six hottest partitions of the latest cycle, and ignores a table read twice', () => {
    const tracker = new ForecastTracker();
    const scores = Array.from({ length: 8 }, (_, i) => score(`p${i}`, HOUR, i, 1, [1]));
    tracker.observe(scores);
    tracker.observe(scores);
    expect(tracker.series().map((s) => s.partition)).toEqual(['p7', 'p6', 'p5', 'p4', 'p3', 'p2']);
    expect(tracker.series()[0].points).toHaveLength(2);
  });
});
