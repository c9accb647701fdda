import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CellRecord } from '../../../src/domain/data-plane/cell-record.ts';
import { newPartitionRecord, type PartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { hlcLowerBound } from '../../../src/domain/migration/hlc.ts';
import { PlannerRequestError } from '../../../src/planner-service/planner-errors.ts';
import {
  alignScore,
  buildPlannerInput,
  type ClusterSnapshot,
  type PlannerInputOptions,
  resampleSeries,
} from '../../../src/planner-service/planner-input.ts';
import { assertProperty } from '../../support/property.ts';
import { flatScore } from './planner-fixtures.ts';

const NOW = Date.parse('2025-01-01T12:00:00Z');
const cell = (id: string, region: string, status: CellRecord['status'] = 'ACTIVE'): CellRecord => ({
  id,
  region,
  table: `t-${id}`,
  capacityOpsPerSec: 100,
  capacityBytes: 1e9,
  status,
  version: 1,
});
const options: PlannerInputOptions = {
  nowMs: NOW,
  stepSeconds: 300,
  horizonSteps: 4,
  homeRegion: 'us-east-1',
  dataRegions: ['us-east-1', 'eu-west-1'],
  limits: { maxConcurrentMovesPerCell: 2, maxBytesPerCycle: 1e9 },
};
const partition = (id: string, cellId: string, patch: Partial<PartitionRecord> = {}): PartitionRecord => ({
  ...newPartitionRecord(id, cellId, 4, NOW - 86_400_000),
  ...patch,
});
const snapshot = (patch: Partial<ClusterSnapshot> = {}): ClusterSnapshot => ({
  cells: [
    cell('a', 'us-east-1'),
    cell('b', 'eu-west-1'),
    cell('new', 'us-east-1', 'PROVISIONING'),
    cell('old', 'us-east-1', 'RETIRED'),
  ],
  partitions: [partition('p1', 'a'), partition('p2', 'b')],
  scores: [
    flatScore(
      'p1',
      'a',
      { 'us-east-1': 10, 'ap-south-1': 2 },
      { nowMs: NOW, steps: 4, stepSeconds: 300, sizeBytes: 1000 },
    ),
  ],
  planMovesInFlight: [],
  ...patch,
});

describe('resampleSeries', () => {
  it('lines a forecast made earlier (or at another step) up with the planning grid; the last value holds', () => {
    // Made 10 minutes ago at 5-minute steps: step 0 of the plan is step 2 of the forecast.
    expect(resampleSeries([1, 2, 3, 4], NOW - 600_000, 300_000, NOW, 300_000, 4)).toEqual([3, 4, 4, 4]);
    // Hourly forecast planned at 30-minute steps.
    expect(resampleSeries([10, 20], NOW, 3_600_000, NOW, 1_800_000, 4)).toEqual([10, 10, 20, 20]);
    // A forecast starting in the future: before its start the first value holds.
    expect(resampleSeries([5, 6], NOW + 300_000, 300_000, NOW, 300_000, 3)).toEqual([5, 5, 6]);
  });

  it('always returns the horizon and only values of the series', () => {
    assertProperty(
      fc.property(
        fc.array(fc.nat(1000), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: -5, max: 40 }),
        fc.integer({ min: 1, max: 48 }),
        (values, offsetSteps, steps) => {
          const out = resampleSeries(values, NOW - offsetSteps * 300_000, 300_000, NOW, 300_000, steps);
          expect(out).toHaveLength(steps);
          for (const v of out) expect(values).toContain(v);
        },
      ),
    );
  });

  it('alignScore moves mean and upper together onto the grid', () => {
    const score = flatScore(
      'p',
      'a',
      { 'us-east-1': 10 },
      { nowMs: NOW - 300_000, steps: 3, stepSeconds: 300 },
    );
    const aligned = alignScore({ ...score, mean: { 'us-east-1': [1, 2, 3] } }, NOW, 300, 4);
    expect(aligned.mean['us-east-1']).toEqual([2, 3, 3, 3]);
    expect(aligned.upper['us-east-1']).toHaveLength(4);
    expect(aligned.forecastStartMs).toBe(NOW);
  });
});

