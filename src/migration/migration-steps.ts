/**
 * The MigratePartition stages as use cases. Each takes the execution state, does bounded work, and returns its
 * stage's result (written at `$.<stage>` by the state machine). Each is idempotent: run twice with the same
 * state, it leaves the same data and routing, because every change of the partition record is a pure
 * transition that reports "already done", and every data write is forward-only or protected by a writer lease.
 *
 * Cutover design (routing leases; see docs/migration.md): before reads shift, writes are mirrored and the verify
 * waits until no client can still write to the source alone; writes are then fenced with one conditional write
 * of the partition record, the cutover waits until no interceptor can hold a routing entry from before the
 * fence and every write it acknowledged has landed (cutoverWaitMs), a final catch-up carries late writes, and
 * an exact verify of the now frozen source against the target (no trust in the `changes` index's lag) must
 * come back clean before the routing switches. Only single-item conditional writes: dynalite and DynamoDB alike.
 */

export { commit, removeSource } from './completion-steps.ts';
export { catchUp, copy } from './copy-steps.ts';
export { cutoverFence, cutoverSwitch } from './cutover-steps.ts';
export { acquire, createReplica } from './prepare-steps.ts';
export { canaryHealth, shiftReads } from './read-shift-steps.ts';
export { rollback } from './rollback-step.ts';
export { measuredSizeBytes } from './step-support.ts';
export { verify } from './verify-step.ts';
