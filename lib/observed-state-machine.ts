import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import { type ILogGroup, LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  type IChainable,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';

export interface ObservedStateMachineProps {
  readonly definition: IChainable;
  readonly stateMachineName?: string;
  /** @default a new log group in `scope` (id `Logs`), retained for one month */
  readonly logGroup?: ILogGroup;
  /** @default true */
  readonly tracingEnabled?: boolean;
  readonly timeout?: Duration;
}

/**
 * The Standard state machine every prestage workflow deploys (id `StateMachine` in `scope`): execution logs at
 * level ALL with execution data, and X-Ray tracing, so each run can be followed in the console.
 */
export function observedStateMachine(scope: Construct, props: ObservedStateMachineProps): StateMachine {
  const logGroup =
    props.logGroup ??
    new LogGroup(scope, 'Logs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
  return new StateMachine(scope, 'StateMachine', {
    stateMachineName: props.stateMachineName,
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromChainable(props.definition),
    timeout: props.timeout,
    tracingEnabled: props.tracingEnabled ?? true,
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: true },
  });
}

/** Fail at synth, naming the workflow and every missing step, when a workflow is not given one function per step. */
export function requireSteps(
  workflow: string,
  names: readonly string[],
  steps: Readonly<Record<string, unknown>>,
): void {
  const missing = names.filter((name) => !steps[name]);
  if (missing.length > 0)
    throw new Error(`${workflow}: steps is missing ${missing.join(', ')}; pass one IFunction per step`);
}
