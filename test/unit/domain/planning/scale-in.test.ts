import { describe, expect, it } from 'vitest';
import {
  cellHourPriceUsd,
  DEFAULT_PRICE_PER_OPS_HOUR_USD,
} from '../../../../src/domain/planning/cell-price.ts';
import {
  assessScaleIns,
  balancedLoadPenaltyUsd,
  DEFAULT_SCALE_IN_OPTIONS,
  decideScaleIns,
  homeRegionOf,
  rollPeakWindow,
  type ScaleInCell,
  type ScaleInInput,
  type ScaleInPartition,
} from '../../../../src/domain/planning/scale-in.ts';

const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 0, 6, 12);
const STEP = 15 * 60_000;

const cell = (id: string, status: ScaleInCell['status'] = 'ACTIVE', region = 'r'): ScaleInCell => ({
  id,
  region,
  status,
  capacityOpsPerSec: 1000,
  hourPriceUsd: 0.25,
});

/** A partition carrying `ops` over the 8-step horizon and `peak` in every hour of the last day. */
const partition = (cellId: string, ops: number, peak = ops, sizeBytes = 1e9): ScaleInPartition => ({
  cell: cellId,
  sizeBytes,
  upper: new Array(8).fill(ops),
  recentPeaks: new Array(24).fill(peak),
});

const input = (cells: ScaleInCell[], partitions: ScaleInPartition[], extra: Partial<ScaleInInput> = {}) => ({
  nowMs: NOW,
  stepMs: STEP,
  recentSlotMs: HOUR,
  cells,
  partitions,
  ...extra,
});

