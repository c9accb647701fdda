import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SCALE_CLUSTER_STEP_ENTRIES,
  ScaleClusterWorkflow,
  type ScaleClusterWorkflowProps,
} from '../../../lib/scale-cluster-workflow.ts';
import { synthesizeScaleClusterAsl } from '../../../src/local/scale-cluster-runner.ts';
import type { AslDefinition } from '../../../src/local/state-machine-asl.ts';
import { SCALE_CLUSTER_TASK_NAMES } from '../../../src/scaling/scale-cluster-tasks.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errors: unknown[];
};

/**
 * An App with its own outdir, under one removed when this file's tests end: stacks are built here outside tests
 * too, where `tempDir` cannot be used.
 */
const cdkOut = suiteTempDir('prestage-cdk-');
const newApp = () => new App({ outdir: mkdtempSync(join(cdkOut, 'app-')) });

function stackWith(overrides: Partial<ScaleClusterWorkflowProps> = {}) {
  const stack = new Stack(newApp(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const fn = (name: string) =>
    LambdaFunction.fromFunctionArn(stack, name, `arn:aws:lambda:us-east-1:123456789012:function:${name}`);
  const steps = Object.fromEntries(SCALE_CLUSTER_TASK_NAMES.map((name) => [name, fn(name)])) as never;
  const workflow = new ScaleClusterWorkflow(stack, 'ScaleCluster', {
    steps,
    planner: fn('Planner'),
    executePlan: StateMachine.fromStateMachineArn(
      stack,
      'ExecutePlan',
      'arn:aws:states:us-east-1:123456789012:stateMachine:ExecutePlan',
    ),
    homeRegion: 'us-east-1',
    dataRegions: ['us-east-1', 'eu-west-1'],
    cellTablePrefix: 'prestage-cell-',
    capacityAlarmPrefix: 'prestage-cell-capacity-',
    canaryAlarmPrefix: 'prestage-cell-errors-',
    ...overrides,
  });
  return { stack, workflow };
}

type State = Record<string, unknown> & { Type: string };

function allStates(asl: AslDefinition): [string, State][] {
  const out: [string, State][] = [];
  const visit = (states: Record<string, unknown>) => {
    for (const [name, state] of Object.entries(states) as [string, State][]) {
      out.push([name, state]);
      const inner = state.ItemProcessor as AslDefinition | undefined;
      if (inner) visit(inner.States);
    }
  };
  visit(asl.States);
  return out;
}

describe('ScaleClusterWorkflow', () => {
  let template: Template;
  let asl: AslDefinition;
  beforeAll(() => {
    template = Template.fromStack(stackWith().stack);
    asl = synthesizeScaleClusterAsl({
      homeRegion: 'us-east-1',
      dataRegions: ['us-east-1', 'eu-west-1'],
      cellTablePrefix: 'prestage-cell-',
      capacityAlarmPrefix: 'prestage-cell-capacity-',
      canaryAlarmPrefix: 'prestage-cell-errors-',
    });
  }, 60_000);

  it('logs ALL with execution data, traces with X-Ray, and has a time limit', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
      TracingConfiguration: { Enabled: true },
    });
    expect(asl.TimeoutSeconds).toBe(86_400);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('grants the state machine its Lambdas, ExecutePlan and the home-region table calls, scoped to the cell prefix', () => {
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ScaleClusterStateMachineRole') }],
      PolicyDocument: { Statement: statements },
    });
    const policy = JSON.stringify(statements.asArray());
    for (const name of [...SCALE_CLUSTER_TASK_NAMES, 'Planner'])
      expect(policy).toContain(`arn:aws:lambda:us-east-1:123456789012:function:${name}`);
    expect(policy).toContain('"states:StartExecution"');
    expect(policy).toContain('stateMachine:ExecutePlan');
    const actions = statements.asArray().flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    for (const action of [
      'dynamodb:createTable',
      'dynamodb:describeTable',
      'dynamodb:updateContinuousBackups',
      'dynamodb:updateTimeToLive',
      'dynamodb:createBackup',
      'dynamodb:describeBackup',
      'dynamodb:deleteTable',
    ])
      expect(actions).toContain(action);
    const createTable = statements
      .asArray()
      .find((s: { Action: unknown }) => s.Action === 'dynamodb:createTable');
    expect(JSON.stringify(createTable.Resource)).toMatch(/:dynamodb:us-east-1:.*:table\/prestage-cell-\*/);
    const kms = statements
      .asArray()
      .find((s: { Action: unknown }) => JSON.stringify(s.Action).includes('kms:CreateGrant'));
    // Exactly what CreateTable with a customer-managed key needs: no wildcard action.
    expect([kms.Action].flat().sort()).toEqual([
      'kms:CreateGrant',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
    expect(kms.Condition).toEqual({
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/prestage-cell-data' },
    });
    // `Resource: "*"` only for what allows nothing else: log delivery (logging ALL) and X-Ray.
    for (const s of statements.asArray() as { Action: string | string[]; Resource: unknown }[]) {
      if (s.Resource === '*') for (const action of [s.Action].flat()) expect(action).toMatch(/^(logs|xray):/);
    }
  });

  it('calls the other data regions through the cross-region SDK Lambda, whose role is scoped to that region', () => {
    const statements = new Capture();
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('CrossRegionAwsSdk') }],
      PolicyDocument: { Statement: statements },
    });
    const policy = JSON.stringify(statements.asArray());
    expect(policy).toContain('dynamodb:createTable');
    expect(policy).toMatch(/:dynamodb:eu-west-1:.*table\/prestage-cell-\*/);
    expect(policy).not.toMatch(/:dynamodb:us-east-1:/);
    const crossRegion = allStates(asl).filter(
      ([, s]) => (s.Parameters as { region?: string } | undefined)?.region === 'eu-west-1',
    );
    expect(crossRegion.map(([name]) => name).sort()).toEqual(
      [
        'CreateBackup eu-west-1',
        'CreateTable eu-west-1',
        'DeleteAlarms eu-west-1',
        'DeleteTable eu-west-1',
        'DescribeBackup eu-west-1',
        'DescribeTable eu-west-1',
        'EnablePointInTimeRecovery eu-west-1',
        'EnableTimeToLive eu-west-1',
        'PutCanaryAlarm eu-west-1',
        'PutCapacityAlarm eu-west-1',
      ].sort(),
    );
  });

  it('creates cell tables with the cell data table definition, KMS encryption and a wait loop until ACTIVE', () => {
    const states = Object.fromEntries(allStates(asl));
    const create = states['CreateTable us-east-1'];
    expect(create.Resource).toBe('arn:aws:states:::aws-sdk:dynamodb:createTable');
    expect(create.Parameters).toMatchObject({
      'TableName.$': '$.table',
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: 'changes' })],
      SSESpecification: { Enabled: true, SSEType: 'KMS', KMSMasterKeyId: 'alias/prestage-cell-data' },
    });
    expect(create.Catch).toEqual([
      expect.objectContaining({
        ErrorEquals: ['DynamoDb.ResourceInUseException', 'ResourceInUseException'],
        Next: 'TableWait us-east-1',
      }),
    ]);
    const check = states['TableActive? us-east-1'] as unknown as { Choices: { Next: string }[] };
    expect(check.Choices.map((c) => c.Next)).toEqual([
      'EnablePointInTimeRecovery us-east-1',
      'TableCreationTimeout us-east-1',
    ]);
    expect(states['EnablePointInTimeRecovery us-east-1'].Next).toBe('EnableTimeToLive us-east-1');
  });

  it('deletes a table only after its backup is AVAILABLE', () => {
    const states = Object.fromEntries(allStates(asl));
    const pointingAtDelete = allStates(asl).filter(([, s]) =>
      JSON.stringify({ n: s.Next, c: s.Choices, d: s.Default }).includes('"DeleteTable us-east-1"'),
    );
    expect(pointingAtDelete.map(([name]) => name)).toEqual(['BackupAvailable? us-east-1']);
    const choice = states['BackupAvailable? us-east-1'] as unknown as {
      Choices: { Variable: string; StringEquals?: string; Next: string }[];
    };
    expect(choice.Choices[0]).toEqual({
      Variable: '$.describedBackup.status',
      StringEquals: 'AVAILABLE',
      Next: 'DeleteTable us-east-1',
    });
    expect(states['CreateBackup us-east-1'].Next).toBe('BackupWait us-east-1');
    expect(states['DeleteTable us-east-1'].Next).toBe('DeleteAlarms us-east-1');
  });

  it("creates each new cell's capacity and canary alarms from the request's definitions before the cell is ACTIVE", () => {
    const states = Object.fromEntries(allStates(asl));
    for (const region of ['us-east-1', 'eu-west-1']) {
      expect(states[`EnableTimeToLive ${region}`].Next).toBe(`PutCapacityAlarm ${region}`);
      expect(states[`PutCapacityAlarm ${region}`].Next).toBe(`PutCanaryAlarm ${region}`);
      expect(states[`PutCanaryAlarm ${region}`].Next).toBe('TableReady');
    }
    const fields = [
      'AlarmName',
      'AlarmDescription',
      'Metrics',
      'Threshold',
      'ComparisonOperator',
      'EvaluationPeriods',
      'DatapointsToAlarm',
      'TreatMissingData',
    ];
    for (const kind of ['Capacity', 'Canary']) {
      const put = states[`Put${kind}Alarm us-east-1`];
      expect(put.Resource).toBe('arn:aws:states:::aws-sdk:cloudwatch:putMetricAlarm');
      expect(put.Parameters).toEqual(
        Object.fromEntries(fields.map((f) => [`${f}.$`, `$.alarms.${kind.toLowerCase()}.${f}`])),
      );
      const crossRegion = states[`Put${kind}Alarm eu-west-1`].Parameters as Record<string, unknown>;
      expect(crossRegion).toMatchObject({
        service: 'cloudwatch',
        action: 'putMetricAlarm',
        region: 'eu-west-1',
      });
      expect(crossRegion.parameters).toEqual(put.Parameters);
    }
    // The Map hands each cell its definitions (computed by ParseRequest), and the cells turn ACTIVE after it.
    const provision = asl.States.ProvisionTables as unknown as { ItemSelector: Record<string, unknown> };
    expect(provision.ItemSelector).toMatchObject({ 'alarms.$': '$$.Map.Item.Value.alarms' });
    expect((asl.States.ProvisionTables as State).Next).toBe('MarkCellsActive');
  });

  it("deletes the retired cell's two alarms after its table, also when the table or the alarms are gone already", () => {
    const states = Object.fromEntries(allStates(asl));
    for (const region of ['us-east-1', 'eu-west-1']) {
      const remove = states[`DeleteAlarms ${region}`];
      expect(remove.Next).toBe('MarkRetired');
      const parameters =
        region === 'us-east-1'
          ? remove.Parameters
          : (remove.Parameters as { parameters: unknown }).parameters;
      expect(parameters).toEqual({ 'AlarmNames.$': '$.request.alarmNames' });
      const catches = remove.Catch as { ErrorEquals: string[]; Next: string }[];
      expect(catches[0]).toMatchObject({
        ErrorEquals: [
          'CloudWatch.ResourceNotFound',
          'ResourceNotFound',
          'CloudWatch.ResourceNotFoundException',
          'ResourceNotFoundException',
        ],
        Next: 'MarkRetired',
      });
      expect(catches.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'Failed:delete-alarms' });
      const tableGone = (
        states[`DeleteTable ${region}`].Catch as { ErrorEquals: string[]; Next: string }[]
      )[0];
      expect(tableGone.Next).toBe(`DeleteAlarms ${region}`);
    }
    expect(states['DeleteAlarms us-east-1'].Resource).toBe(
      'arn:aws:states:::aws-sdk:cloudwatch:deleteAlarms',
    );
  });

  it('grants PutMetricAlarm and DeleteAlarms only on the alarm name prefixes, per region', () => {
    const statementsOf = (role: string) => {
      const statements = new Capture();
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp(role) }],
        PolicyDocument: { Statement: statements },
      });
      return (statements.asArray() as { Action: string | string[]; Resource: unknown }[]).filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('cloudwatch:')),
      );
    };
    const grants = (role: string) =>
      statementsOf(role).map((s) => ({
        actions: [s.Action].flat(),
        resources: [s.Resource].flat().map((r) => JSON.stringify(r)),
      }));
    for (const [role, region] of [
      ['ScaleClusterStateMachineRole', 'us-east-1'],
      ['CrossRegionAwsSdk', 'eu-west-1'],
    ]) {
      const found = grants(role);
      expect(found.flatMap((g) => g.actions).sort(), role).toEqual([
        'cloudwatch:DeleteAlarms',
        'cloudwatch:PutMetricAlarm',
        'cloudwatch:PutMetricAlarm',
      ]);
      for (const g of found) {
        for (const resource of g.resources) {
          expect(resource, role).toMatch(
            new RegExp(`:cloudwatch:${region}:".*":alarm:prestage-cell-(capacity|errors)-\\*"`),
          );
        }
      }
      const deletes = found.find((g) => g.actions.includes('cloudwatch:DeleteAlarms'))!;
      expect(deletes.resources).toHaveLength(2);
      const puts = found.filter((g) => g.actions.includes('cloudwatch:PutMetricAlarm'));
      expect(
        puts
          .flatMap((g) => g.resources)
          .map((r) => /alarm:([a-z-]+)\*/.exec(r)?.[1])
          .sort(),
      ).toEqual(['prestage-cell-capacity-', 'prestage-cell-errors-']);
    }
  });

  it('runs plans with startExecution.sync:2 and {planId, approval:false}, named after the plan', () => {
    const states = Object.fromEntries(allStates(asl));
    for (const name of ['RunScaleOutPlan', 'RunScaleInPlan']) {
      expect(states[name].Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
      expect(states[name].Parameters).toEqual({
        StateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:ExecutePlan',
        Input: { 'planId.$': '$.plan.planId', approval: false },
        'Name.$': '$.plan.planId',
      });
    }
    expect(states.PlanScaleOut.Parameters).toEqual({
      trigger: 'scaling',
      action: 'scale-out',
      'region.$': '$.request.region',
      'cellIds.$': '$.request.cellIds',
      'requestId.$': '$.execution.name',
      round: 1,
    });
  });

  it('names its errors, and every failure after the lock goes through AbortScaling', () => {
    const states = allStates(asl);
    const fails = Object.fromEntries(states.filter(([, s]) => s.Type === 'Fail'));
    expect(fails.InvalidInput).toMatchObject({ Error: 'InvalidInputError' });
    expect(fails.ScalingInProgress).toMatchObject({ Error: 'ScalingInProgressError' });
    expect(fails.ScalingFailed).toMatchObject({ ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    const top = new Set(Object.keys(asl.States));
    const beforeLock = new Set(['ParseRequest', 'AcquireLock', 'AbortScaling']);
    for (const [name, state] of states) {
      if (state.Type !== 'Task' && state.Type !== 'Map') continue;
      if (!top.has(name) || beforeLock.has(name)) continue;
      const catches = state.Catch as { ErrorEquals: string[]; Next: string }[];
      const last = catches.at(-1);
      expect(last?.ErrorEquals, name).toEqual(['States.ALL']);
      expect(String(last?.Next), name).toMatch(/^Failed:/);
      expect((asl.States[String(last?.Next)] as State).Next).toBe('AbortScaling');
    }
    expect(asl.States.AbortScaling).toMatchObject({ Next: 'ScalingFailed' });
  });

  it('retries throttles on every Lambda step', () => {
    for (const [name, state] of allStates(asl)) {
      if (state.Type !== 'Task' || !String(state.Resource).includes(':function:') || name.includes(' '))
        continue;
      const retried = (state.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(retried, name).toContain(name === 'AbortScaling' ? 'States.ALL' : 'StorageThrottledError');
    }
  });

  it('passes asl-validator', () => {
    const result = aslValidator(asl);
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('validates its props with messages that say how to fix them', () => {
    expect(() => stackWith({ steps: {} as never })).toThrow(
      /steps is missing ParseRequest, AcquireLock.*one IFunction per step/,
    );
    expect(() => stackWith({ homeRegion: 'home' })).toThrow(/homeRegion 'home' is not an AWS region name/);
    expect(() => stackWith({ dataRegions: ['eu west'] })).toThrow(/dataRegions has 'eu west'/);
    expect(() => stackWith({ cellTablePrefix: 'bad prefix' })).toThrow(
      /cellTablePrefix 'bad prefix' must be/,
    );
    expect(() => stackWith({ maxTableWaits: 0 })).toThrow(/maxTableWaits/);
    expect(() => stackWith({ canaryAlarmPrefix: 'bad*' })).toThrow(/canaryAlarmPrefix 'bad\*' must be/);
    expect(() => stackWith({ canaryAlarmPrefix: 'prestage-cell-' })).toThrow(
      /must not be prefixes of each other/,
    );
  });

  it('points each step entry at a handler file that documents its permissions', () => {
    expect(Object.keys(SCALE_CLUSTER_STEP_ENTRIES).sort()).toEqual([...SCALE_CLUSTER_TASK_NAMES].sort());
    for (const entry of Object.values(SCALE_CLUSTER_STEP_ENTRIES)) {
      const source = readFileSync(entry, 'utf8');
      expect(source.startsWith('/**\n * Permissions:'), entry).toBe(true);
      expect(source).toMatch(/export const handler = scaleClusterStep\('/);
    }
  });
});