describe('buildPlannerInput', () => {
  it('schedule: topology from the cells table, forecast regions included, provisioning and retired cells left out', () => {
    const { input, unscoredPartitions } = buildPlannerInput(snapshot(), { kind: 'schedule' }, options);
    expect(input.topology.cells.map((c) => c.id)).toEqual(['a', 'b']);
    expect(Object.keys(input.topology.regions)).toEqual(['ap-south-1', 'eu-west-1', 'us-east-1']);
    expect(input.topology.latencyMs['us-east-1']['eu-west-1']).toBeGreaterThan(50);
    expect(input.cellStatus).toEqual({ a: 'ACTIVE', b: 'ACTIVE' });
    expect(input.limits).toEqual({ maxConcurrentMovesPerCell: 2, maxBytesPerCycle: 1e9 });
    const p1 = input.partitions.find((p) => p.id === 'p1');
    expect(p1).toMatchObject({ cell: 'a', sizeBytes: 1000, affinity: 0.9 });
    expect(Array.from(p1?.forecast['us-east-1'] ?? [])).toEqual([10, 10, 10, 10]);
    // No score: planned with a zero forecast (it can still be drained).
    expect(unscoredPartitions).toBe(1);
    expect(Array.from(input.partitions.find((p) => p.id === 'p2')?.forecast['us-east-1'] ?? [])).toEqual([
      0, 0, 0, 0,
    ]);
  });

  it('scale-out plans the named cells as PROVISIONING; scale-in plans them as DRAINING', () => {
    const out = buildPlannerInput(snapshot(), { kind: 'scale-out', cellIds: ['new'] }, options).input;
    expect(out.cellStatus).toEqual({ a: 'ACTIVE', b: 'ACTIVE', new: 'PROVISIONING' });
    const marked = snapshot({
      cells: [cell('a', 'us-east-1'), cell('b', 'eu-west-1'), cell('new', 'us-east-1', 'ACTIVE')],
    });
    expect(
      buildPlannerInput(marked, { kind: 'scale-out', cellIds: ['new'] }, options).input.cellStatus?.new,
    ).toBe('PROVISIONING');
    const drain = buildPlannerInput(snapshot(), { kind: 'scale-in', cellIds: ['a'] }, options).input;
    expect(drain.cellStatus).toEqual({ a: 'DRAINING', b: 'ACTIVE' });
    expect(() => buildPlannerInput(snapshot(), { kind: 'scale-in', cellIds: ['zz'] }, options)).toThrow(
      PlannerRequestError,
    );
  });

  it('moves in flight: fences first, then unfinished moves of running plans; cells they touch stay in the topology', () => {
    const fenced = partition('p1', 'a', {
      status: 'MIGRATING',
      fence: { owner: 'm1', sourceCell: 'a', targetCell: 'new', acquiredAtMs: NOW, stage: 'copy' },
    });
    const { input } = buildPlannerInput(
      snapshot({
        partitions: [fenced, partition('p2', 'b'), partition('p3', 'a')],
        planMovesInFlight: [
          { partition: 'p1', from: 'a', to: 'b', bytes: 5 },
          { partition: 'p3', from: 'a', to: 'b', bytes: 7 },
          { partition: 'gone', from: 'a', to: 'b', bytes: 1 },
        ],
      }),
      { kind: 'schedule' },
      options,
    );
    expect(input.inFlight).toEqual([
      { partition: 'p1', from: 'a', to: 'new', bytes: 1000 },
      { partition: 'p3', from: 'a', to: 'b', bytes: 7 },
    ]);
    // 'new' is another run's PROVISIONING cell: present (a move goes there) but no target.
    expect(input.cellStatus?.new).toBe('RETIRED');
  });

  it("a cold-copy drop's fence holds the partition where it is, not as a move into the copy's cell", () => {
    const dropping = partition('p1', 'a', {
      status: 'MIGRATING',
      fence: { owner: 'gc:plan-1:b', sourceCell: 'a', targetCell: 'b', acquiredAtMs: NOW, stage: 'acquire' },
    });
    const { input } = buildPlannerInput(
      snapshot({ partitions: [dropping, partition('p2', 'b')], planMovesInFlight: [] }),
      { kind: 'schedule' },
      options,
    );
    expect(input.inFlight).toEqual([{ partition: 'p1', from: 'a', to: 'a', bytes: 0 }]);
  });

  it('leaves out partitions on unknown cells, expired scores and scores of deleted partitions', () => {
    const expired = {
      ...flatScore('p2', 'b', { 'eu-west-1': 3 }, { nowMs: NOW, steps: 4, stepSeconds: 300 }),
      expiresAt: NOW / 1000 - 1,
    };
    const orphan = flatScore('deleted', 'a', { 'us-east-1': 3 }, { nowMs: NOW, steps: 4, stepSeconds: 300 });
    const built = buildPlannerInput(
      snapshot({
        partitions: [partition('p1', 'a'), partition('p2', 'b'), partition('lost', 'nowhere')],
        scores: [...snapshot().scores, expired, orphan],
      }),
      { kind: 'schedule' },
      options,
    );
    expect(built.skippedPartitions).toEqual(['lost']);
    expect(built.orphanScores).toBe(1);
    expect(built.unscoredPartitions).toBe(1);
    expect(built.input.partitions.map((p) => p.id)).toEqual(['p1', 'p2']);
  });

  it("plans each partition at its measured size (the record's over the score's), unmeasured ones at the fleet median", () => {
    const unsized = (id: string, cellId: string) => {
      const { sizeBytes: _none, ...score } = flatScore(
        id,
        cellId,
        { 'us-east-1': 1 },
        { nowMs: NOW, steps: 4, stepSeconds: 300 },
      );
      return score;
    };
    const built = buildPlannerInput(
      snapshot({
        partitions: [
          partition('m1', 'a', { sizeBytes: 3000, sizeMeasuredAtMs: NOW - 1000 }),
          partition('m2', 'a'),
          partition('m3', 'b', { sizeBytes: 7000, sizeMeasuredAtMs: NOW - 1000 }),
          partition('u1', 'b'),
          partition('u2', 'a'),
        ],
        scores: [
          flatScore(
            'm1',
            'a',
            { 'us-east-1': 1 },
            { nowMs: NOW, steps: 4, stepSeconds: 300, sizeBytes: 1000 },
          ),
          flatScore(
            'm2',
            'a',
            { 'us-east-1': 1 },
            { nowMs: NOW, steps: 4, stepSeconds: 300, sizeBytes: 5000 },
          ),
          unsized('u1', 'b'),
        ],
      }),
      { kind: 'schedule' },
      options,
    );
    const sizes = Object.fromEntries(built.input.partitions.map((p) => [p.id, p.sizeBytes]));
    // u1 has a score without a size, u2 no score at all: both at the median of 3000, 5000, 7000.
    expect(sizes).toEqual({ m1: 3000, m2: 5000, m3: 7000, u1: 5000, u2: 5000 });
    expect(built).toMatchObject({ unmeasuredPartitions: 2, defaultSizeBytes: 5000 });
    // A fenced partition's move in flight counts its planned size too.
    const fenced = buildPlannerInput(
      snapshot({
        partitions: [
          partition('m1', 'a', {
            sizeBytes: 3000,
            status: 'MIGRATING',
            fence: { owner: 'x', sourceCell: 'a', targetCell: 'b', acquiredAtMs: NOW, stage: 'copy' },
          }),
        ],
        scores: [],
      }),
      { kind: 'schedule' },
      options,
    );
    expect(fenced.input.inFlight).toEqual([{ partition: 'm1', from: 'a', to: 'b', bytes: 3000 }]);
  });

  it('with nothing measured plans 1 GiB a partition (never 0), but never more than its cell holds below headroom', () => {
    const big = (id: string, region: string, capacityBytes: number): CellRecord => ({
      ...cell(id, region),
      capacityBytes,
    });
    const built = buildPlannerInput(
      {
        cells: [big('a', 'us-east-1', 1e12), big('small', 'eu-west-1', 1e9)],
        partitions: [
          partition('x1', 'a'),
          partition('x2', 'a'),
          partition('y1', 'small'),
          partition('y2', 'small'),
        ],
        scores: [],
        planMovesInFlight: [],
      },
      { kind: 'schedule' },
      options,
    );
    const sizes = Object.fromEntries(built.input.partitions.map((p) => [p.id, p.sizeBytes]));
    // The small cell holds 0.8 × 1e9 below headroom: its two unmeasured partitions are assumed to fill it, no more.
    expect(sizes).toEqual({ x1: 2 ** 30, x2: 2 ** 30, y1: 4e8, y2: 4e8 });
    expect(built).toMatchObject({ unmeasuredPartitions: 4, defaultSizeBytes: 2 ** 30 });
  });

  it('keeps the cooldown of a partition that moved recently and relationships between scored partitions', () => {
    const moved = partition('p1', 'a', {
      lastMigration: {
        id: 'm',
        outcome: 'COMMITTED',
        fromCell: 'b',
        toCell: 'a',
        stage: 'commit',
        atMs: NOW - 1000,
      },
    });
    const s1 = {
      ...flatScore('p1', 'a', { 'us-east-1': 1 }, { nowMs: NOW, steps: 4, stepSeconds: 300 }),
      related: { p2: 3 },
    };
    const s2 = flatScore('p2', 'b', { 'eu-west-1': 1 }, { nowMs: NOW, steps: 4, stepSeconds: 300 });
    const { input } = buildPlannerInput(
      snapshot({ partitions: [moved, partition('p2', 'b')], scores: [s1, s2] }),
      { kind: 'schedule' },
      options,
    );
    expect(input.partitions.find((p) => p.id === 'p1')?.lastMovedAtMs).toBe(NOW - 1000);
    expect(input.relationships).toEqual([{ a: 'p1', b: 'p2', coAccessPerSec: 3 }]);
  });

  it("passes each partition's retained cold copies (cold replicas with a watermark, on planned cells) to the planner", () => {
    const watermarkMs = NOW - 3_600_000;
    const retained = partition('p1', 'a', {
      replicas: {
        b: { state: 'cold', watermark: hlcLowerBound(watermarkMs), updatedAtMs: NOW },
        // A copy still being built, a stale one, and one on a retired cell are no copies to plan with.
        new: { state: 'building', copyMode: 'full', sinceHlc: hlcLowerBound(NOW), updatedAtMs: NOW },
        old: { state: 'cold', watermark: hlcLowerBound(watermarkMs), updatedAtMs: NOW },
      },
    });
    const stale = partition('p2', 'b', { replicas: { a: { state: 'stale', updatedAtMs: NOW } } });
    const { input } = buildPlannerInput(
      snapshot({ partitions: [retained, stale] }),
      { kind: 'schedule' },
      options,
    );
    expect(input.partitions.find((p) => p.id === 'p1')?.coldCopies).toEqual([{ cell: 'b', watermarkMs }]);
    expect(input.partitions.find((p) => p.id === 'p2')?.coldCopies).toBeUndefined();
    const unscored = buildPlannerInput(
      snapshot({ partitions: [partition('p3', 'a', { replicas: retained.replicas })] }),
      { kind: 'schedule' },
      options,
    );
    expect(unscored.unscoredPartitions).toBe(1);
    expect(unscored.input.partitions[0].coldCopies).toEqual([{ cell: 'b', watermarkMs }]);
  });
});