describe('decideScaleIns', () => {
  // Three cells of 1,000 ops/s carrying 1,000 ops/s: two cells would run at 50%, under the 70% of the rule.
  const cells = [cell('a'), cell('b'), cell('c')];
  const spare = [partition('a', 400, 400, 5e9), partition('b', 400, 400, 5e9), partition('c', 200, 200, 1e9)];

  it('retires the cell that is cheapest to drain when the region fits in the others for the horizon and the day', () => {
    const [decision, ...rest] = decideScaleIns(input(cells, spare));
    expect(rest).toEqual([]);
    expect(decision).toMatchObject({
      region: 'r',
      cellId: 'c',
      peakOpsPerSec: 1000,
      remainingCapacityOpsPerSec: 2000,
    });
    // One day of a $0.25 cell, against one move's overhead and the load penalty of 1,000 ops/s on 2,000 (above
    // the 0.5 knee from 1,000: nothing) instead of 3,000 (nothing either).
    expect(decision.savedUsd).toBeCloseTo(6, 9);
    expect(decision.drainUsd).toBeCloseTo(0.05, 9);
    expect(decision.loadUsd).toBeCloseTo(0, 9);
  });

  it('keeps a cell whose partition, whole, would fit no other cell below the headroom (drain-fit)', () => {
    // 24 small partitions (mean 10, upper 30) on a and b, and on c one partition in a burst: mean 300, upper `burst`.
    // The region's diversified load (~1,180 ops/s) fits 0.7 of the two cells left, and the packing (each partition
    // shrunk by the region's diversification) passes; but the planner needs the burst partition whole below the
    // 0.8 headroom of one cell, and a and b have 800 − 360 = 440 ops/s of room each.
    const steady = (cellId: string, mean: number, upper: number, sizeBytes: number): ScaleInPartition => ({
      cell: cellId,
      sizeBytes,
      upper: new Array(8).fill(upper),
      mean: new Array(8).fill(mean),
      recentPeaks: new Array(24).fill(upper),
      recentMeans: new Array(24).fill(mean),
    });
    const small = ['a', 'b'].flatMap((c) => Array.from({ length: 12 }, () => steady(c, 10, 30, 1e9)));
    const withBurst = (burst: number) => input(cells, [...small, steady('c', 300, burst, 1e8)]);
    expect(assessScaleIns(withBurst(650))[0]).toMatchObject({ region: 'r', blockedBy: 'drain-fit' });
    expect(decideScaleIns(withBurst(650))).toEqual([]);
    // The control: the same region with the partition at 400 ops/s (it fits a and b's room) retires c.
    expect(decideScaleIns(withBurst(400))).toMatchObject([{ region: 'r', cellId: 'c' }]);
  });

  it('keeps the cell when the remaining cells would run above the utilization at any forecast step', () => {
    const peakSoon = [...spare.slice(0, 2), { ...spare[2], upper: [200, 200, 200, 500, 200, 200, 200, 200] }];
    expect(decideScaleIns(input(cells, peakSoon))).toEqual([]);
  });

  it('keeps the cell when yesterday at this hour capacity planned on more than the remaining cells can take', () => {
    const recent = new Array(24).fill(200);
    recent[5] = 500; // 19 hours ago: 1,300 ops/s > 0.6 × 2,000
    const peakYesterday = [...spare.slice(0, 2), { ...spare[2], recentPeaks: recent }];
    expect(decideScaleIns(input(cells, peakYesterday), { utilization: 0.6 })).toEqual([]);
    expect(assessScaleIns(input(cells, peakYesterday), { utilization: 0.6 })[0].blockedBy).toBe(
      'utilization',
    );
    // A looser rule lets it go (0.7 is not enough: the peaks 500, 400, 400 do not pack into two cells of 700).
    expect(decideScaleIns(input(cells, peakYesterday), { utilization: 0.7 })).toEqual([]);
    expect(decideScaleIns(input(cells, peakYesterday), { utilization: 0.8 })).toHaveLength(1);
  });

  it('needs a whole lookback of history for every partition of the region', () => {
    const young = [...spare.slice(0, 2), { ...spare[2], recentPeaks: new Array(23).fill(200) }];
    expect(decideScaleIns(input(cells, young))).toEqual([]);
    expect(
      decideScaleIns(input(cells, [...spare.slice(0, 2), { ...spare[2], recentPeaks: undefined }])),
    ).toEqual([]);
  });

  it('one change at a time, not right after a scale-out, not where a scale-out is due, never the last cell', () => {
    expect(decideScaleIns(input([...cells, cell('d', 'PROVISIONING')], spare))).toEqual([]);
    expect(decideScaleIns(input([...cells, cell('d', 'DRAINING')], spare))).toEqual([]);
    expect(decideScaleIns(input(cells, spare, { lastScaleOutAtMs: { r: NOW - 11 * HOUR } }))).toEqual([]);
    expect(decideScaleIns(input(cells, spare, { lastScaleOutAtMs: { r: NOW - 13 * HOUR } }))).toHaveLength(1);
    expect(decideScaleIns(input(cells, spare, { shortRegions: ['r'] }))).toEqual([]);
    expect(decideScaleIns(input([cell('a')], [partition('a', 10)]))).toEqual([]);
  });

  it('weighs the cell-hours against the drain and the load penalty in dollars', () => {
    // A cheap cell: one day at $0.001 does not pay one move ($0.05).
    const cheap = cells.map((c) => ({ ...c, hourPriceUsd: 0.001 }));
    expect(decideScaleIns(input(cheap, spare))).toEqual([]);
    // 1,150 ops/s on 2,000 ops/s sits above the 0.5 knee all day (1 ms on 150 ops/s): priced in, still worth it.
    const busier = [partition('a', 600), partition('b', 350), partition('c', 200)];
    const [decision] = decideScaleIns(input(cells, busier));
    const perSecond = balancedLoadPenaltyUsd(1150, 2000, 1, DEFAULT_SCALE_IN_OPTIONS);
    expect(perSecond).toBeCloseTo((150 * 1 * 0.05) / 1e6, 15);
    expect(decision.loadUsd).toBeCloseTo(perSecond * 86_400, 9);
    // At $10 per ms on a million requests the same latency outweighs the day's cell-hours.
    expect(decideScaleIns(input(cells, busier), { dollarsPerLatencyMsPerMillionRequests: 10 })).toEqual([]);
  });

  it('keeps the cells the partitions homed in the region need, even while they sit elsewhere', () => {
    // 1,000 ops/s on r's cells; 400 more from partitions homed in r but placed in q (remote today).
    const away = [cell('x', 'ACTIVE', 'q'), cell('y', 'ACTIVE', 'q')];
    const homedAway = (id: string) => ({ ...partition(id, 200), homeRegion: 'r' });
    const withAway = [...spare.map((p) => ({ ...p, homeRegion: 'r' })), homedAway('x'), homedAway('y')];
    expect(decideScaleIns(input([...cells, ...away], withAway)).map((d) => d.region)).toEqual(['q']);
    expect(homeRegionOf({ q: [1, 1], r: [2, 3] })).toBe('r');
    expect(homeRegionOf({ q: [0], r: [0] })).toBeUndefined();
  });

  it('keeps the cell when the partitions do not pack into the others, whatever their total', () => {
    // 1,150 ops/s fits 0.7 × 2,000 in total, but 400, 400 and 350 do not pack into two rooms of 700.
    const lumpy = [partition('a', 400), partition('b', 400), partition('c', 350, 350, 1e6)];
    expect(decideScaleIns(input(cells, lumpy))).toEqual([]);
    const packable = [partition('a', 500), partition('b', 400), partition('c', 200, 200, 1e6)];
    expect(decideScaleIns(input(cells, packable)).map((d) => d.cellId)).toEqual(['c']);
  });

  it('aggregates the gaps to the upper forecast over the region when the partitions give their mean', () => {
    // 20 partitions of 50 ops/s mean (1,000 in all) whose upper forecasts are 25 ops/s above it: added up, 1,500
    // ops/s, above 0.7 × 2,000; as independent errors, 1,000 + √20 × 25 ≈ 1,112.
    const many = Array.from({ length: 20 }, (_, i) => ({
      ...partition(['a', 'b', 'c'][i % 3], 75, 75, i < 18 ? 1e9 : 1e6),
      mean: new Array(8).fill(50),
      recentMeans: new Array(24).fill(50),
    }));
    expect(decideScaleIns(input(cells, many), { errorCorrelation: 1 })).toEqual([]);
    const verdicts = assessScaleIns(input(cells, many), { errorCorrelation: 1 });
    expect(verdicts).toMatchObject([{ region: 'r', blockedBy: 'utilization' }]);
    expect(verdicts[0].utilizationWithout).toBeCloseTo(1500 / 2000, 9);
    const [decision] = decideScaleIns(input(cells, many), { errorCorrelation: 0 });
    expect(decision.cellId).toBe('c');
    expect(decision.peakOpsPerSec).toBeCloseTo(1000 + Math.sqrt(20) * 25, 9);
    // Without their means the same partitions count whole at their upper forecast, whatever the correlation.
    const bare = many.map(({ mean: _m, recentMeans: _r, ...p }) => p);
    expect(decideScaleIns(input(cells, bare), { errorCorrelation: 0 })).toEqual([]);
  });

  it('keeps the cell when the planner, adding the upper forecasts up per cell, could not bring partitions home', () => {
    // 20 partitions of 40 ops/s mean with upper forecasts 45 ops/s above: diversified 800 + √20 × 45 ≈ 1,001 fits
    // 0.7 × 2,000, but added up (1,700) they exceed the planner's 0.8 headroom of two cells.
    const wide = Array.from({ length: 20 }, (_, i) => ({
      ...partition(['a', 'b', 'c'][i % 3], 85, 85, i < 18 ? 1e9 : 1e6),
      mean: new Array(8).fill(40),
      recentMeans: new Array(24).fill(40),
    }));
    const [verdict] = assessScaleIns(input(cells, wide), { errorCorrelation: 0 });
    expect(verdict).toMatchObject({ region: 'r', blockedBy: 'locality' });
    expect(verdict.utilizationWithout).toBeCloseTo(1700 / 2000, 9);
    expect(decideScaleIns(input(cells, wide), { errorCorrelation: 0, headroom: 0.9 })).toHaveLength(1);
  });

  it('decides per region, best net benefit first', () => {
    const two = [cell('a'), cell('b'), cell('x', 'ACTIVE', 'q'), cell('y', 'ACTIVE', 'q')];
    // r would run its 560 ops/s above the 0.5 knee of one cell; q's y holds the fewest bytes.
    const load = [partition('a', 300), partition('b', 260), partition('x', 300), partition('y', 10, 10, 1e8)];
    const decisions = decideScaleIns(input(two, load));
    expect(decisions.map((d) => [d.region, d.cellId])).toEqual([
      ['q', 'y'],
      ['r', 'a'],
    ]);
  });
});

