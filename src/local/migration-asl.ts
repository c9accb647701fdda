import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { MigratePartitionWorkflow } from '../../lib/migrate-partition-workflow.ts';
import { MIGRATION_TASK_NAMES } from '../domain/migration/migration-tasks.ts';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

/** The Lambda ARN a Task state of the locally synthesized definition invokes (bound to a local handler). */
export function localStepArn(task: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${task}`;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, unknown>>;
  readonly [key: string]: unknown;
}

type CfnValue = string | { 'Fn::Join'?: [string, CfnValue[]]; Ref?: string; 'Fn::GetAtt'?: [string, string] };

function resolve(value: CfnValue): string {
  if (typeof value === 'string') return value;
  if (value['Fn::Join']) {
    const [separator, parts] = value['Fn::Join'];
    return parts.map(resolve).join(separator);
  }
  if (value.Ref === 'AWS::Partition') return 'aws';
  if (value.Ref === 'AWS::Region') return REGION;
  if (value.Ref === 'AWS::AccountId') return ACCOUNT;
  throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
}

/**
 * Synthesize MigratePartition from its CDK construct and return the definition as plain ASL JSON: the exact
 * document Step Functions would run in AWS, with each Task's Lambda ARN naming the Task (see localStepArn).
 */
export function synthesizeMigrationAsl(options: { taskTimeoutSeconds?: number } = {}): AslDefinition {
  const app = new App();
  const stack = new Stack(app, 'PrestageLocalMigration', { env: { account: ACCOUNT, region: REGION } });
  const steps = Object.fromEntries(
    MIGRATION_TASK_NAMES.map((name) => [
      name,
      LambdaFunction.fromFunctionArn(stack, `${name}Function`, localStepArn(name)),
    ]),
  ) as never;
  new MigratePartitionWorkflow(stack, 'MigratePartition', {
    steps,
    taskTimeout: Duration.seconds(options.taskTimeoutSeconds ?? 120),
  });
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines) as { Properties: { DefinitionString: CfnValue } }[];
  return JSON.parse(resolve(machine.Properties.DefinitionString)) as AslDefinition;
}
