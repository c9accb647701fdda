import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { EXECUTE_PLAN_STEP_ENTRIES, ExecutePlanWorkflow } from '../../../lib/execute-plan-workflow.ts';
import { EXECUTE_PLAN_TASK_NAMES } from '../../../src/execute-plan/execute-plan-tasks.ts';
import { synthesizeExecutePlanAsl } from '../../../src/local/execute-plan-runner.ts';

const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

function stackWithWorkflow(props: { maxConcurrency?: number; approvalTimeout?: Duration } = {}) {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
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
    // Pages loop until PageMoves says there are no more.
    expect(states.PageMoves.Next).toBe('RunMoves');
    expect(states.RunMoves.Next).toBe('MorePages?');
    expect(states['MorePages?']).toMatchObject({ Default: 'FinishPlan' });
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
    const broken = aslValidator({ ...asl, StartAt: 'NoSuchState' });
    expect(broken.isValid).toBe(false);
  });

  it('points each step entry at an existing handler file', () => {
    for (const name of EXECUTE_PLAN_TASK_NAMES)
      expect(existsSync(EXECUTE_PLAN_STEP_ENTRIES[name])).toBe(true);
    expect(EXECUTE_PLAN_STEP_ENTRIES.ReserveSlot).toBe('functions/execute-plan/reserve-slot.ts');
  });

  it('refuses to build without every step or with a bad concurrency, naming what is wrong', () => {
    const stack = new Stack(new App(), 'Missing');
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
  });
});
