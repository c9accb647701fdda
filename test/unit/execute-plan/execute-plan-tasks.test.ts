import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  childExecutionName,
  continuationExecutionName,
  EXECUTE_PLAN_TASK_NAMES,
  executePlanInputSchema,
} from '../../../src/execute-plan/execute-plan-tasks.ts';
import { assertProperty } from '../../support/property.ts';

const NAME_CHARS = 'abcXYZ019_-';
const planIds = fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 64 });

describe('child execution names', () => {
  it('are valid Step Functions names: at most 80 characters of [A-Za-z0-9_-]', () => {
    assertProperty(
      fc.property(
        planIds,
        fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }),
        (planId, partition) => {
          const name = childExecutionName(planId, partition);
          expect(name.length).toBeLessThanOrEqual(80);
          expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
          expect(childExecutionName(planId, partition)).toBe(name);
        },
      ),
    );
  });

  it('differ for different partitions of one plan (so two moves never collide)', () => {
    assertProperty(
      fc.property(
        planIds,
        fc.string({ minLength: 1, maxLength: 120 }),
        fc.string({ minLength: 1, maxLength: 120 }),
        (planId, a, b) => {
          fc.pre(a !== b);
          expect(childExecutionName(planId, a)).not.toBe(childExecutionName(planId, b));
        },
      ),
    );
    // The sanitised forms of these two collide; the hash keeps them apart.
    expect(childExecutionName('p', 'a/b')).not.toBe(childExecutionName('p', 'a_b'));
  });

  it('stay readable when the partition id is already a valid name', () => {
    expect(childExecutionName('plan-1', 'orders_eu-7')).toBe('plan-1-orders_eu-7');
    expect(childExecutionName('plan-1', 'orders/eu')).toMatch(/^plan-1-orders_eu-[0-9a-f]{12}$/);
  });
});

describe('ExecutePlan input', () => {
  it('accepts {planId, approval?} and names what is wrong otherwise', () => {
    expect(executePlanInputSchema.parse({ planId: 'plan-1' })).toEqual({ planId: 'plan-1' });
    expect(executePlanInputSchema.parse({ planId: 'plan-1', approval: true })).toEqual({
      planId: 'plan-1',
      approval: true,
    });
    const bad = executePlanInputSchema.safeParse({ planId: 'has space' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0].path).toEqual(['planId']);
    expect(executePlanInputSchema.safeParse({ planId: 'p', extra: 1 }).success).toBe(false);
    expect(executePlanInputSchema.safeParse({ planId: 'p', approval: 'yes' }).success).toBe(false);
  });

  it('accepts a continuation {planId, approval:false, resumeAfter, continuation} and nothing half-made', () => {
    const continuation = {
      planId: 'plan-1',
      approval: false,
      resumeAfter: 'move#000004#orders-7',
      continuation: 2,
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: 'arn:aws:states:us-east-1:1:execution:ExecutePlan:plan-1',
    };
    expect(executePlanInputSchema.parse(continuation)).toEqual(continuation);
    const pathOf = (input: unknown) => executePlanInputSchema.safeParse(input).error?.issues[0].path;
    expect(pathOf({ planId: 'p', resumeAfter: 'move#000004#x' })).toEqual(['resumeAfter']);
    expect(pathOf({ planId: 'p', resumeAfter: 'move#000004#x', continuation: 0 })).toEqual(['resumeAfter']);
    expect(pathOf({ ...continuation, approval: true })).toEqual(['approval']);
    expect(pathOf({ ...continuation, resumeAfter: 'header' })).toEqual(['resumeAfter']);
    expect(pathOf({ ...continuation, continuation: -1 })).toEqual(['continuation']);
    expect(pathOf({ ...continuation, continuation: 1.5 })).toEqual(['continuation']);
  });

  it('names continuations deterministically, as valid execution names', () => {
    assertProperty(
      fc.property(planIds, fc.integer({ min: 1, max: 999_999_999 }), (planId, n) => {
        const name = continuationExecutionName(planId, n);
        expect(name.length).toBeLessThanOrEqual(80);
        expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(name).toBe(`${planId}-cont-${n}`);
        expect(continuationExecutionName(planId, n + 1)).not.toBe(name);
      }),
    );
  });

  it('has one step per Lambda, in workflow order', () => {
    expect(EXECUTE_PLAN_TASK_NAMES).toEqual([
      'ValidateInput',
      'RequestApproval',
      'CloseUnapproved',
      'StartRun',
      'PageMoves',
      'ReserveSlot',
      'RecordOutcome',
      'DropColdCopies',
      'FinishPlan',
      'AbortPlan',
    ]);
  });
});
