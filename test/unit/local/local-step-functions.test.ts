import { describe, expect, it } from 'vitest';
import {
  bindTaskStates,
  LocalTaskTokens,
  localRunOverrides,
  syncExecutionResult,
  waitStateNames,
} from '../../../src/local/local-step-functions.ts';
import type { AslDefinition } from '../../../src/local/state-machine-asl.ts';
import { localFunctionArn, localStateMachineArn } from '../../../src/local/state-machine-asl.ts';

/** A definition with a Wait at the top and one inside a Map, a direct Lambda Task and a `lambda:invoke` one. */
const ASL: AslDefinition = {
  StartAt: 'Step',
  States: {
    Step: { Type: 'Task', Resource: localFunctionArn('Step'), Next: 'Pause' },
    Pause: { Type: 'Wait', Seconds: 30, Next: 'Each' },
    Each: {
      Type: 'Map',
      ItemProcessor: {
        StartAt: 'InnerPause',
        States: {
          InnerPause: { Type: 'Wait', SecondsPath: '$.wait', Next: 'Invoke' },
          Invoke: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: localFunctionArn('Inner'), 'Payload.$': '$' },
            End: true,
          },
        },
      },
      End: true,
    },
  },
};

describe('local Step Functions runner', () => {
  it('finds every Wait state of a definition, nested ones included', () => {
    expect(waitStateNames(ASL)).toEqual(['Pause', 'InnerPause']);
  });

  it('binds each Lambda Task by its function name, `lambda:invoke` with the Payload envelope', async () => {
    const handlers = bindTaskStates(ASL, {
      functions: { Step: async (event) => ({ step: event }), Inner: async (event) => ({ inner: event }) },
    });
    expect(Object.keys(handlers)).toEqual(['Step', 'Invoke']);
    await expect(handlers.Step({ a: 1 })).resolves.toEqual({ step: { a: 1 } });
    await expect(handlers.Invoke({ Payload: { b: 2 } })).resolves.toEqual({
      StatusCode: 200,
      Payload: { inner: { b: 2 } },
    });
  });

  it('refuses a Task it cannot bind rather than let it call AWS', () => {
    expect(() => bindTaskStates(ASL, { functions: { Step: async () => null } })).toThrow(
      "no local handler for the Lambda 'Inner'",
    );
  });

  it('shortens every Wait and every bound Task’s retries, and leaves them alone when not asked', () => {
    const handlers = { Step: async () => null, Invoke: async () => null };
    const overrides = localRunOverrides(ASL, handlers, { waitMs: 0, retryIntervalMs: 5 });
    expect(overrides.waitTimeOverrides).toEqual({ Pause: 0, InnerPause: 0 });
    expect(overrides.retryIntervalOverrides).toEqual({ Step: 5, Invoke: 5 });
    const untouched = localRunOverrides(ASL, handlers, {});
    expect(untouched.waitTimeOverrides).toBeUndefined();
    expect(untouched.retryIntervalOverrides).toBeUndefined();
  });

  it('answers a task token once, with the sender’s output or its named error', async () => {
    const tokens = new LocalTaskTokens();
    const approved = tokens.register('t1');
    await tokens.sendTaskSuccess('t1', '{"ok":true}');
    await expect(approved).resolves.toEqual({ ok: true });
    const rejected = tokens.register('t2');
    await tokens.sendTaskFailure('t2', 'PlanRejectedError', 'no');
    await expect(rejected).rejects.toMatchObject({ name: 'PlanRejectedError', message: 'no' });
    await expect(tokens.sendTaskSuccess('t1', '{}')).rejects.toMatchObject({ name: 'TaskDoesNotExist' });
  });

  it('reports a failed child as States.TaskFailed carrying the child’s own error, as startExecution.sync:2 does', () => {
    const request = { stateMachineArn: localStateMachineArn('Child'), name: 'c1', input: {}, startedAtMs: 0 };
    expect(syncExecutionResult(request, { status: 'SUCCEEDED', output: { x: 1 } })).toMatchObject({
      Status: 'SUCCEEDED',
      Output: { x: 1 },
    });
    let thrown: Error | undefined;
    try {
      syncExecutionResult(request, { status: 'FAILED', error: { name: 'Boom', cause: 'why' } });
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown?.name).toBe('States.TaskFailed');
    expect(JSON.parse(thrown?.message ?? '{}')).toMatchObject({
      Status: 'FAILED',
      Error: 'Boom',
      Cause: 'why',
    });
  });
});
