import { Duration } from 'aws-cdk-lib';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { MigratePartitionWorkflow } from '../../lib/migrate-partition-workflow.ts';
import { MIGRATION_TASK_NAMES } from '../domain/migration/migration-tasks.ts';
import { type AslDefinition, localFunctionArn, synthesizeStateMachine } from './state-machine-asl.ts';

export type { AslDefinition } from './state-machine-asl.ts';

/** The Lambda ARN a Task state of the locally synthesized definition invokes (bound to a local handler). */
export function localStepArn(task: string): string {
  return localFunctionArn(task);
}

/**
 * Synthesize MigratePartition from its CDK construct and return the definition as plain ASL JSON: the exact
 * document Step Functions would run in AWS, with each Task's Lambda ARN naming the Task (see localStepArn).
 */
export function synthesizeMigrationAsl(options: { taskTimeoutSeconds?: number } = {}): AslDefinition {
  return synthesizeStateMachine((stack) => {
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
  });
}
