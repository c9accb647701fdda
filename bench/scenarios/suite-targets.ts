/**
 * The targets of issue 12, evaluated per scenario and over a half (pooled and worst case).
 *
 * Each target reduces a scenario to a few sums (`parts`) and its figure is a function of them, so the
 * pooled figure is the same function of the parts summed over the scenarios (for ratios: Σ numerators /
 * Σ denominators, as the seed sweep of bench/backtest-targets.ts pools). Large scenarios weigh more in the
 * pooled figure; the worst case (the scenario with the worst figure) is reported next to it for that reason.
 */
import type {
  PolicyMetrics,
  PolicyName,
  PolicyResult,
} from '../../src/domain/simulation/simulation-options.ts';

/** What the targets need from one policy's replay (kept small: it goes into the JSON result). */
export interface PolicyFigures {
  readonly metrics: PolicyMetrics;
  readonly cellsInServiceAvg: number;
  readonly cellHours: number;
  readonly requests: number;
  readonly seconds: number;
  readonly plannerSeconds: number;
  /** Forecast scale-ins, and scale-outs of a region soon after one (flaps); absent for the policies without. */
  readonly scaleIns?: number;
  readonly scaleFlaps?: number;
}

export type ScenarioFigures = Readonly<Record<PolicyName, PolicyFigures>>;

/** Today's predictive on a scenario: what the bytes-moved target compares against (reference.json). */
export interface PredictiveReference {
  readonly bytesMoved: number;
  readonly remoteShare: number;
  readonly localityGapClosed: number;
}

export type TargetId =
  | 'overload'
  | 'cells'
  | 'bytes-moved'
  | 'locality'
  | 'moved-under-load'
  | 'thrash'
  | 'storage';

export interface TargetFigure {
  readonly id: TargetId;
  readonly value: number;
  /** undefined: not evaluable here (no reference, or a figure without a denominator). */
  readonly pass: boolean | undefined;
  /**
   * The baseline it is judged against has none of it (reactive never overloads, or never moves under load):
   * a pass here is not evidence, the scenario does not exercise the target.
   */
  readonly vacuous: boolean;
  readonly detail: string;
}

interface TargetDefinition {
  readonly id: TargetId;
  readonly description: string;
  readonly comparator: '<=' | '<' | '>=';
  readonly threshold: number;
  /** The sums this target pools; undefined when it cannot be evaluated on this scenario. */
  parts(figures: ScenarioFigures, reference: PredictiveReference | undefined): number[] | undefined;
  value(parts: readonly number[]): number;
  /** A second condition besides the threshold (bytes moved: at equal or better locality). */
  alsoRequires?(parts: readonly number[]): boolean;
  detail(parts: readonly number[]): string;
  /** True when the baseline in `parts` is zero, so any pass is vacuous. */
  vacuous?(parts: readonly number[]): boolean;
  /** The detail of the pooled figure, when some parts (shares, averages) do not add up meaningfully. */
  pooledDetail?(parts: readonly number[], scenarios: number): string;
}

export function policyFigures(result: PolicyResult): PolicyFigures {
  return {
    metrics: result.metrics,
    cellsInServiceAvg: result.details.cellsInServiceAvg,
    cellHours: result.details.cellHours,
    requests: result.details.requests,
    seconds: result.details.simulationMs / 1000,
    plannerSeconds: result.details.plannerMs / 1000,
    ...(result.details.cellsScaledIn !== undefined && {
      scaleIns: result.details.cellsScaledIn,
      scaleFlaps: result.details.scaleFlaps ?? 0,
    }),
  };
}

/** Share of the static→oracle remote-share gap that predictive closes. */
export function localityGapClosed(figures: ScenarioFigures): number {
  const s = figures.static.metrics.remoteShare;
  const o = figures.oracle.metrics.remoteShare;
  return s - o > 1e-12 ? (s - figures.predictive.metrics.remoteShare) / (s - o) : Number.NaN;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : a === 0 ? 0 : Number.POSITIVE_INFINITY);
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * The overload allowance: the larger of 0.3 × reactive's overload and the oracle's plus 20% of the
 * gap from the oracle to reactive.
 */
