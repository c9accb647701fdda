import { describe, expect, it } from 'vitest';
import {
  newPartitionRecord,
  type PartitionRecord,
} from '../../../../src/domain/data-plane/partition-record.ts';
import {
  FenceLostError,
  InvalidMigrationTargetError,
  MigrationInProgressError,
  MigrationStateError,
  StageClosedError,
} from '../../../../src/domain/migration/migration-errors.ts';
import {
  acquireFence,
  commitMigration,
  confirmPhase,
  enterStage,
  fenceForReverse,
  fenceWrites,
  finishRollback,
  registerWriterLease,
  releaseWriterLease,
  setReadWeight,
  startMirroring,
  switchToTarget,
  unshiftReads,
  writerLeasesEndMs,
} from '../../../../src/domain/migration/partition-transitions.ts';

const base = newPartitionRecord('p', 'cell-a', 4, 1_000);

/** Apply a transition the way the repository does: undefined means "unchanged". */
function apply(record: PartitionRecord, next: PartitionRecord | undefined): PartitionRecord {
  return next ? { ...next, version: record.version + 1 } : record;
}

describe('partition transitions', () => {
  it('take the fence once, refuse a second migration by name, and accept a retry of the same one', () => {
    const fenced = apply(base, acquireFence(base, 'm1', 'cell-b', 2_000));
    expect(fenced).toMatchObject({
      status: 'MIGRATING',
      fence: { owner: 'm1', sourceCell: 'cell-a', targetCell: 'cell-b', stage: 'acquire' },
      routing: { phase: 'preparing', peer: 'cell-b' },
    });
    expect(acquireFence(fenced, 'm1', 'cell-b', 3_000)).toBeUndefined();
    expect(() => acquireFence(fenced, 'm2', 'cell-c', 3_000)).toThrow(MigrationInProgressError);
    expect(() => acquireFence(base, 'm3', 'cell-a', 3_000)).toThrow(InvalidMigrationTargetError);
  });

  it('move stages forward only, and close a stage to unconditional writers once it is left', () => {
    let r = apply(base, acquireFence(base, 'm1', 'cell-b', 0));
    r = apply(r, enterStage(r, 'm1', 'copy', 1));
    r = apply(r, registerWriterLease(r, 'm1', 'copy', 'page-1', 5_000, 1));
    r = apply(r, registerWriterLease(r, 'm1', 'copy', 'page-2', 7_000, 1));
    expect(writerLeasesEndMs(r)).toBe(7_000);
    expect(registerWriterLease(r, 'm1', 'copy', 'page-2', 7_000, 1)).toBeUndefined();
    r = apply(r, releaseWriterLease(r, 'm1', 'page-2', 2));
    expect(writerLeasesEndMs(r)).toBe(5_000);
    expect(releaseWriterLease(r, 'm1', 'page-2', 2)).toBeUndefined();
    r = apply(r, enterStage(r, 'm1', 'catchUp', 2));
    expect(enterStage(r, 'm1', 'catchUp', 3)).toBeUndefined();
    // A zombie of the copy step may not pass for a retry of the current stage.
    expect(() => enterStage(r, 'm1', 'copy', 3)).toThrow(StageClosedError);
    expect(r.fence?.stage).toBe('catchUp');
    expect(() => registerWriterLease(r, 'm1', 'copy', 'zombie', 9_000, 3)).toThrow(StageClosedError);
    expect(() => enterStage(r, 'other', 'verify', 3)).toThrow(FenceLostError);
  });

  it('shift reads only once writes are mirrored, and send them back while still mirroring', () => {
    let r = apply(base, acquireFence(base, 'm1', 'cell-b', 0));
    // A client holding `preparing` writes to the source only: reads may not reach the target yet.
    expect(() => setReadWeight(r, 'm1', 0.5, 1)).toThrow(MigrationStateError);
    r = apply(r, startMirroring(r, 'm1', 1));
    expect(r.routing).toEqual({ phase: 'mirroring', peer: 'cell-b', readWeight: 0 });
    expect(startMirroring(r, 'm1', 5)).toBeUndefined();
    r = apply(r, confirmPhase(r, 'm1', 'mirroring', 3));
    expect(confirmPhase(r, 'm1', 'mirroring', 4)).toBeUndefined();
    expect(r.routing.sinceMs).toBe(3);
    r = apply(r, setReadWeight(r, 'm1', 0.5, 6));
    expect(r.routing).toMatchObject({ phase: 'shifting', readWeight: 0.5 });
    r = apply(r, unshiftReads(r, 'm1', 7));
    expect(r.routing).toEqual({ phase: 'mirroring', peer: 'cell-b', readWeight: 0 });
    expect(unshiftReads(r, 'm1', 8)).toBeUndefined();
    // After the fence (before the switch) too: clients may still hold the shifted routing from before it.
    r = apply(r, setReadWeight(r, 'm1', 1, 9));
    r = apply(r, fenceWrites(r, 'm1', 10));
    r = apply(r, unshiftReads(r, 'm1', 11));
    expect(r.routing).toEqual({ phase: 'mirroring', peer: 'cell-b', readWeight: 0 });
  });

  it('raise the lease terms on the record at acquire, never lower them', () => {
    const withTerms = { ...base, leaseTerms: { leaseTtlMs: 2_000, maxRequestMs: 1_000 } };
    const raised = apply(
      withTerms,
      acquireFence(withTerms, 'm1', 'cell-b', 0, { leaseTtlMs: 5_000, maxRequestMs: 500 }),
    );
    expect(raised.leaseTerms).toEqual({ leaseTtlMs: 5_000, maxRequestMs: 1_000 });
  });

  it('keep the first fence instant when the fence step runs twice', () => {
    let r = apply(base, acquireFence(base, 'm1', 'cell-b', 0));
    r = apply(r, startMirroring(r, 'm1', 1));
    r = apply(r, setReadWeight(r, 'm1', 0.5, 1));
    r = apply(r, fenceWrites(r, 'm1', 10_000));
    expect(fenceWrites(r, 'm1', 99_000)).toBeUndefined();
    expect(r.routing).toEqual({ phase: 'fenced', peer: 'cell-b', readWeight: 0, fencedAtMs: 10_000 });
    expect(() => setReadWeight(r, 'm1', 1, 2)).toThrow(MigrationStateError);
  });

  it('refuse a late switch once a rollback has taken over the fence', () => {
    let r = apply(base, acquireFence(base, 'm1', 'cell-b', 0));
    r = apply(r, fenceWrites(r, 'm1', 1));
    r = apply(r, enterStage(r, 'm1', 'rollback', 2));
    expect(() => switchToTarget(r, 'm1', 3)).toThrow(StageClosedError);
  });

  it('switch, then commit exactly once, leaving a stable partition at the target', () => {
    let r = apply(base, acquireFence(base, 'm1', 'cell-b', 0));
    expect(() => switchToTarget(r, 'm1', 1)).toThrow(MigrationStateError);
    r = apply(r, fenceWrites(r, 'm1', 1));
    r = apply(r, switchToTarget(r, 'm1', 2));
    expect(r).toMatchObject({ cell: 'cell-b', routing: { phase: 'switched', peer: 'cell-a' } });
    expect(switchToTarget(r, 'm1', 3)).toBeUndefined();
    r = apply(r, commitMigration(r, 'm1', 4));
    expect(r).toMatchObject({
      cell: 'cell-b',
      status: 'ACTIVE',
      routing: { phase: 'stable' },
      lastMigration: { id: 'm1', outcome: 'COMMITTED', fromCell: 'cell-a', toCell: 'cell-b' },
    });
    expect(r.fence).toBeUndefined();
    expect(commitMigration(r, 'm1', 5)).toBeUndefined();
    expect(() => acquireFence(r, 'm1', 'cell-a', 6)).toThrow(MigrationStateError);
  });

  it('roll back to the source from before the switch, and only through a reverse cutover after it', () => {
    let r = apply(base, acquireFence(base, 'm1', 'cell-b', 0));
    r = apply(r, startMirroring(r, 'm1', 1));
    r = apply(r, setReadWeight(r, 'm1', 0.25, 1));
    const rolled = apply(
      r,
      finishRollback(r, 'm1', 'shiftReads', 'CanaryUnhealthyError: errors', { state: 'stale' }, 2),
    );
    expect(rolled).toMatchObject({
      cell: 'cell-a',
      status: 'ACTIVE',
      routing: { phase: 'stable', readWeight: 0 },
      replicas: { 'cell-b': { state: 'stale' } },
      lastMigration: { outcome: 'ROLLED_BACK', stage: 'shiftReads', reason: 'CanaryUnhealthyError: errors' },
    });
    expect(rolled.fence).toBeUndefined();
    expect(finishRollback(rolled, 'm1', 'shiftReads', 'again', { state: 'stale' }, 3)).toBeUndefined();

    r = apply(r, fenceWrites(r, 'm1', 3));
    r = apply(r, switchToTarget(r, 'm1', 4));
    expect(() => finishRollback(r, 'm1', 'removeSource', 'x', { state: 'stale' }, 5)).toThrow(
      MigrationStateError,
    );
    r = apply(r, fenceForReverse(r, 'm1', 5));
    expect(r).toMatchObject({ cell: 'cell-b', routing: { phase: 'fenced', peer: 'cell-a', fencedAtMs: 5 } });
    expect(fenceForReverse(r, 'm1', 6)).toBeUndefined();
    r = apply(r, finishRollback(r, 'm1', 'removeSource', 'x', { state: 'cold', watermark: 'w' }, 7));
    expect(r).toMatchObject({
      cell: 'cell-a',
      routing: { phase: 'stable' },
      replicas: { 'cell-b': { state: 'cold' } },
    });
  });
});
