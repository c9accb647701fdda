import { z } from 'zod';
import { MIGRATION_STAGES } from './migration-stage.ts';

/**
 * The MigratePartition execution state: the input, plus one result per stage (each Task writes its result at
 * `$.<key>`). Every handler receives the whole state and validates it with this schema. It stays far below
 * Step Functions' 256 KB payload limit: per-shard cursors are the largest part (≤ 64 × 1 KB keys).
 */
const fraction = z.number().gt(0).lte(1);

export const migrationInputSchema = z.strictObject({
  partition: z.string().min(1),
  targetCell: z.string().min(1),
  /** Read weights shifted to the target before the cutover, increasing. [] skips canary reads. */
  canarySteps: z
    .array(fraction)
    .refine((steps) => steps.every((w, i) => i === 0 || w > steps[i - 1]), 'canary steps must increase')
    .default([0.1, 0.5, 1]),
  /** Wait between canary steps before the health check. */
  waitSeconds: z.number().int().min(0).max(86_400).default(60),
  /** Keep the source as a cold copy (a later move back ships only the delta) instead of removing it. */
  retainSource: z.boolean().default(false),
  /** Plan/move id from the planner, for tracing. */
  moveId: z.string().min(1).optional(),
});

export type MigrationInput = z.infer<typeof migrationInputSchema>;

const cursorSchema = z.array(z.strictObject({ after: z.string().nullable(), done: z.boolean() }));
export type ShardCursor = z.infer<typeof cursorSchema>;

const changeCursorSchema = z.array(
  z.strictObject({
    next: z.strictObject({ key: z.string(), hlc: z.string() }).nullable(),
    done: z.boolean(),
  }),
);

export const acquireResultSchema = z.strictObject({
  sourceCell: z.string(),
  targetCell: z.string(),
  shards: z.number().int().positive(),
  acquiredAtMs: z.number(),
  /** The lease terms this migration assumes: its own, lengthened to the record's (see LeaseTerms). */
  leaseTerms: z
    .strictObject({ leaseTtlMs: z.number().nonnegative(), maxRequestMs: z.number().nonnegative() })
    .optional(),
});

export const replicaResultSchema = z.strictObject({
  mode: z.enum(['full', 'delta']),
  /** Catch-up starts here: every write that landed after this bound may be missing from the target. */
  sinceHlc: z.string(),
});

export const copyResultSchema = z.strictObject({
  cursor: cursorSchema,
  done: z.boolean(),
  itemsCopied: z.number().int().nonnegative(),
  bytesCopied: z.number().nonnegative(),
  pages: z.number().int().nonnegative(),
});

export const catchUpResultSchema = z.strictObject({
  /** Bound of the round in progress (or of the next round when `resume` is null). */
  sinceHlc: z.string(),
  /** Wall time the round in progress started (its reads began after it). */
  roundStartedAtMs: z.number().nullable(),
  resume: changeCursorSchema.nullable(),
  rounds: z.number().int().nonnegative(),
  /** Items the target was missing, found so far in the round in progress. */
  changedInRound: z.number().int().nonnegative(),
  changedInLastRound: z.number().int().nonnegative(),
  itemsShipped: z.number().int().nonnegative(),
  caughtUp: z.boolean(),
});

const count = z.number().int().nonnegative();
const rangeChecksumSchema = z.strictObject({ count, sum: z.number().nonnegative() });

/**
 * One shard of a verify pass that an invocation left unfinished (its time budget ran out). The shard is read in
 * key order, a page of the copy then a page of the authoritative side, so `after` is where both sides are done.
 */
export const shardScanSchema = z.strictObject({
  shard: count,
  /** Every key up to this one is done on both sides; null: none yet. */
  after: z.string().nullable(),
  /** Checksum phase: each side's per-range checksums of its keys up to `after`. */
  sums: z.strictObject({ to: z.array(rangeChecksumSchema), from: z.array(rangeChecksumSchema) }).nullable(),
  /** Repair phase: the ranges whose checksums differed, compared and repaired up to `after`. */
  repair: z.array(count).nullable(),
});

/** A verify-and-repair pass over every shard, in bounded pieces; the counts are the pass's so far. */
export const passProgressSchema = z.strictObject({
  /** Shards below this one were started; those not in `open` are done. */
  nextShard: count,
  open: z.array(shardScanSchema),
  differingRanges: count,
  repairedOld: count,
  repairedYoung: count,
  removed: count,
  replacedAhead: count,
  leftYoung: count,
});

