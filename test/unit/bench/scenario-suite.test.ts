import { describe, expect, it } from 'vitest';
import { halfOf, LARGE_SCENARIOS, SCENARIOS, scenariosOf } from '../../../bench/scenarios/catalog.ts';
import {
  evaluateScenario,
  overloadAllowance,
  type PolicyFigures,
  type ScenarioFigures,
  summarizeHalf,
} from '../../../bench/scenarios/suite-targets.ts';
import type { PolicyMetrics } from '../../../src/domain/simulation/simulation-options.ts';

describe('scenario catalog and split', () => {
  it('has at least 20 scenarios spanning 2 to 6 regions and 50 to 2,000 partitions', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(20);
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    expect(Math.min(...SCENARIOS.map((s) => s.regions))).toBe(2);
    expect(Math.max(...SCENARIOS.map((s) => s.regions))).toBe(6);
    expect(Math.min(...SCENARIOS.map((s) => s.partitions))).toBe(50);
    expect(Math.max(...SCENARIOS.map((s) => s.partitions))).toBe(2000);
  });

  it("includes the issue's roomy and tight shapes, both in the reporting half", () => {
    const roomy = SCENARIOS.find((s) => s.name === 'roomy')!;
    expect(roomy).toMatchObject({ partitions: 120, days: 14, regions: 3, misplacedShare: 0.35 });
    expect(roomy.drift.share).toBeGreaterThan(0);
    expect(roomy.bursts.perDayPer100Partitions).toBeGreaterThan(0);
    expect(Object.values(roomy.regionTrend).some((growth) => growth > 1)).toBe(true);
    const tight = SCENARIOS.find((s) => s.name === 'tight')!;
    expect(tight.capacityTightness).toBe(0.8);
    expect(tight.bursts.perDayPer100Partitions).toBe(2 * roomy.bursts.perDayPer100Partitions);
    expect(halfOf(roomy)).toBe('reporting');
    expect(halfOf(tight)).toBe('reporting');
  });

  it('sends one scenario of every family to each half (the large one reports)', () => {
    const families = new Map<string, string[]>();
    for (const s of SCENARIOS) families.set(s.family, [...(families.get(s.family) ?? []), halfOf(s)]);
    for (const [family, halves] of families) {
      if (halves.length === 1) expect(halves, family).toEqual(['reporting']);
      else expect([...halves].sort(), family).toEqual(['reporting', 'tuning']);
    }
    expect(scenariosOf('tuning').length + scenariosOf('reporting').length).toBe(SCENARIOS.length);
    for (const name of LARGE_SCENARIOS)
      expect(halfOf(SCENARIOS.find((s) => s.name === name)!)).toBe('reporting');
  });

  it('is a fixed split: the reporting half is exactly this list', () => {
    expect(scenariosOf('reporting').map((s) => s.name)).toEqual([
      'roomy',
      'tight',
      'squeezed-capacity',
      'frequent-small-bursts',
      'burst-free',
      'fast-drift',
      'growth-east',
      'business-week',
      'two-regions-commute',
      'five-regions',
      'partitions-50',
      'small-read-mostly',
      'cell-growth',
      'burst-crunch',
      'large-2000',
    ]);
  });

  it('balances the dimensions: each half has tight and loose capacity, bursts and none, drift, trends, 2 and ≥ 4 regions', () => {
    for (const half of ['tuning', 'reporting'] as const) {
      const specs = scenariosOf(half);
      expect(specs.some((s) => s.capacityTightness < 1)).toBe(true);
      expect(specs.some((s) => s.capacityTightness >= 1.3)).toBe(true);
      expect(specs.some((s) => s.bursts.perDayPer100Partitions >= 3)).toBe(true);
      expect(specs.some((s) => s.drift.share > 0)).toBe(true);
      expect(specs.some((s) => Object.values(s.regionTrend).some((x) => x < 1))).toBe(true);
      expect(specs.some((s) => s.regions === 2)).toBe(true);
      expect(specs.some((s) => s.regions >= 4)).toBe(true);
      expect(specs.some((s) => s.cellChanges.length > 0)).toBe(true);
      expect(specs.some((s) => s.weekendLevel !== 0.7)).toBe(true);
    }
  });
});

function policy(metrics: Partial<PolicyMetrics>, cells = 10): PolicyFigures {
  return {
    metrics: {
      remoteShare: 0,
      meanLatencyMs: 0,
      p99LatencyMs: 0,
      bytesMoved: 0,
      bytesMovedUnderLoad: 0,
      transferCostUsd: 0,
      storedBytesAvg: 100,
      overloadCellMinutes: 0,
      moves: 0,
      thrashMoves: 0,
      cellsAdded: 0,
      ...metrics,
    },
    cellsInServiceAvg: cells,
    cellHours: cells * 72,
    requests: 1000,
    seconds: 0,
    plannerSeconds: 0,
  };
}

