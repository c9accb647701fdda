import { type CfnResource, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import type { PrestageConfig } from './prestage-config.ts';

/**
 * cdk-nag acknowledgements shared by the stacks, each with its reason. Nothing here acknowledges a rule for a
 * whole stack: each names the construct and, for wildcard findings, the exact resource.
 */

/** The account as cdk-nag prints it inside a finding id: the literal account, or `<AWS::AccountId>`. */
export function nagAccount(scope: IConstruct): string {
  const account = Stack.of(scope).account;
  return Token.isUnresolved(account) ? '<AWS::AccountId>' : account;
}

/** The cdk-nag finding id of a LambdaInvoke grant on every version of a function (`<fn.Arn>:*`). */
function invokeVersionsFinding(fn: IFunction): string {
  const logicalId = Stack.of(fn).resolve(Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnResource));
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`;
}

/**
 * A state machine's role, as CDK's grants build it: LambdaInvoke may invoke each step function's versions
 * (`<arn>:*`), and X-Ray plus CloudWatch Logs delivery need `*`.
 */
export function acknowledgeStateMachineRole(stateMachine: StateMachine, invoked: readonly IFunction[]): void {
  for (const fn of invoked) {
    Validations.of(stateMachine.role).acknowledge({
      id: invokeVersionsFinding(fn),
      reason:
        'CDK LambdaInvoke grants lambda:InvokeFunction on the step function and its versions (<arn>:*) only',
    });
  }
  Validations.of(stateMachine.role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules/Targets) and Step Functions log delivery (logs:CreateLogDelivery, …) support no resource-level permissions',
  });
}

/** The singleton Lambda behind CDK's AwsCustomResource (deploy-time only). */
export function acknowledgeCustomResourceProvider(scope: IConstruct): void {
  const provider = Stack.of(scope).node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (!provider) return;
  const ack = (id: string, reason: string) => Validations.of(provider).acknowledge({ id, reason });
  ack(
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "CDK's AwsCustomResource provider role; it runs at deploy time only (registering the configured cells)",
  );
  ack('Serverless-LambdaDefaultMemorySize', "CDK's AwsCustomResource provider: a deploy-time SDK call");
  ack(
    'Serverless-LambdaDLQ',
    'Invoked synchronously by CloudFormation, which reports each failure on the stack',
  );
  ack(
    'Serverless-LambdaTracing',
    "CDK's AwsCustomResource provider: a deploy-time SDK call, nothing to trace",
  );
  ack(
    'Serverless-LambdaAsyncFailureDestination',
    'Invoked by CloudFormation, which reports each failure on the stack',
  );
}

/**
 * A parent state machine running children with `startExecution.sync:2`: CDK grants describe/stop on the child's
 * executions (`execution:<child name>:*`) and the managed EventBridge rule Step Functions uses to watch them.
 */
export function acknowledgeChildExecutions(parent: StateMachine, child: IStateMachine): void {
  const stack = Stack.of(parent);
  // CDK takes the child's name from its ARN (`Fn::Select 6 of Fn::Split ':'`); cdk-nag prints it as JSON.
  const name = JSON.stringify({
    'Fn::Select': [6, { 'Fn::Split': [':', stack.resolve(child.stateMachineArn)] }],
  });
  const account = nagAccount(parent);
  Validations.of(parent.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${account}:execution:${name}*]`,
    reason:
      'startExecution.sync:2 describes and stops the child executions it started, whose names are chosen at run time',
  });
}

/**
 * ScaleCluster's SDK-integration calls on cell tables and cell alarms: CreateTable/DescribeTable/CreateBackup/
 * DeleteTable on `<cellTablePrefix>*` (cells are created at run time), the cell key by alias (`key/*` with a
 * kms:ResourceAliases condition), PutMetricAlarm/DeleteAlarms on `alarm:<capacityAlarmPrefix>*` and
 * `alarm:<canaryAlarmPrefix>*`, directly in the home region and through CDK's CallAwsServiceCrossRegion Lambda
 * elsewhere.
 */
export function acknowledgeCellTableCalls(stateMachine: StateMachine, config: PrestageConfig): void {
  const stack = Stack.of(stateMachine);
  const crossRegion = stack.node.children.find((c) => c.node.id.startsWith('CrossRegionAwsSdk'));
  const roles: IConstruct[] = [stateMachine.role, ...(crossRegion ? [crossRegion] : [])];
  const prefix = config.names.cellTablePrefix;
  for (const role of roles) {
    const ack = (id: string, reason: string) => Validations.of(role).acknowledge({ id, reason });
    for (const region of config.dataRegions) {
      const table = `arn:<AWS::Partition>:dynamodb:${region}:<AWS::AccountId>:table/${prefix}*`;
      ack(
        `AwsSolutions-IAM5[Resource::${table}]`,
        'ScaleCluster creates, describes and deletes cell tables, named <prefix><cellId>, chosen at run time',
      );
      ack(
        `AwsSolutions-IAM5[Resource::${table}/backup/*]`,
        "Scale-in takes an on-demand backup of the cell's table before deleting it; backup ARNs are generated",
      );
      ack(
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:<AWS::AccountId>:key/*]`,
        `New cell tables are encrypted with the region's cell key, named by alias (kms:ResourceAliases ${config.names.cellKeyAlias}), another stack's resource`,
      );
      for (const prefix of [config.names.capacityAlarmPrefix, config.names.canaryAlarmPrefix]) {
        ack(
          `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudwatch:${region}:<AWS::AccountId>:alarm:${prefix}*]`,
          'ScaleCluster creates and deletes the capacity and canary alarms of the cells it adds and removes, named <prefix><cellId>, chosen at run time',
        );
      }
    }
  }
  if (!crossRegion) return;
  const fn = crossRegion.node.defaultChild as CfnResource;
  Validations.of(stateMachine.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.resolve(stack.getLogicalId(fn))}.Arn>:*]`,
    reason: 'CDK LambdaInvoke of the CallAwsServiceCrossRegion function and its versions',
  });
  const ack = (id: string, reason: string) => Validations.of(crossRegion).acknowledge({ id, reason });
  ack(
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "CDK's CallAwsServiceCrossRegion function (DynamoDB calls on cell tables in other regions for ScaleCluster)",
  );
  ack(
    'Serverless-LambdaDefaultMemorySize',
    "CDK's CallAwsServiceCrossRegion function: one SDK call per invocation",
  );
  ack(
    'Serverless-LambdaDLQ',
    'Invoked synchronously by ScaleCluster, whose Retry/Catch handle every failure',
  );
  ack('Serverless-LambdaTracing', "CDK's CallAwsServiceCrossRegion function; the state machine is traced");
  ack('Serverless-LambdaAsyncFailureDestination', 'Invoked synchronously by ScaleCluster only');
}