describe('rollPeakWindow', () => {
  it('keeps the highest value per slot, fills slots no cycle saw, and keeps the last `slots` slots', () => {
    let w = rollPeakWindow(undefined, 10 * HOUR + 1, 5, HOUR, 3);
    w = rollPeakWindow(w, 10 * HOUR + 900_000, 7, HOUR, 3);
    w = rollPeakWindow(w, 10 * HOUR + 1_800_000, 6, HOUR, 3);
    expect(w).toEqual({ endSlot: 10, values: [7] });
    w = rollPeakWindow(w, 12 * HOUR, 2, HOUR, 3);
    expect(w).toEqual({ endSlot: 12, values: [7, 2, 2] });
    w = rollPeakWindow(w, 13 * HOUR, 4, HOUR, 3);
    expect(w).toEqual({ endSlot: 13, values: [2, 2, 4] });
    // A gap of a whole window, or a clock going back, starts over.
    expect(rollPeakWindow(w, 16 * HOUR, 1, HOUR, 3)).toEqual({ endSlot: 16, values: [1] });
    expect(rollPeakWindow(w, 11 * HOUR, 1, HOUR, 3)).toEqual({ endSlot: 11, values: [1] });
  });
});

describe('cellHourPriceUsd', () => {
  it('is the topology price, else the cell capacity at DynamoDB provisioned prices', () => {
    expect(DEFAULT_PRICE_PER_OPS_HOUR_USD).toBeCloseTo(0.000234, 12);
    expect(cellHourPriceUsd({}, { capacityOpsPerSec: 1000 })).toBeCloseTo(0.234, 12);
    expect(cellHourPriceUsd({ cellHourPriceUsd: 1.5 }, { capacityOpsPerSec: 1000 })).toBe(1.5);
  });
});
