import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  defaultPartitionSizeBytes,
  parseScoreRecord,
  plannerPartitionFromScore,
  type ScoreRecord,
  UNMEASURED_PARTITION_BYTES,
} from '../../../../src/domain/scoring/score-record.ts';
import { assertProperty } from '../../../support/property.ts';

const record = (sizeBytes?: number): ScoreRecord => ({
  partition: 'p',
  cell: 'c1',
  affinity: 0.5,
  predictionVector: { 'us-east-1': 1 },
  confidence: 0.5,
  peakStep: 0,
  peakOpsPerSec: 1,
  models: ['embedded'],
  ...(sizeBytes !== undefined && { sizeBytes }),
  stepSeconds: 900,
  forecastStartMs: 0,
  mean: { 'us-east-1': [1, 1] },
  upper: { 'us-east-1': [2, 2] },
  upperLevel: 0.9,
  observedOpsPerSec: { 'us-east-1': 1 },
  scoredAtMs: 0,
  cycleId: 'c',
  expiresAt: 0,
});

describe('defaultPartitionSizeBytes', () => {
  it('is the median of the measured sizes, else 1 GiB', () => {
    expect(defaultPartitionSizeBytes([])).toBe(UNMEASURED_PARTITION_BYTES);
    expect(UNMEASURED_PARTITION_BYTES).toBe(2 ** 30);
    expect(defaultPartitionSizeBytes([9, 1, 5])).toBe(5);
    expect(defaultPartitionSizeBytes([4, 1, 10, 6])).toBe(5);
    expect(defaultPartitionSizeBytes([Number.NaN, -3, 7])).toBe(7);
  });

  it('splits the measured sizes in halves (property)', () => {
    assertProperty(
      fc.property(fc.array(fc.nat(1e12), { minLength: 1, maxLength: 60 }), (sizes) => {
        const median = defaultPartitionSizeBytes(sizes);
        expect(sizes.filter((s) => s <= median).length).toBeGreaterThanOrEqual(sizes.length / 2);
        expect(sizes.filter((s) => s >= median).length).toBeGreaterThanOrEqual(sizes.length / 2);
      }),
    );
  });
});

describe('plannerPartitionFromScore sizes', () => {
  it('plans the context size, else the score size, else the default, else 1 GiB; never 0 for unknown', () => {
    expect(plannerPartitionFromScore(record(500), { sizeBytes: 900 }).sizeBytes).toBe(900);
    expect(plannerPartitionFromScore(record(500), { defaultSizeBytes: 7 }).sizeBytes).toBe(500);
    expect(plannerPartitionFromScore(record(0)).sizeBytes).toBe(0);
    expect(plannerPartitionFromScore(record(), { defaultSizeBytes: 7 }).sizeBytes).toBe(7);
    expect(plannerPartitionFromScore(record()).sizeBytes).toBe(UNMEASURED_PARTITION_BYTES);
  });
});

describe('plannerPartitionFromScore persistence', () => {
  it('floors the upper quantile by the persistence level over the window, else by the last observation', () => {
    const base = {
      ...record(1),
      stepSeconds: 1800,
      upper: { 'us-east-1': [2, 2, 2] },
      mean: { 'us-east-1': [1, 1, 1] },
    };
    // Without a persistence level the last observation (5) floors the first hour (two 30-minute steps).
    expect(
      plannerPartitionFromScore({ ...base, observedOpsPerSec: { 'us-east-1': 5 } }).forecastUpper,
    ).toEqual({
      'us-east-1': [5, 5, 2],
    });
    // A burst onset's grown level (9) replaces it.
    const grown = {
      ...base,
      observedOpsPerSec: { 'us-east-1': 5 },
      persistenceOpsPerSec: { 'us-east-1': 9 },
    };
    expect(plannerPartitionFromScore(grown).forecastUpper).toEqual({ 'us-east-1': [9, 9, 2] });
    expect(parseScoreRecord(grown).persistenceOpsPerSec).toEqual({ 'us-east-1': 9 });
    expect(() => parseScoreRecord({ ...grown, persistenceOpsPerSec: { 'us-east-1': -1 } })).toThrow(
      /persistenceOpsPerSec/,
    );
  });
});