export const verifyResultSchema = z.strictObject({
  clean: z.boolean(),
  /** Complete verify passes. */
  rounds: z.number().int().nonnegative(),
  differingRanges: z.number().int().nonnegative(),
  repairedItems: z.number().int().nonnegative(),
  removedItems: z.number().int().nonnegative(),
  /** States of the target newer than the source's (never acknowledged), replaced. */
  replacedItems: z.number().int().nonnegative().optional(),
  /** When writes were certainly mirrored by the routing record (the wait before reads shift counts from it). */
  mirroringSinceMs: z.number().optional(),
  /** The pass in progress, when an invocation's budget ran out before it covered every shard. */
  pass: passProgressSchema.nullable().optional(),
});

export const shiftResultSchema = z.strictObject({
  step: z.number().int(),
  weight: z.number(),
  done: z.boolean(),
  waitSeconds: z.number().int().nonnegative(),
  shiftedAtMs: z.number(),
  /** Catch-up keeps running while reads shift; its progress continues here. */
  catchUp: catchUpResultSchema,
});

/**
 * Progress of an exact verify-and-repair of a frozen primary's copy, in bounded pieces: the forward cutover's
 * (source → target, before the switch) and a reverse cutover's (target → source, before routing goes back).
 */
export const frozenRepairSchema = z.strictObject({
  /** Verify pass over all shards (1-based); a pass that finds no differing range ends the repair. */
  verifyRound: z.number().int().positive(),
  /** The pass in progress. */
  pass: passProgressSchema,
});

/** Progress of a reverse cutover's repair of the source, bounded per Rollback invocation. */
export const reverseRepairSchema = frozenRepairSchema.extend({ catchUp: catchUpResultSchema });

export const cutoverResultSchema = z.strictObject({
  fencedAtMs: z.number(),
  waitSeconds: z.number().int().nonnegative(),
  switched: z.boolean(),
  switchedAtMs: z.number().nullable(),
  finalItemsShipped: z.number().int().nonnegative(),
  /** Progress of the final catch-up round, which may span several CutoverSwitch invocations. */
  finalCatchUp: catchUpResultSchema.nullable().optional(),
  /** Progress of the exact verify of the frozen source that the switch waits for. */
  frozenVerify: frozenRepairSchema.nullable().optional(),
});

export const removeResultSchema = z.strictObject({
  retained: z.boolean(),
  done: z.boolean(),
  itemsRemoved: z.number().int().nonnegative(),
});

export const commitResultSchema = z.strictObject({ version: z.number().int(), committedAtMs: z.number() });

export const rollbackResultSchema = z.strictObject({
  done: z.boolean(),
  waitSeconds: z.number().int().nonnegative(),
  failedStage: z.string(),
  reason: z.string(),
  /** A reverse cutover's fence was committed by this instant (the lease wait counts from it). */
  fencedAtMs: z.number().nullable().optional(),
  /** Reads were certainly sent back to the source by this instant (the lease wait counts from it). */
  unshiftedAtMs: z.number().nullable().optional(),
  reverse: reverseRepairSchema.nullable().optional(),
});

/** The error Step Functions' Catch puts at `$.error`. */
export const caughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

export const migrationStateSchema = z.strictObject({
  /** The execution input, as given (a Pass state nests it so that absent options keep their defaults). */
  input: migrationInputSchema,
  /** The execution name: unique per migration, the fence owner. */
  migrationId: z.string().min(1),
  /** Execution start (ISO 8601); a late zombie `acquire` refuses to take the fence long after it. */
  startedAt: z.iso.datetime({ offset: true }),
  acquire: acquireResultSchema.optional(),
  replica: replicaResultSchema.optional(),
  copy: copyResultSchema.optional(),
  catchUp: catchUpResultSchema.optional(),
  verify: verifyResultSchema.optional(),
  shift: shiftResultSchema.optional(),
  health: z.object({ healthy: z.boolean(), requests: z.number(), failures: z.number() }).optional(),
  cutover: cutoverResultSchema.optional(),
  remove: removeResultSchema.optional(),
  commit: commitResultSchema.optional(),
  error: caughtErrorSchema.optional(),
  /** The stage whose step failed (set by the state machine on the way to the rollback). */
  failedStage: z.enum(MIGRATION_STAGES).optional(),
  rollback: rollbackResultSchema.optional(),
});

export type MigrationState = z.infer<typeof migrationStateSchema>;
export type CopyResult = z.infer<typeof copyResultSchema>;
export type CatchUpResult = z.infer<typeof catchUpResultSchema>;
export type VerifyResult = z.infer<typeof verifyResultSchema>;
export type ShiftResult = z.infer<typeof shiftResultSchema>;
export type CutoverResult = z.infer<typeof cutoverResultSchema>;
export type RemoveResult = z.infer<typeof removeResultSchema>;
export type RollbackResult = z.infer<typeof rollbackResultSchema>;
export type ReverseRepair = z.infer<typeof reverseRepairSchema>;
export type FrozenRepair = z.infer<typeof frozenRepairSchema>;
export type PassProgress = z.infer<typeof passProgressSchema>;
export type ShardScan = z.infer<typeof shardScanSchema>;
