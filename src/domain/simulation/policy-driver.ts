import type { CellStatus, ColdCopy, InFlightMove } from '../planning/movement-plan.ts';
import type { Topology } from '../topology.ts';

/** What a policy sees of the simulated cluster when it plans. */
export interface ClusterView {
  readonly nowMs: number;
  /** Index of the bucket about to start; demand is known for earlier buckets only. */
  readonly bucket: number;
  /** The topology with the cells that exist now (retired ones removed, added ones included). */
  readonly topology: Topology;
  readonly cellStatus: Readonly<Record<string, CellStatus>>;
  /** When each PROVISIONING cell becomes ACTIVE. */
  readonly cellReadyAtMs: Readonly<Record<string, number>>;
  /** Cell ids by cell index. */
  readonly cellIds: readonly string[];
  /** Primary cell index per partition. */
  readonly placement: Int32Array;
  readonly inFlight: readonly InFlightMove[];
  /** When each partition last finished a move; NaN if never. */
  readonly lastMovedAtMs: Float64Array;
  /** Measured load (ops/s, requests and copies) of each cell in the last bucket, by cell index. */
  readonly cellLoadOpsPerSec: Float64Array;
  /** When each region last scaled out (alarm or forecast); absent: never. */
  readonly lastScaleOutAtMs: Readonly<Record<string, number>>;
  /** Retained cold copies of partition p (undefined when none), as the planner takes them. */
  coldCopiesOf(p: number): readonly ColdCopy[] | undefined;
}

export interface MoveRequest {
  readonly partition: number;
  /** The cell the policy believes the partition is in; a stale belief rejects the move. */
  readonly from?: string;
  readonly to: string;
  /** Keep the source as a cold copy after the cutover. @default false */
  readonly retainSource?: boolean;
}

/** A cold copy to garbage-collect. */
export interface CopyDrop {
  readonly partition: number;
  readonly cell: string;
}

export interface ScaleOutRequest {
  readonly region: string;
  readonly cells: number;
}

/** A cell to drain and retire ahead of time (forecast-driven scale-in). */
export interface ScaleInRequest {
  readonly region: string;
  readonly cell: string;
}

export interface PolicyDecision {
  readonly moves: readonly MoveRequest[];
  readonly scaleOut: readonly ScaleOutRequest[];
  /** Cells to drain and retire (absent: none). */
  readonly scaleIn?: readonly ScaleInRequest[];
  /** Cold copies to drop (absent: none). */
  readonly dropCopies?: readonly CopyDrop[];
}

/** One placement policy, driven by the simulator bucket by bucket. */
export interface PolicyDriver {
  /** Bucket `bucket` has just ended; its demand is now observed. */
  observe(bucket: number): void;
  /** Called at the start of every planning interval. */
  decide(view: ClusterView): PolicyDecision;
  /** Time spent inside the planner, and number of calls, for the details. */
  readonly plannerMs: number;
  readonly plannerCalls: number;
}

export const NO_DECISION: PolicyDecision = { moves: [], scaleOut: [] };
