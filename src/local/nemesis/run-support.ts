import type { RoutingClient } from '../../data-plane/routing-client.ts';
import {
  ItemNotFoundError,
  PartitionFencedError,
  PartitionNotFoundError,
  ReadOutcomeLateError,
  VersionConflictError,
  WriteOutcomeUnknownError,
} from '../../domain/data-plane/data-plane-errors.ts';
import type { AppendOp, MigrationOp } from '../../verification/list-append-checker.ts';
import type { NemesisProgress } from './nemesis-options.ts';

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

/** Write outcomes the checker can rely on: `conflict` only when the write certainly did not apply. */
export function outcomeOf(error: unknown): AppendOp['outcome'] {
  if (
    error instanceof VersionConflictError ||
    error instanceof ItemNotFoundError ||
    error instanceof PartitionFencedError
  ) {
    return 'conflict';
  }
  return 'unknown';
}

/**
 * Write a key's first element, however slow the machine: a write answered after the short nemesis deadline is
 * in doubt (503), so read back whether it applied before trying again (the item holds only the seed or nothing).
 */
export async function seed(
  client: RoutingClient,
  partition: string,
  key: string,
  element: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.put(partition, key, [element], { ifMatch: 0 });
      return;
    } catch (error) {
      // A conflict after an attempt in doubt: that attempt applied after all.
      const inDoubt =
        error instanceof WriteOutcomeUnknownError || (attempt > 1 && error instanceof VersionConflictError);
      if (!inDoubt || attempt >= 20) throw error;
    }
    try {
      await client.get(partition, key);
      return;
    } catch (error) {
      const absentOrSlow =
        error instanceof ItemNotFoundError ||
        error instanceof PartitionNotFoundError ||
        error instanceof ReadOutcomeLateError;
      if (!absentOrSlow) throw error;
    }
  }
}