export function overloadAllowance(reactive: number, oracle: number): number {
  return Math.max(0.3 * reactive, oracle + 0.2 * (reactive - oracle));
}

export const SUITE_TARGETS: readonly TargetDefinition[] = [
  {
    id: 'overload',
    description:
      'overload cell-minutes ÷ the allowance max(0.3 × reactive, oracle + 0.2 × (reactive − oracle))',
    comparator: '<=',
    threshold: 1,
    parts: (f) => [
      f.predictive.metrics.overloadCellMinutes,
      f.reactive.metrics.overloadCellMinutes,
      f.oracle.metrics.overloadCellMinutes,
    ],
    value: ([p, r, o]) => ratio(p, overloadAllowance(r, o)),
    vacuous: ([, r, o]) => overloadAllowance(r, o) === 0,
    detail: ([p, r, o]) =>
      `predictive ${p.toFixed(0)}, reactive ${r.toFixed(0)}, oracle ${o.toFixed(0)} cell-min; allowance ${overloadAllowance(r, o).toFixed(0)}`,
  },
  {
    id: 'cells',
    description: 'cells in service (cell-hours) vs the oracle',
    comparator: '<=',
    threshold: 1.1,
    parts: (f) => [
      f.predictive.cellHours,
      f.oracle.cellHours,
      f.predictive.cellsInServiceAvg,
      f.oracle.cellsInServiceAvg,
    ],
    value: ([p, o]) => ratio(p, o),
    detail: ([p, o, pAvg, oAvg]) =>
      `${pAvg.toFixed(1)} vs ${oAvg.toFixed(1)} cells (${p.toFixed(0)} vs ${o.toFixed(0)} cell-h)`,
    pooledDetail: ([p, o]) => `${p.toFixed(0)} vs ${o.toFixed(0)} cell-h`,
  },
  {
    id: 'bytes-moved',
    description: "bytes moved vs today's predictive (reference.json), at equal or better locality",
    comparator: '<=',
    threshold: 0.5,
    parts: (f, ref) =>
      ref && [
        f.predictive.metrics.bytesMoved,
        ref.bytesMoved,
        f.predictive.metrics.remoteShare * f.predictive.requests,
        ref.remoteShare * f.predictive.requests,
      ],
    value: ([p, ref]) => ratio(p, ref),
    // Remote shares weighted by requests, so the pooled comparison is over all requests of the half.
    alsoRequires: ([, , remote, refRemote]) => remote <= refRemote,
    detail: ([p, ref, remote, refRemote]) =>
      `${gib(p)} vs ${gib(ref)}; locality ${remote <= refRemote ? 'equal or better' : 'WORSE'} than the reference`,
  },
  {
    id: 'locality',
    description: 'locality: share of the static→oracle remote-share gap closed',
    comparator: '>=',
    threshold: 0.9,
    parts: (f) => {
      const n = f.predictive.requests;
      const s = f.static.metrics.remoteShare;
      return [
        n * (s - f.predictive.metrics.remoteShare),
        n * (s - f.oracle.metrics.remoteShare),
        s,
        f.oracle.metrics.remoteShare,
      ];
    },
    value: ([closed, gap]) => (gap > 1e-9 ? closed / gap : Number.NaN),
    detail: ([, , s, o]) => `remote share static ${pct(s)}, oracle ${pct(o)}`,
    pooledDetail: (_, scenarios) => `request-weighted over ${scenarios} scenarios`,
  },
  {
    id: 'moved-under-load',
    description: 'bytes moved under load (a cell above 70%) vs reactive',
    comparator: '<=',
    threshold: 0.5,
    parts: (f) => [f.predictive.metrics.bytesMovedUnderLoad, f.reactive.metrics.bytesMovedUnderLoad],
    value: ([p, r]) => ratio(p, r),
    vacuous: ([, r]) => r === 0,
    detail: ([p, r]) => `${gib(p)} vs ${gib(r)}${r === 0 ? ' (reactive moves none under load)' : ''}`,
  },
  {
    id: 'thrash',
    description: 'moves undone within 6 h, share of moves',
    comparator: '<',
    threshold: 0.05,
    parts: (f) => [f.predictive.metrics.thrashMoves, f.predictive.metrics.moves],
    value: ([t, m]) => (m > 0 ? t / m : 0),
    detail: ([t, m]) => `${t} of ${m} moves`,
  },
  {
    id: 'storage',
    description: 'stored bytes vs replicate-all',
    comparator: '<=',
    threshold: 0.6,
    parts: (f) => [f.predictive.metrics.storedBytesAvg, f['replicate-all'].metrics.storedBytesAvg],
    value: ([p, r]) => ratio(p, r),
    detail: ([p, r]) => `${gib(p)} vs ${gib(r)}`,
  },
];

