import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PAGES_PER_EXECUTION,
  EXECUTE_PLAN_STEP_ENTRIES,
  ExecutePlanWorkflow,
  executionHistoryBound,
  HISTORY_EVENT_LIMIT,
} from '../../../lib/execute-plan-workflow.ts';
import { EXECUTE_PLAN_TASK_NAMES } from '../../../src/execute-plan/execute-plan-tasks.ts';
import { synthesizeExecutePlanAsl } from '../../../src/local/execute-plan-runner.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

/**
 * An App with its own outdir, under one removed when this file's tests end: stacks are built here outside tests
 * too, where `tempDir` cannot be used.
 */
const cdkOut = suiteTempDir('prestage-cdk-');
const newApp = () => new App({ outdir: mkdtempSync(join(cdkOut, 'app-')) });

function stackWithWorkflow(
  props: { maxConcurrency?: number; approvalTimeout?: Duration; stateMachineName?: string } = {},
) {
  const stack = new Stack(newApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const steps = Object.fromEntries(
    EXECUTE_PLAN_TASK_NAMES.map((name) => [
      name,
      new LambdaFunction(stack, `${name}Fn`, {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromInline('exports.handler = async () => ({})'),
      }),
    ]),
  ) as never;
  const migratePartition = new StateMachine(stack, 'MigratePartition', {
    definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Noop')),
  });
  new ExecutePlanWorkflow(stack, 'ExecutePlan', { steps, migratePartition, ...props });
  return { stack, template: Template.fromStack(stack) };
}

type State = {
  Type: string;
  Resource?: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Error?: string;
  TimeoutSeconds?: number;
  MaxConcurrency?: number;
  Parameters?: Record<string, unknown>;
  Retry?: { ErrorEquals: string[]; BackoffRate?: number; JitterStrategy?: string }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Choices?: Record<string, unknown>[];
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
};

describe('ExecutePlanWorkflow', () => {
  const { template } = stackWithWorkflow({ maxConcurrency: 7, approvalTimeout: Duration.hours(6) });
  const asl = synthesizeExecutePlanAsl({ maxConcurrency: 7, approvalTimeoutSeconds: 6 * 3600 });
  const states = asl.States as Record<string, State>;
  const moveStates = states.RunMoves.ItemProcessor!.States;

  it('is a standard state machine with X-Ray and ALL-level logs including execution data', () => {
    const definition = new Capture();
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      DefinitionString: definition,
    });
    // The captured definition is the ExecutePlan one (it starts children with .sync:2).
    expect(JSON.stringify(definition.asObject())).toContain('states:startExecution.sync:2');
  });

  it('runs each page in a Map with the static MaxConcurrency, a child MigratePartition per move', () => {
    expect(states.RunMoves).toMatchObject({ Type: 'Map', MaxConcurrency: 7 });
    expect(moveStates.StartMigration).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: {
        StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:MigratePartition',
        'Name.$': '$.move.childName',
        Input: {
          'partition.$': '$.move.partition',
          'targetCell.$': '$.move.to',
          'canarySteps.$': '$.move.canarySteps',
          'moveId.$': '$.move.moveId',
        },
      },
    });
    // A failed child goes to RecordOutcome, never out of the Map.
    expect(moveStates.StartMigration.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'RecordOutcome' },
    ]);
    expect(moveStates.ReserveSlot.Catch?.[0]).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: 'RecordOutcome',
    });
    expect(moveStates.RecordOutcome.End).toBe(true);
    // No slot: wait and ask again, rather than fail.
    expect(moveStates['SlotFree?'].Default).toBe('WaitForSlot');
    expect(moveStates.WaitForSlot).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.slot.waitSeconds',
      Next: 'ReserveSlot',
    });
    // Pages loop until PageMoves says there are no more, counting the pages of this execution.
    expect(states.PageMoves.Next).toBe('RunMoves');
    expect(states.PageMoves.Parameters).toMatchObject({ 'after.$': '$.pages.next', limit: 100 });
    expect(states.RunMoves.Next).toBe('PageDone');
    expect(states.PageDone).toMatchObject({
      Type: 'Pass',
      ResultPath: '$.pages',
      Parameters: { 'next.$': '$.page.next', 'count.$': 'States.MathAdd($.pages.count, 1)' },
      Next: 'MorePages?',
    });
    expect(states['MorePages?']).toMatchObject({ Default: 'FirstDrop' });
  });

  it("runs the plan's cold-copy drops after the moves, in pieces, and never lets a drop fail the plan", () => {
    const states = synthesizeExecutePlanAsl().States as Record<string, State>;
    expect(states.FirstDrop).toMatchObject({ Type: 'Pass', ResultPath: '$.drops', Next: 'DropColdCopies' });
    expect(states.FirstDrop.Parameters).toEqual({ next: 0, dropped: 0, gone: 0, busy: 0, itemsDeleted: 0 });
    expect(states.DropColdCopies).toMatchObject({
      Type: 'Task',
      ResultPath: '$.drops',
      Parameters: { 'planId.$': '$.plan.planId', 'progress.$': '$.drops' },
      Next: 'MoreDrops?',
    });
    // A piece cut short by the budget comes back with done: false and is called again.
    expect(states['MoreDrops?'].Choices).toEqual([
      { Variable: '$.drops.done', BooleanEquals: false, Next: 'DropColdCopies' },
    ]);
    expect(states['MoreDrops?'].Default).toBe('FinishPlan');
    // Retried (a retry resumes under the drop's owner), then on to FinishPlan with the error kept aside.
    expect(states.DropColdCopies.Retry?.at(-1)).toMatchObject({
      ErrorEquals: ['States.ALL'],
      MaxAttempts: 3,
    });
    expect(states.DropColdCopies.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.dropError', Next: 'FinishPlan' },
    ]);
  });

  it('continues in a child execution of itself after pagesPerExecution pages, ending with its output', () => {
    const chained = synthesizeExecutePlanAsl({ pagesPerExecution: 3 }).States as Record<string, State>;
    expect(chained['MorePages?'].Choices).toEqual([
      {
        And: [
          { Variable: '$.page.hasMore', BooleanEquals: true },
          { Variable: '$.pages.count', NumericGreaterThanEquals: 3 },
        ],
        Next: 'ContinueInChild',
      },
      { Variable: '$.page.hasMore', BooleanEquals: true, Next: 'PageMoves' },
    ]);
    expect(chained.ContinueInChild).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: {
        // Its own ARN, built from its name (the local runner names it ExecutePlan).
        StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:ExecutePlan',
        'Name.$': '$.plan.nextContinuation.executionName',
        Input: {
          'planId.$': '$.plan.planId',
          approval: false,
          'resumeAfter.$': '$.pages.next',
          'continuation.$': '$.plan.nextContinuation.continuation',
          'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
        },
      },
      OutputPath: '$.Output',
      End: true,
    });
    // A failed continuation: the plan is FAILED unless it already ended, and the execution fails with the
    // child's own error (AbortPlan reads it out of the DescribeExecution in the cause).
    expect(chained.ContinueInChild.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'AbortAfterContinuation' },
    ]);
    expect(chained.AbortAfterContinuation).toMatchObject({
      Resource: expect.stringMatching(/:function:AbortPlan$/),
      ResultPath: '$.abort',
      Next: 'ContinuationFailed',
    });
    expect(chained.ContinuationFailed).toEqual({
      Type: 'Fail',
      ErrorPath: '$.abort.error',
      CausePath: '$.abort.cause',
    });
    // A continuation skips approval and StartRun (its plan is RUNNING) and starts paging after the cursor.
    expect(chained.ValidateInput.Next).toBe('Continuation?');
    expect(chained['Continuation?']).toMatchObject({
      Choices: [{ Variable: '$.plan.continuation', NumericGreaterThan: 0, Next: 'FirstPage' }],
      Default: 'ApprovalRequired?',
    });
    expect(chained.StartRun.Next).toBe('FirstPage');
    expect(chained.FirstPage).toMatchObject({
      Parameters: { 'next.$': '$.plan.resumeAfter', count: 0 },
      ResultPath: '$.pages',
      Next: 'PageMoves',
    });
    // FinishPlan only where no page is left: the last execution of the chain.
    const finishers = Object.entries(chained).filter(([, st]) =>
      st.Resource?.endsWith(':function:FinishPlan'),
    );
    expect(finishers.map(([name]) => name)).toEqual(['FinishPlan']);
  });

  it('keeps one execution well below the 25,000-event history at the default page size, slot waits included', () => {
    // History events per state as Step Functions records them: Task (Lambda) 5, Task (.sync) 6, Pass/Choice/Wait 2.
    const cost = (st: State) =>
      st.Type === 'Task' ? (st.Resource?.startsWith('arn:aws:states:::states:') ? 6 : 5) : 2;
    const sum = (graph: Record<string, State>, names: string[]) =>
      names.reduce((n, name) => n + cost(graph[name]), 0);
    const perMove = 2 + sum(moveStates, ['ReserveSlot', 'SlotFree?', 'StartMigration', 'RecordOutcome']);
    const perWait = sum(moveStates, ['WaitForSlot', 'ReserveSlot', 'SlotFree?']);
    const perPage = sum(states, ['PageMoves', 'PageDone', 'MorePages?']) + 4;
    expect({ perMove, perWait, perPage }).toEqual({ perMove: 20, perWait: 9, perPage: 13 });
    const noWaits = { pagesPerExecution: DEFAULT_PAGES_PER_EXECUTION, pageSize: 100, slotWaits: 0 };
    expect(executionHistoryBound(noWaits)).toBe(40 + DEFAULT_PAGES_PER_EXECUTION * (perPage + 100 * perMove));
    // The default leaves room for 25 waits per move on average (about 12.5 minutes of waiting each at 30 s).
    expect(
      executionHistoryBound({ ...noWaits, slotWaits: 25 * 100 * DEFAULT_PAGES_PER_EXECUTION }),
    ).toBeLessThan(HISTORY_EVENT_LIMIT);
    // Without continuations, the 1,000 moves the docs warn about would not fit with a few waits each.
    expect(executionHistoryBound({ pagesPerExecution: 10, pageSize: 100, slotWaits: 1000 })).toBeGreaterThan(
      HISTORY_EVENT_LIMIT,
    );
  });

  it('may start exactly the MigratePartition state machine and follow its executions', () => {
    const migrateRef = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'states:StartExecution',
            Effect: 'Allow',
            Resource: { Ref: migrateRef },
          }),
          Match.objectLike({ Action: ['states:DescribeExecution', 'states:StopExecution'], Effect: 'Allow' }),
          Match.objectLike({ Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'] }),
        ]),
      },
    });
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    expect(machines[migrateRef.asString()]).toBeDefined();
    expect(migrateRef.asString()).toMatch(/^MigratePartition/);
  });

  it('may start and follow executions of itself, by its name-built ARN (no reference cycle)', () => {
    const { template: named } = stackWithWorkflow({ stateMachineName: 'prestage-ExecutePlan' });
    const arn = (resource: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:states:eu-west-1:123456789012:${resource}`]],
    });
    named.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'prestage-ExecutePlan',
      DefinitionString: Match.objectLike({
        'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('stateMachine:prestage-ExecutePlan"')])],
      }),
    });
    named.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 'states:StartExecution',
            Effect: 'Allow',
            Resource: arn('stateMachine:prestage-ExecutePlan'),
          },
          {
            Action: ['states:DescribeExecution', 'states:StopExecution'],
            Effect: 'Allow',
            Resource: arn('execution:prestage-ExecutePlan*'),
          },
        ]),
      },
    });
    // Neither the definition nor the role's policy refers to the state machine resource, which depends on both.
    const json = named.toJSON() as { Resources: Record<string, { Type: string; DependsOn?: string[] }> };
    const [machineId, machine] = Object.entries(json.Resources).find(
      ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith('ExecutePlan'),
    )!;
    const policyId = machine.DependsOn!.find((id) => json.Resources[id].Type === 'AWS::IAM::Policy')!;
    expect(JSON.stringify(json.Resources[policyId])).not.toContain(machineId);
    expect(JSON.stringify(machine)).not.toContain(`"Ref":"${machineId}"`);
    // Unnamed, it gets a name of its own (unique per construct path) to build the same self-reference from.
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: Match.stringLikeRegexp('^Test-ExecutePlan-'),
    });
  });

  it('waits for approval with a task token, and names rejection, expiry and bad input', () => {
    expect(states['ApprovalRequired?']).toMatchObject({ Default: 'StartRun' });
    expect(states.RequestApproval).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      TimeoutSeconds: 6 * 3600,
      Parameters: { Payload: { 'taskToken.$': '$$.Task.Token', 'planId.$': '$.plan.planId' } },
      Next: 'StartRun',
    });
    const catches = states.RequestApproval.Catch!;
    expect(catches.find((c) => c.ErrorEquals.includes('PlanRejectedError'))?.Next).toBe('MarkRejected');
    expect(catches.find((c) => c.ErrorEquals.includes('States.Timeout'))?.Next).toBe('MarkExpired');
    expect(states[states.MarkRejected.Next!]).toMatchObject({ Type: 'Fail', Error: 'PlanRejectedError' });
    expect(states[states.MarkExpired.Next!]).toMatchObject({ Type: 'Fail', Error: 'PlanExpiredError' });
    expect(asl.StartAt).toBe('ValidateInput');
    expect(states.ValidateInput.Catch?.[0]).toMatchObject({
      ErrorEquals: ['InvalidEventError', 'InvalidPlanInputError'],
      Next: 'InvalidInput',
    });
    expect(states.InvalidInput).toMatchObject({ Type: 'Fail', Error: 'InvalidInputError' });
    expect(states.PlanFailed).toMatchObject({ Type: 'Fail', Error: 'PlanFailedError' });
  });

  it('retries Lambda throttles with exponential backoff and jitter on every Lambda step', () => {
    const lambdaSteps = [...Object.entries(states), ...Object.entries(moveStates)].filter(
      ([, s]) => s.Type === 'Task' && s.Resource?.includes(':function:'),
    );
    expect(lambdaSteps.length).toBeGreaterThanOrEqual(9);
    for (const [name, state] of lambdaSteps) {
      const retry = state.Retry?.find((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
      expect({ name, backoff: retry?.BackoffRate, jitter: retry?.JitterStrategy }).toEqual({
        name,
        backoff: 2,
        jitter: 'FULL',
      });
    }
  });

  it('passes asl-validator (the synthesized definition, ARNs resolved)', () => {
    const local = aslValidator(asl);
    expect(local.errorsText()).toBe('');
    expect(local.isValid).toBe(true);
    const small = aslValidator(
      synthesizeExecutePlanAsl({ maxConcurrency: 2, pageSize: 3, approvalTimeoutSeconds: 1 }),
    );
    expect(small.isValid).toBe(true);
    const chained = aslValidator(synthesizeExecutePlanAsl({ pageSize: 2, pagesPerExecution: 2 }));
    expect(chained.errorsText()).toBe('');
    expect(chained.isValid).toBe(true);
    const broken = aslValidator({ ...asl, StartAt: 'NoSuchState' });
    expect(broken.isValid).toBe(false);
  });

  it('points each step entry at an existing handler file', () => {
    for (const name of EXECUTE_PLAN_TASK_NAMES)
      expect(existsSync(EXECUTE_PLAN_STEP_ENTRIES[name])).toBe(true);
    expect(EXECUTE_PLAN_STEP_ENTRIES.ReserveSlot).toBe('functions/execute-plan/reserve-slot.ts');
  });

  it('refuses to build without every step or with a bad concurrency, naming what is wrong', () => {
    const stack = new Stack(newApp(), 'Missing');
    const migratePartition = StateMachine.fromStateMachineArn(
      stack,
      'M',
      'arn:aws:states:us-east-1:123456789012:stateMachine:M',
    );
    expect(() => new ExecutePlanWorkflow(stack, 'E', { steps: {} as never, migratePartition })).toThrow(
      /steps is missing ValidateInput, RequestApproval/,
    );
    const { stack: other } = stackWithWorkflow();
    const steps = Object.fromEntries(
      EXECUTE_PLAN_TASK_NAMES.map((n) => [
        n,
        LambdaFunction.fromFunctionArn(other, `X${n}`, `arn:aws:lambda:eu-west-1:123456789012:function:${n}`),
      ]),
    ) as never;
    const child = StateMachine.fromStateMachineArn(
      other,
      'M2',
      'arn:aws:states:eu-west-1:123456789012:stateMachine:M',
    );
    expect(
      () => new ExecutePlanWorkflow(other, 'E2', { steps, migratePartition: child, maxConcurrency: 0 }),
    ).toThrow(/maxConcurrency must be an integer from 1 to 1000/);
    expect(
      () => new ExecutePlanWorkflow(other, 'E3', { steps, migratePartition: child, pageSize: 5000 }),
    ).toThrow(/pageSize must be an integer from 1 to 1000/);
    expect(
      () => new ExecutePlanWorkflow(other, 'E4', { steps, migratePartition: child, pagesPerExecution: 0 }),
    ).toThrow(/pagesPerExecution must be an integer from 1 to 1000/);
    // 10 pages of 100 moves would already take ~20,000 events before any slot wait.
    expect(
      () => new ExecutePlanWorkflow(other, 'E5', { steps, migratePartition: child, pagesPerExecution: 10 }),
    ).toThrow(/10 pages of 100 moves take ~20170 history events before any slot wait/);
  });
});
