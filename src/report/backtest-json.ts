import type { BacktestResult } from '../domain/simulation/backtest.ts';
import { evaluateTargets } from '../domain/simulation/backtest-targets.ts';
import type { PolicyName } from '../domain/simulation/simulation-options.ts';

/** Where a trace came from; bundled traces say they are semi-synthetic and from which real series. */
export interface TraceProvenance {
  readonly name?: string;
  readonly semiSynthetic?: boolean;
  readonly description?: string;
  readonly sources?: readonly string[];
  readonly license?: string;
}

export interface ReportContext {
  readonly files: Readonly<Record<string, string>>;
  readonly provenance?: TraceProvenance;
  readonly generatedAt: string;
}

/**
 * The JSON written by `prestage backtest --json`: `policies.<name>` holds the headline metrics (the
 * documented keys), with the trace, options, details and targets alongside.
 */
export function backtestJson(result: BacktestResult, context: ReportContext): Record<string, unknown> {
  const names = Object.keys(result.policies) as PolicyName[];
  const { onProgress: _onProgress, ...options } = result.options;
  return {
    semiSynthetic: context.provenance?.semiSynthetic ?? false,
    trace: {
      ...context.provenance,
      files: context.files,
      start: new Date(result.trace.startMs).toISOString(),
      end: new Date(result.trace.endMs).toISOString(),
      evaluationStart: new Date(result.evaluationStartMs).toISOString(),
      bucketSeconds: result.trace.bucketMs / 1000,
      buckets: result.trace.buckets,
      partitions: result.trace.partitions,
      regions: result.trace.regions,
      cells: result.trace.cells,
      totalBytes: result.trace.totalBytes,
      meanDemandOpsPerSec: result.trace.meanDemandOpsPerSec,
      peakDemandOpsPerSec: result.trace.peakDemandOpsPerSec,
    },
    options,
    policies: Object.fromEntries(names.map((name) => [name, result.policies[name]!.metrics])),
    details: Object.fromEntries(names.map((name) => [name, result.policies[name]!.details])),
    targets: evaluateTargets(
      Object.fromEntries(names.map((name) => [name, result.policies[name]!.metrics])),
    ).map((t) => ({ ...t, value: Number.isFinite(t.value) ? t.value : null })),
    generatedAt: context.generatedAt,
  };
}
