import type { MigrationOp } from '../../verification/list-append-checker.ts';
import type { NemesisProgress } from './nemesis-run.ts';

/** What the in-process and the black-box nemesis runs share, apart from how they reach the data plane. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface MigrationSummary {
  readonly started: number;
  readonly committed: number;
  readonly rolledBack: number;
  readonly failed: number;
  readonly neverEnded: number;
  /** Longest time a migration took (start to end), ms. */
  readonly maxDurationMs: number;
}

/** How the migrations of a run ended, from the history's migration ops. */
export function migrationSummary(ops: readonly MigrationOp[]): MigrationSummary {
  const ended = ops.filter((m) => m.endMs !== null);
  return {
    started: ops.length,
    committed: ended.filter((m) => m.outcome === 'SUCCEEDED').length,
    rolledBack: ended.filter((m) => m.outcome === 'ROLLED_BACK').length,
    failed: ended.filter((m) => m.outcome === 'FAILED').length,
    neverEnded: ops.length - ended.length,
    maxDurationMs: Math.max(0, ...ended.map((m) => m.endMs! - m.startMs)),
  };
}

/** Report progress once a second while a run lasts; returns the function that stops it. */
export function reportProgress(
  onProgress: ((progress: NemesisProgress) => void) | undefined,
  snapshot: () => NemesisProgress,
): () => void {
  if (!onProgress) return () => undefined;
  const timer = setInterval(() => onProgress(snapshot()), 1_000);
  return () => clearInterval(timer);
}
