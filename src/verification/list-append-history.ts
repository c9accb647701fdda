/**
 * The history a list-append run records and hands to the checker: every append and read with its time window
 * and client, the migrations that ran meanwhile, and what the store held at the end.
 */

/** `conflict`: a definite refusal (409, 404, ...). `unknown`: 5xx or a timeout, so it may or may not have applied. */
export type AppendOutcome = 'ok' | 'conflict' | 'unknown';

export interface AppendOp {
  readonly kind: 'append';
  readonly key: string;
  readonly element: string;
  readonly outcome: AppendOutcome;
  readonly startMs: number;
  readonly endMs: number;
  readonly client: string;
}

export interface ReadOp {
  readonly kind: 'read';
  readonly key: string;
  /** null: the read failed and tells nothing. A 404 is an empty list. */
  readonly list: readonly string[] | null;
  readonly startMs: number;
  readonly endMs: number;
  readonly client: string;
}

export interface MigrationOp {
  readonly kind: 'migration';
  readonly id: string;
  readonly partition: string;
  readonly startMs: number;
  /** null: it never ended. */
  readonly endMs: number | null;
  readonly outcome: string;
}

export type HistoryOp = AppendOp | ReadOp | MigrationOp;

export interface HistoryInput {
  readonly ops: readonly HistoryOp[];
  /** The final read of every key. A key missing here counts as an empty list, as a 404 would. */
  readonly finalLists: ReadonlyMap<string, readonly string[]>;
  readonly fencedPartitionsAtEnd: readonly string[];
}
