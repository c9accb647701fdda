import type { PolicyMetrics, PolicyName } from './simulation-options.ts';

/** One acceptance target of the predictive policy, measured on a backtest. */
export interface TargetResult {
  readonly id: 'locality' | 'slo' | 'peak-moves' | 'churn-bytes' | 'churn-thrash' | 'storage';
  readonly description: string;
  /** The measured figure (a ratio or a fraction); NaN when the policies it needs were not run. */
  readonly value: number;
  readonly comparator: '>=' | '<=' | '<';
  readonly threshold: number;
  /** undefined when it could not be evaluated. */
  readonly pass: boolean | undefined;
  /** The inputs of the figure, in words. */
  readonly detail: string;
}

type Metrics = Partial<Record<PolicyName, PolicyMetrics>>;

/**
 * The backtest targets (acceptance criteria of the product brief), evaluated for `predictive`:
 * locality gap closed vs static→oracle, overload vs reactive, bytes moved under load vs reactive,
 * bytes moved vs oracle and thrash share, storage vs replicate-all.
 */
export function evaluateTargets(metrics: Metrics): TargetResult[] {
  const p = metrics.predictive;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : a === 0 ? 0 : Number.POSITIVE_INFINITY);
  const results: TargetResult[] = [];
  const add = (
    id: TargetResult['id'],
    description: string,
    needs: readonly PolicyName[],
    comparator: TargetResult['comparator'],
    threshold: number,
    compute: () => { value: number; detail: string },
  ) => {
    if (!p || needs.some((name) => !metrics[name])) {
      results.push({
        id,
        description,
        value: Number.NaN,
        comparator,
        threshold,
        pass: undefined,
        detail: `needs ${['predictive', ...needs].join(', ')}`,
      });
      return;
    }
    const { value, detail } = compute();
    const pass = Number.isNaN(value)
      ? undefined
      : comparator === '>='
        ? value >= threshold
        : comparator === '<='
          ? value <= threshold
          : value < threshold;
    results.push({ id, description, value, comparator, threshold, pass, detail });
  };
  add(
    'locality',
    'predictive closes the remote-share gap between static and oracle',
    ['static', 'oracle'],
    '>=',
    0.9,
    () => {
      const s = metrics.static!.remoteShare;
      const o = metrics.oracle!.remoteShare;
      const gap = s - o;
      return {
        value: gap > 1e-12 ? (s - p!.remoteShare) / gap : Number.NaN,
        detail: `remote share static ${pct(s)}, predictive ${pct(p!.remoteShare)}, oracle ${pct(o)}`,
      };
    },
  );
  add('slo', 'overloaded cell-minutes vs reactive', ['reactive'], '<=', 0.3, () => ({
    value: ratio(p!.overloadCellMinutes, metrics.reactive!.overloadCellMinutes),
    detail: `${p!.overloadCellMinutes.toFixed(0)} vs ${metrics.reactive!.overloadCellMinutes.toFixed(0)} cell-minutes${
      metrics.reactive!.overloadCellMinutes === 0 ? VACUOUS : ''
    }`,
  }));
  add(
    'peak-moves',
    'bytes moved under load (source or target > 70%) vs reactive',
    ['reactive'],
    '<=',
    0.5,
    () => ({
      value: ratio(p!.bytesMovedUnderLoad, metrics.reactive!.bytesMovedUnderLoad),
      detail: `${gib(p!.bytesMovedUnderLoad)} vs ${gib(metrics.reactive!.bytesMovedUnderLoad)}${
        metrics.reactive!.bytesMovedUnderLoad === 0 ? VACUOUS : ''
      }`,
    }),
  );
  add('churn-bytes', 'bytes moved vs oracle', ['oracle'], '<=', 1.25, () => ({
    value: ratio(p!.bytesMoved, metrics.oracle!.bytesMoved),
    detail: `${gib(p!.bytesMoved)} vs ${gib(metrics.oracle!.bytesMoved)}`,
  }));
  add('churn-thrash', 'moves undone within 6 h, share of moves', [], '<', 0.05, () => ({
    value: p!.moves > 0 ? p!.thrashMoves / p!.moves : 0,
    detail: `${p!.thrashMoves} of ${p!.moves} moves`,
  }));
  add('storage', 'average stored bytes vs replicate-all', ['replicate-all'], '<=', 0.6, () => ({
    value: ratio(p!.storedBytesAvg, metrics['replicate-all']!.storedBytesAvg),
    detail: `${gib(p!.storedBytesAvg)} vs ${gib(metrics['replicate-all']!.storedBytesAvg)}`,
  }));
  return results;
}

/** A zero baseline means the trace does not exercise the target: say so next to the PASS. */
const VACUOUS = ' (reactive has none: this trace does not test it)';

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
