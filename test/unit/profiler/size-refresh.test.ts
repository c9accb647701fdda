import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newPartitionRecord, type PartitionRecord } from '../../../src/domain/data-plane/partition-record.ts';
import { partitionsDueForSizing } from '../../../src/profiler/size-refresh.ts';
import { assertProperty } from '../../support/property.ts';

const NOW = 10_000_000;
const MAX_AGE = 1_000;

const recordArb = (i: number) =>
  fc
    .record({
      createdAtMs: fc.integer({ min: 0, max: NOW }),
      measuredAgo: fc.option(fc.integer({ min: 0, max: 5 * MAX_AGE }), { nil: undefined }),
      migrating: fc.boolean(),
    })
    .map(({ createdAtMs, measuredAgo, migrating }): PartitionRecord => {
      const base = newPartitionRecord(`p${i}`, 'c1', 4, createdAtMs);
      return {
        ...base,
        ...(measuredAgo !== undefined && { sizeBytes: 100, sizeMeasuredAtMs: NOW - measuredAgo }),
        ...(migrating && {
          status: 'MIGRATING' as const,
          fence: { owner: 'm', sourceCell: 'c1', targetCell: 'c2', acquiredAtMs: 0, stage: 'copy' as const },
        }),
      };
    });

const recordsArb = fc
  .integer({ min: 0, max: 40 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => recordArb(i))));

const isDue = (r: PartitionRecord) =>
  r.fence === undefined && (r.sizeMeasuredAtMs === undefined || NOW - r.sizeMeasuredAtMs > MAX_AGE);

describe('partitionsDueForSizing', () => {
  it('selects at most the bound, only due partitions, and the stalest of them', () => {
    assertProperty(
      fc.property(recordsArb, fc.integer({ min: 0, max: 50 }), (records, limit) => {
        const { due, selected } = partitionsDueForSizing(records, NOW, MAX_AGE, limit);
        const eligible = records.filter(isDue);
        expect(due).toBe(eligible.length);
        expect(selected).toHaveLength(Math.min(limit, eligible.length));
        for (const r of selected) expect(isDue(r)).toBe(true);
        // No partition left out is staler than one selected.
        const age = (r: PartitionRecord) =>
          r.sizeMeasuredAtMs === undefined ? Infinity : NOW - r.sizeMeasuredAtMs;
        const chosen = new Set(selected.map((r) => r.partition));
        const youngestSelected = Math.min(...selected.map(age));
        for (const r of eligible)
          if (!chosen.has(r.partition)) expect(age(r)).toBeLessThanOrEqual(youngestSelected);
        // Ordered stalest first.
        for (let i = 1; i < selected.length; i++)
          expect(age(selected[i - 1])).toBeGreaterThanOrEqual(age(selected[i]));
      }),
    );
  });

  it('orders never-measured partitions by age of the record, then by id', () => {
    const r = (id: string, createdAtMs: number, measuredAtMs?: number): PartitionRecord => ({
      ...newPartitionRecord(id, 'c1', 1, createdAtMs),
      ...(measuredAtMs !== undefined && { sizeBytes: 1, sizeMeasuredAtMs: measuredAtMs }),
    });
    const records = [r('b', 5), r('stale', 0, NOW - 2 * MAX_AGE), r('a', 5), r('old', 1), r('fresh', 0, NOW)];
    expect(partitionsDueForSizing(records, NOW, MAX_AGE, 10).selected.map((x) => x.partition)).toEqual([
      'old',
      'a',
      'b',
      'stale',
    ]);
    expect(partitionsDueForSizing(records, NOW, MAX_AGE, 0)).toEqual({ due: 4, selected: [] });
  });
});
