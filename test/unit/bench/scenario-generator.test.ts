import { describe, expect, it } from 'vitest';
import { type GeneratedScenario, generateScenario } from '../../../bench/scenarios/generate-scenario.ts';
import { defineScenario } from '../../../bench/scenarios/scenario-spec.ts';
import type { DemandTrace } from '../../../src/domain/simulation/demand-trace.ts';
import { parseTopology } from '../../../src/domain/topology.ts';

const BUCKETS_PER_DAY = 96;

/** A small, quiet scenario (flat day and week, no bursts): knobs turned on it show their effect alone. */
function quiet(knobs: Parameters<typeof defineScenario>[3] = {}): GeneratedScenario {
  return generateScenario(
    defineScenario('test', 'test', 'unit test', {
      partitions: 50,
      days: 8,
      dailyAmplitude: 0,
      weekendLevel: 1,
      bursts: { perDayPer100Partitions: 0 },
      ...knobs,
    }),
  );
}

/** Total demand (reads + writes) over buckets [from, to), per region; optionally one partition only. */
function regionTotals(trace: DemandTrace, from: number, to: number, partition?: number): number[] {
  const P = trace.partitions.length;
  const R = trace.regions.length;
  const totals = new Array<number>(R).fill(0);
  for (let t = from; t < to; t++) {
    for (let p = partition ?? 0; p < (partition === undefined ? P : partition + 1); p++) {
      for (let r = 0; r < R; r++) {
        const i = (t * P + p) * R + r;
        totals[r] += trace.reads[i] + trace.writes[i];
      }
    }
  }
  return totals;
}