function figures(predictive: Partial<PolicyMetrics>, predictiveCells = 10): ScenarioFigures {
  return {
    static: policy({ remoteShare: 0.5 }),
    reactive: policy({ overloadCellMinutes: 500, bytesMovedUnderLoad: 100 }),
    'replicate-all': policy({ storedBytesAvg: 300 }),
    predictive: policy(predictive, predictiveCells),
    oracle: policy({ overloadCellMinutes: 375, remoteShare: 0.1 }, 8.4),
  };
}

describe('suite targets', () => {
  it("computes the issue's overload allowance", () => {
    // The tight trace: reactive 500, oracle 375 → allowance 400; predictive's 408 fails it.
    expect(overloadAllowance(500, 375)).toBe(400);
    expect(overloadAllowance(1000, 0)).toBe(300);
  });

  it('passes and fails each target on its threshold', () => {
    const good = figures({
      overloadCellMinutes: 400,
      remoteShare: 0.13,
      bytesMoved: 50,
      bytesMovedUnderLoad: 50,
      moves: 100,
      thrashMoves: 4,
      storedBytesAvg: 180,
    });
    const reference = { bytesMoved: 100, remoteShare: 0.13, localityGapClosed: 0.925 };
    const passing = evaluateScenario(good, reference);
    expect(passing.map((t) => [t.id, t.pass])).toEqual([
      ['overload', true],
      ['cells', false],
      ['bytes-moved', true],
      ['locality', true],
      ['moved-under-load', true],
      ['thrash', true],
      ['storage', true],
    ]);
    const bad = figures(
      {
        overloadCellMinutes: 408,
        remoteShare: 0.15,
        bytesMoved: 51,
        bytesMovedUnderLoad: 51,
        moves: 100,
        thrashMoves: 5,
        storedBytesAvg: 181,
      },
      9.24,
    );
    const failing = evaluateScenario(bad, reference);
    expect(failing.map((t) => [t.id, t.pass])).toEqual([
      ['overload', false],
      ['cells', true],
      ['bytes-moved', false],
      ['locality', false],
      ['moved-under-load', false],
      ['thrash', false],
      ['storage', false],
    ]);
    // Halving the bytes at worse locality does not pass the bytes target.
    const worseLocality = evaluateScenario(figures({ bytesMoved: 10, remoteShare: 0.2 }), reference);
    expect(worseLocality.find((t) => t.id === 'bytes-moved')!.pass).toBe(false);
    expect(evaluateScenario(good, undefined).find((t) => t.id === 'bytes-moved')!.pass).toBeUndefined();
    expect(passing.filter((t) => t.vacuous)).toEqual([]);
  });

  it('marks a pass as vacuous when reactive has no overload or no bytes moved under load', () => {
    const quiet = figures({});
    const calm: ScenarioFigures = {
      ...quiet,
      reactive: policy({}),
      oracle: policy({ remoteShare: 0.1 }, 8.4),
    };
    const byId = new Map(evaluateScenario(calm, undefined).map((t) => [t.id, t]));
    expect(byId.get('overload')).toMatchObject({ pass: true, vacuous: true });
    expect(byId.get('moved-under-load')).toMatchObject({ pass: true, vacuous: true });
    expect(byId.get('storage')!.vacuous).toBe(false);
  });

  it('pools by summing the parts and names the worst scenario', () => {
    const a = figures({ overloadCellMinutes: 0, storedBytesAvg: 150 });
    const b = figures({ overloadCellMinutes: 450, storedBytesAvg: 210 });
    const summary = summarizeHalf([
      { name: 'a', figures: a },
      { name: 'b', figures: b },
    ]);
    const pooledOverload = summary.pooled.find((t) => t.id === 'overload')!;
    expect(pooledOverload.value).toBeCloseTo(450 / overloadAllowance(1000, 750), 10);
    expect(pooledOverload.pass).toBe(true);
    const worstOverload = summary.worst.find((t) => t.id === 'overload')!;
    expect(worstOverload).toMatchObject({ scenario: 'b', pass: false, failing: ['b'] });
    expect(worstOverload.vacuousOn).toEqual([]);
    const pooledStorage = summary.pooled.find((t) => t.id === 'storage')!;
    expect(pooledStorage.value).toBeCloseTo(360 / 600, 10);
  });
});
