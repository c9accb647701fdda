import { describe, expect, it } from 'vitest';
import { evaluateTargets } from '../../../../src/domain/simulation/backtest-targets.ts';
import type { PolicyMetrics } from '../../../../src/domain/simulation/simulation-options.ts';

const base: PolicyMetrics = {
  remoteShare: 0.5,
  meanLatencyMs: 50,
  p99LatencyMs: 100,
  bytesMoved: 100,
  bytesMovedUnderLoad: 10,
  transferCostUsd: 1,
  storedBytesAvg: 100,
  overloadCellMinutes: 100,
  moves: 100,
  thrashMoves: 0,
  cellsAdded: 0,
};
const m = (overrides: Partial<PolicyMetrics>): PolicyMetrics => ({ ...base, ...overrides });
const byId = (targets: ReturnType<typeof evaluateTargets>) =>
  Object.fromEntries(targets.map((t) => [t.id, t]));

describe('evaluateTargets', () => {
  it('computes each ratio against the right baseline and applies the thresholds', () => {
    const targets = byId(
      evaluateTargets({
        static: m({ remoteShare: 0.6 }),
        oracle: m({ remoteShare: 0.2, bytesMoved: 100 }),
        reactive: m({ overloadCellMinutes: 100, bytesMovedUnderLoad: 40 }),
        'replicate-all': m({ storedBytesAvg: 300 }),
        predictive: m({
          remoteShare: 0.24,
          overloadCellMinutes: 30,
          bytesMovedUnderLoad: 20,
          bytesMoved: 126,
          moves: 100,
          thrashMoves: 5,
          storedBytesAvg: 180,
        }),
      }),
    );
    expect(targets.locality.value).toBeCloseTo(0.9);
    expect(targets.locality.pass).toBe(true);
    expect(targets.slo.value).toBeCloseTo(0.3);
    expect(targets.slo.pass).toBe(true);
    expect(targets['peak-moves'].value).toBeCloseTo(0.5);
    expect(targets['peak-moves'].pass).toBe(true);
    expect(targets['churn-bytes'].value).toBeCloseTo(1.26);
    expect(targets['churn-bytes'].pass).toBe(false);
    expect(targets['churn-thrash'].value).toBeCloseTo(0.05);
    expect(targets['churn-thrash'].pass).toBe(false);
    expect(targets.storage.value).toBeCloseTo(0.6);
    expect(targets.storage.pass).toBe(true);
  });

  it('treats a zero baseline as a pass only when predictive is zero too', () => {
    const zero = byId(
      evaluateTargets({ reactive: m({ overloadCellMinutes: 0 }), predictive: m({ overloadCellMinutes: 0 }) }),
    );
    expect(zero.slo.pass).toBe(true);
    const worse = byId(
      evaluateTargets({ reactive: m({ overloadCellMinutes: 0 }), predictive: m({ overloadCellMinutes: 3 }) }),
    );
    expect(worse.slo.pass).toBe(false);
  });

  it('reports n/a for targets whose policies were not run', () => {
    const targets = byId(evaluateTargets({ predictive: m({}) }));
    expect(targets.locality.pass).toBeUndefined();
    expect(Number.isNaN(targets.locality.value)).toBe(true);
    expect(targets.locality.detail).toContain('static');
    expect(targets['churn-thrash'].pass).toBe(true);
    expect(evaluateTargets({}).every((t) => t.pass === undefined)).toBe(true);
  });
});