describe('scenario generator knobs', () => {
  it('capacity tightness scales cell capacity against an unchanged fair share of the peak', () => {
    const loose = quiet({ capacityTightness: 1.6 });
    const tight = quiet({ capacityTightness: 0.8 });
    expect(tight.facts.fairSharePeakOpsPerSec).toBe(loose.facts.fairSharePeakOpsPerSec);
    expect(loose.facts.capacityOpsPerSec / tight.facts.capacityOpsPerSec).toBeCloseTo(2, 2);
    for (const cell of tight.input.topology.cells)
      expect(cell.capacityOpsPerSec).toBe(tight.facts.capacityOpsPerSec);
    expect(tight.input.topology.alarmScaling?.cellCapacityOpsPerSec).toBe(tight.facts.capacityOpsPerSec);
    // At 0.8 the busiest region's first-week peak exceeds its cells' capacity; at 1.6 it does not.
    const { trace } = tight.input;
    const R = trace.regions.length;
    let overPeak = false;
    for (let t = 0; t < 7 * BUCKETS_PER_DAY; t++) {
      const totals = regionTotals(trace, t, t + 1);
      for (let r = 0; r < R; r++) {
        if (totals[r] > tight.facts.cellsPerRegion[r] * tight.facts.capacityOpsPerSec) overPeak = true;
      }
    }
    expect(overPeak).toBe(true);
  });

  it('audience drift moves a drifting partition’s demand from its old home to its new one', () => {
    const { input, facts } = quiet({ drift: { share: 1, days: 2 } });
    const drifting = facts.audiences.filter((a) => !Number.isNaN(a.driftStart));
    expect(drifting.length).toBe(50);
    let checked = 0;
    facts.audiences.forEach((a, p) => {
      const newHome = a.mixAfter.indexOf(Math.max(...a.mixAfter));
      if (
        newHome === a.home ||
        a.driftStart < BUCKETS_PER_DAY ||
        a.driftEnd > input.trace.bucketCount - BUCKETS_PER_DAY
      )
        return;
      const before = regionTotals(input.trace, a.driftStart - BUCKETS_PER_DAY, a.driftStart, p);
      const after = regionTotals(input.trace, a.driftEnd, a.driftEnd + BUCKETS_PER_DAY, p);
      const share = (xs: number[], r: number) => xs[r] / xs.reduce((s, x) => s + x, 0);
      expect(share(before, a.home)).toBeGreaterThan(share(after, a.home) + 0.2);
      expect(share(after, newHome)).toBeGreaterThan(share(before, newHome) + 0.2);
      checked++;
    });
    expect(checked).toBeGreaterThan(10);
  });

  it('without drift every partition keeps its regional mix', () => {
    const { facts } = quiet({ drift: { share: 0 } });
    for (const a of facts.audiences) {
      expect(Number.isNaN(a.driftStart)).toBe(true);
      expect(a.mixAfter).toBe(a.mixBefore);
    }
  });

  it('regional growth and decline change a region’s volume over time, and leave the others alone', () => {
    const { input } = quiet({ regionTrend: { 'ap-northeast-1': 2, 'us-east-1': 0.5 } });
    const T = input.trace.bucketCount;
    const first = regionTotals(input.trace, 0, BUCKETS_PER_DAY);
    const last = regionTotals(input.trace, T - BUCKETS_PER_DAY, T);
    const [us, eu, ap] = [0, 1, 2].map((r) => last[r] / first[r]);
    // A linear ramp to ×2 (×0.5) over 8 days: the last day's mean sits 7/8 of the way.
    expect(ap).toBeGreaterThan(1.7);
    expect(us).toBeLessThan(0.6);
    expect(eu).toBeGreaterThan(0.9);
    expect(eu).toBeLessThan(1.1);
  });

  it('the weekend level sets local Saturday and Sunday against weekdays', () => {
    const { input } = quiet({ regions: 2, weekendLevel: 0.5 });
    // Starts Monday 00:00 UTC; us-east-1 (UTC-5) is region 0: its Saturday starts 5 h into UTC day 5.
    const shift = 5 * 4;
    const weekday = regionTotals(input.trace, shift, shift + 5 * BUCKETS_PER_DAY)[0] / 5;
    const weekend =
      regionTotals(input.trace, shift + 5 * BUCKETS_PER_DAY, shift + 7 * BUCKETS_PER_DAY)[0] / 2;
    expect(weekend / weekday).toBeCloseTo(0.5, 1);
  });

  it('bursts add demand on top of an unchanged baseline, more often at a higher rate', () => {
    // Cells large enough that no partition is scaled down to fit one (that would lower its baseline).
    const calm = quiet({ capacityTightness: 4, demandSkew: 0, maxPartitionPeakShare: 1 });
    const bursty = quiet({
      capacityTightness: 4,
      demandSkew: 0,
      maxPartitionPeakShare: 1,
      bursts: { perDayPer100Partitions: 4, peakMultiple: 5 },
    });
    const busier = quiet({
      capacityTightness: 4,
      demandSkew: 0,
      maxPartitionPeakShare: 1,
      bursts: { perDayPer100Partitions: 8, peakMultiple: 5 },
    });
    expect(bursty.facts.clampedPartitions).toBe(0);
    expect(bursty.facts.bursts.length).toBe(16);
    expect(busier.facts.bursts.length).toBe(32);
    let added = 0;
    for (let i = 0; i < calm.input.trace.reads.length; i++) {
      const extra = bursty.input.trace.reads[i] - calm.input.trace.reads[i];
      expect(extra).toBeGreaterThanOrEqual(-1e-9 * calm.input.trace.reads[i]);
      added += extra;
    }
    expect(added).toBeGreaterThan(0);
    // The story's region gets most of it: at the first burst's onset bucket + 2, its region gains the most.
    const burst = bursty.facts.bursts[0];
    const at = burst.onsetBucket + 2;
    const extra = regionTotals(bursty.input.trace, at, at + 1, burst.partitions[0]).map(
      (x, r) => x - regionTotals(calm.input.trace, at, at + 1, burst.partitions[0])[r],
    );
    expect(extra.indexOf(Math.max(...extra))).toBe(burst.region);
  });

  it.each([2, 3, 4, 5, 6])(
    'honours %i regions with a complete latency matrix and their UTC offsets',
    (regions) => {
      const { input } = quiet({ regions, partitions: 60 });
      expect(input.trace.regions).toHaveLength(regions);
      expect(Object.keys(input.topology.regions)).toEqual(input.trace.regions);
      expect(() => parseTopology(JSON.parse(JSON.stringify(input.topology)))).not.toThrow();
      expect(new Set(input.topology.cells.map((c) => c.region)).size).toBe(regions);
      expect(new Set(Object.values(input.topology.regions).map((r) => r.utcOffsetHours)).size).toBe(regions);
    },
  );

  it.each([50, 333])('honours %i partitions, each placed in an existing cell', (partitions) => {
    const { input } = quiet({ partitions });
    expect(input.trace.partitions).toHaveLength(partitions);
    expect(input.partitions.map((p) => p.id)).toEqual(input.trace.partitions);
    const cells = new Set(input.topology.cells.map((c) => c.id));
    for (const p of input.partitions) expect(cells.has(p.cell)).toBe(true);
  });

  it('places exactly the misplaced share outside the home region', () => {
    for (const share of [0, 0.35, 1]) {
      const { input, facts } = quiet({ misplacedShare: share });
      const regionOf = new Map(input.topology.cells.map((c) => [c.id, c.region]));
      const outside = input.partitions.filter(
        (p, i) => regionOf.get(p.cell) !== input.trace.regions[facts.audiences[i].home],
      ).length;
      expect(outside).toBe(Math.round(share * 50));
    }
  });

  it('turns scheduled cell changes into topology events at the right time', () => {
    const { input } = quiet({
      cells: 7,
      cellChanges: [
        { day: 3, action: 'remove', region: 'us-east-1' },
        { day: 4.5, action: 'add', region: 'eu-west-1' },
      ],
    });
    const [removal, addition] = input.topology.scalingEvents;
    expect(removal).toMatchObject({ action: 'remove', at: '2024-03-07T00:00:00.000Z' });
    expect(input.topology.cells.some((c) => removal.action === 'remove' && c.id === removal.cellId)).toBe(
      true,
    );
    expect(addition).toMatchObject({
      action: 'add',
      at: '2024-03-08T12:00:00.000Z',
      cell: { region: 'eu-west-1' },
    });
  });

  it('is deterministic: the same seed gives the same scenario bit for bit, another seed another one', () => {
    const a = quiet({ seed: 7, bursts: { perDayPer100Partitions: 2 }, drift: { share: 0.3 } });
    const b = quiet({ seed: 7, bursts: { perDayPer100Partitions: 2 }, drift: { share: 0.3 } });
    const c = quiet({ seed: 8, bursts: { perDayPer100Partitions: 2 }, drift: { share: 0.3 } });
    expect(b.input.trace.reads).toEqual(a.input.trace.reads);
    expect(b.input.trace.writes).toEqual(a.input.trace.writes);
    expect(b.input.partitions).toEqual(a.input.partitions);
    expect(b.input.topology).toEqual(a.input.topology);
    expect(b.input.relationships).toEqual(a.input.relationships);
    expect(c.input.trace.reads).not.toEqual(a.input.trace.reads);
  });

  it('rejects knobs outside the model, naming the knob', () => {
    expect(() => defineScenario('bad', 'f', 's', { regions: 7 })).toThrow(/regions/);
    expect(() => defineScenario('bad', 'f', 's', { days: 5 })).toThrow(/days/);
    expect(() => defineScenario('bad', 'f', 's', { misplacedShare: 1.5 })).toThrow(/misplacedShare/);
  });
});
