import { PrestageError } from '../errors.ts';

/**
 * Named errors of ScaleCluster. Step Functions Catch matches on these names, and the Fail states carry them to
 * the console, so they are stable.
 */

/** A start input that is not an alarm event, a scale-out or a scale-in request (or names an unknown cell). */
export class InvalidScalingRequestError extends PrestageError {}

/** Another ScaleCluster execution holds the region's scaling lock. */
export class ScalingInProgressError extends PrestageError {
  readonly region: string;
  readonly holder: string;
  constructor(region: string, holder: string) {
    super(
      `region '${region}' is being scaled by execution '${holder}'; start again once it has finished (scalings of one region never overlap)`,
    );
    this.region = region;
    this.holder = holder;
  }
}

/** The cell still holds partitions after the drain rounds: it stays DRAINING and its table is kept. */
export class DrainIncompleteError extends PrestageError {
  readonly cellId: string;
  readonly partitions: readonly string[];
  constructor(cellId: string, partitions: readonly string[], rounds: number) {
    const some = partitions.slice(0, 10).join(', ');
    super(
      `cell '${cellId}' still holds ${partitions.length} partition(s) after ${rounds} drain round(s) (${some}${partitions.length > 10 ? ', …' : ''}); it stays DRAINING and its table is kept`,
    );
    this.cellId = cellId;
    this.partitions = partitions;
  }
}
