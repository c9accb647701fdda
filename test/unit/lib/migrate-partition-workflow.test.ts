import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { MigratePartitionWorkflow } from '../../../lib/migrate-partition-workflow.ts';
import { MIGRATION_STAGES } from '../../../src/domain/migration/migration-stage.ts';
import { MIGRATION_TASK_NAMES, MIGRATION_TASKS } from '../../../src/domain/migration/migration-tasks.ts';
import { synthesizeMigrationAsl } from '../../../src/local/migration-asl.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

/**
 * An App with its own outdir, under one removed when this file's tests end: stacks are built here outside tests
 * too, where `tempDir` cannot be used.
 */
const cdkOut = suiteTempDir('prestage-cdk-');
const newApp = () => new App({ outdir: mkdtempSync(join(cdkOut, 'app-')) });

function stackWithWorkflow() {
  const stack = new Stack(newApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const steps = Object.fromEntries(
    MIGRATION_TASK_NAMES.map((name) => [
      name,
      new LambdaFunction(stack, `${name}Fn`, {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromInline('exports.handler = async () => ({})'),
      }),
    ]),
  ) as never;
  new MigratePartitionWorkflow(stack, 'Migrate', { steps, taskTimeout: Duration.seconds(90) });
  return Template.fromStack(stack);
}

describe('MigratePartitionWorkflow', () => {
  const template = stackWithWorkflow();
  const asl = synthesizeMigrationAsl({ taskTimeoutSeconds: 90 });
  type State = {
    Type: string;
    Next?: string;
    Retry?: { ErrorEquals: string[]; BackoffRate?: number }[];
    Catch?: { ErrorEquals: string[]; Next: string }[];
  };
  const states = asl.States as Record<string, State>;

  it('is a standard state machine with X-Ray and ALL-level logs including execution data', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });

  it('may invoke exactly the step functions', () => {
    const invoked = new Set<string>();
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (statement.Action !== 'lambda:InvokeFunction') {
          // The only other grants are X-Ray and log delivery, which the service requires on '*'.
          expect(String(statement.Action)).toMatch(/^(xray|logs):|xray:|logs:/);
          continue;
        }
        for (const resource of statement.Resource) {
          const ref = resource['Fn::GetAtt']?.[0] ?? resource['Fn::Join']?.[1]?.[0]?.['Fn::GetAtt']?.[0];
          invoked.add(ref);
        }
      }
    }
    const functions = Object.keys(template.findResources('AWS::Lambda::Function'));
    expect([...invoked].sort()).toEqual(functions.sort());
    expect(functions).toHaveLength(MIGRATION_TASK_NAMES.length);
  });

  it('has a Task per step with its timeout, and loops for copy, catch-up, verify, read shifts and removal', () => {
    for (const name of MIGRATION_TASK_NAMES) {
      expect(states[name]).toMatchObject({ Type: 'Task', TimeoutSeconds: 90 });
    }
    expect(states['Copied?']).toMatchObject({ Type: 'Choice', Default: 'Copy' });
    expect(states['CaughtUp?']).toMatchObject({ Default: 'CatchUp' });
    expect(states['Verified?']).toMatchObject({ Default: 'Verify' });
    expect(states['ReadsShifted?']).toMatchObject({ Default: 'ShiftReads' });
    expect(states['SourceRemoved?']).toMatchObject({ Default: 'RemoveSource' });
    expect(states.CanaryWait).toMatchObject({ Type: 'Wait', SecondsPath: '$.shift.waitSeconds' });
    expect(states.LeaseWait).toMatchObject({ Type: 'Wait', SecondsPath: '$.cutover.waitSeconds' });
    expect(states.CutoverFence.Next).toBe('LeaseWait');
    expect(states.LeaseWait.Next).toBe('CutoverSwitch');
  });

  it('retries throttling with backoff and waits by name, and rolls back any other failure, naming the stage', () => {
    for (const name of MIGRATION_TASK_NAMES) {
      const retry = states[name].Retry ?? [];
      expect(retry.find((r) => r.ErrorEquals.includes('StorageThrottledError'))?.BackoffRate).toBe(2);
      expect(retry.some((r) => r.ErrorEquals.includes('WriterLeaseActiveError'))).toBe(true);
      expect(retry.some((r) => r.ErrorEquals.includes('States.Timeout'))).toBe(true);
      if (name === 'Rollback') continue;
      const catchAll = states[name].Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(catchAll?.Next).toBe(`Failed:${MIGRATION_TASKS[name].stage}`);
      expect(states[catchAll!.Next].Next).toBe('Rollback');
    }
    expect(new Set(Object.keys(states).filter((s) => s.startsWith('Failed:')))).toEqual(
      new Set(MIGRATION_STAGES.map((s) => `Failed:${s}`)),
    );
    expect(states.Acquire.Catch?.[0]).toMatchObject({
      ErrorEquals: ['MigrationInProgressError', 'InvalidMigrationTargetError', 'PartitionNotFoundError'],
      Next: 'Refused',
    });
    expect(states.RolledBack).toMatchObject({ Type: 'Fail', Error: 'MigrationRolledBackError' });
  });

  it('refuses to build without a function for every step, naming the missing ones', () => {
    const stack = new Stack(newApp(), 'Missing');
    expect(() => new MigratePartitionWorkflow(stack, 'M', { steps: {} as never })).toThrow(
      /steps is missing Acquire, CreateReplica/,
    );
  });
});
