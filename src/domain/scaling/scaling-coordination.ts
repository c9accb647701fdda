/**
 * The scaling lock and cooldown of a region: scalings of one region never overlap, and after one finishes no
 * other starts before its cooldown ends unless forced. The ScaleCluster steps (src/scaling) see only this port;
 * src/adapters/dynamodb/scaling-coordination.ts keeps both in the Coordination table.
 */

export interface ScalingLock {
  readonly owner: string;
  readonly ownerArn?: string;
  readonly action: string;
  readonly acquiredAtMs: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export interface AcquireLockOptions {
  readonly region: string;
  /** Execution name of the ScaleCluster run taking the lock. */
  readonly owner: string;
  /** Execution ARN, so a later run can check whether a holder is still alive. */
  readonly ownerArn?: string;
  readonly action: string;
  readonly nowMs: number;
  /** Lock lifetime; keep it above the state machine's timeout. */
  readonly ttlSeconds: number;
  /**
   * Whether a holder's execution is still running. A lock left by an execution someone stopped in the console
   * (no Catch runs on a stop) is taken over at once instead of waiting for its TTL. Unknown → assume running.
   */
  readonly isRunning?: (executionArn: string) => Promise<boolean>;
}

export interface ScalingCoordination {
  /** End of the region's cooldown (epoch ms) if one is running at `nowMs`. */
  cooldownUntil(region: string, nowMs: number): Promise<number | undefined>;
  startCooldown(region: string, untilMs: number, setBy: string): Promise<void>;
  /**
   * Take the region's lock: free, expired, already held by `owner` (a retried step), or held by an execution
   * that no longer runs. Otherwise throw ScalingInProgressError naming the holder.
   */
  acquire(options: AcquireLockOptions): Promise<ScalingLock>;
  /** Release the lock if `owner` holds it; false (a no-op) when released already or taken over. */
  release(region: string, owner: string): Promise<boolean>;
}