function judge(target: TargetDefinition, parts: readonly number[]): TargetFigure {
  const value = target.value(parts);
  const withinThreshold =
    target.comparator === '>='
      ? value >= target.threshold
      : target.comparator === '<='
        ? value <= target.threshold
        : value < target.threshold;
  const pass = Number.isNaN(value) ? undefined : withinThreshold && (target.alsoRequires?.(parts) ?? true);
  return {
    id: target.id,
    value,
    pass,
    vacuous: target.vacuous?.(parts) ?? false,
    detail: target.detail(parts),
  };
}

/** Every target on one scenario. */
export function evaluateScenario(
  figures: ScenarioFigures,
  reference: PredictiveReference | undefined,
): TargetFigure[] {
  return SUITE_TARGETS.map((target) => {
    const parts = target.parts(figures, reference);
    if (!parts)
      return {
        id: target.id,
        value: Number.NaN,
        pass: undefined,
        vacuous: false,
        detail: 'no reference for this scenario',
      };
    return judge(target, parts);
  });
}

export interface HalfSummary {
  /** The targets on the parts summed over the scenarios. */
  readonly pooled: TargetFigure[];
  /** Per target: the scenario with the worst figure, and whether every scenario passes. */
  readonly worst: (TargetFigure & {
    readonly scenario: string;
    readonly failing: readonly string[];
    /** Scenarios where the target is vacuous (see TargetFigure.vacuous). */
    readonly vacuousOn: readonly string[];
  })[];
}

export function summarizeHalf(
  runs: readonly {
    readonly name: string;
    readonly figures: ScenarioFigures;
    readonly reference?: PredictiveReference;
  }[],
): HalfSummary {
  const pooled: TargetFigure[] = [];
  const worst: HalfSummary['worst'][number][] = [];
  for (const target of SUITE_TARGETS) {
    let sums: number[] | undefined;
    let worstRun: { name: string; figure: TargetFigure } | undefined;
    const failing: string[] = [];
    const vacuousOn: string[] = [];
    let evaluable = 0;
    for (const run of runs) {
      const parts = target.parts(run.figures, run.reference);
      if (!parts) continue;
      sums = sums ? sums.map((s, i) => s + parts[i]) : [...parts];
      const figure = judge(target, parts);
      if (figure.pass === undefined) continue;
      evaluable++;
      if (!figure.pass) failing.push(run.name);
      if (figure.vacuous) vacuousOn.push(run.name);
      const worse =
        !worstRun ||
        (target.comparator === '>='
          ? figure.value < worstRun.figure.value
          : figure.value > worstRun.figure.value) ||
        (!figure.pass && worstRun.figure.pass === true);
      if (worse) worstRun = { name: run.name, figure };
    }
    if (sums) {
      const figure = judge(target, sums);
      pooled.push(
        target.pooledDetail ? { ...figure, detail: target.pooledDetail(sums, runs.length) } : figure,
      );
    } else {
      pooled.push({
        id: target.id,
        value: Number.NaN,
        pass: undefined,
        vacuous: false,
        detail: 'not evaluable on any scenario',
      });
    }
    worst.push(
      worstRun
        ? { ...worstRun.figure, pass: failing.length === 0, scenario: worstRun.name, failing, vacuousOn }
        : {
            id: target.id,
            value: Number.NaN,
            pass: undefined,
            vacuous: false,
            detail: `evaluable on ${evaluable} scenarios`,
            scenario: '-',
            failing,
            vacuousOn,
          },
    );
  }
  return { pooled, worst };
}

export function targetDefinition(id: TargetId): TargetDefinition {
  return SUITE_TARGETS.find((t) => t.id === id)!;
}
