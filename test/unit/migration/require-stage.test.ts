import { describe, expect, it } from 'vitest';
import { MigrationStateError } from '../../../src/domain/migration/migration-errors.ts';
import type { MigrationState } from '../../../src/domain/migration/migration-state.ts';
import { requireStage } from '../../../src/migration/step-support.ts';

describe('requireStage', () => {
  it('returns a stage result a later step depends on, and names the stage when it is missing', () => {
    const acquire = { sourceCell: 'a', targetCell: 'b', shards: 4 };
    const state = { migrationId: 'm', acquire } as unknown as MigrationState;
    expect(requireStage(state, 'acquire')).toBe(acquire);
    expect(() => requireStage(state, 'cutover')).toThrow(MigrationStateError);
    expect(() => requireStage(state, 'cutover')).toThrow(/no 'cutover' result/);
  });
});
