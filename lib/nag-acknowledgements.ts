import { type CfnResource, Stack, Token, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag acknowledgements shared by the stacks, each with its reason. Nothing here acknowledges a rule for a
 * whole stack: each names the construct and, for wildcard findings, the exact resource.
 */

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
export function acknowledgeChildExecutions(parent: StateMachine, child: StateMachine): void {
  const stack = Stack.of(parent);
  // CDK takes the child's name from its ARN (`Fn::Select 6 of Fn::Split ':'`); cdk-nag prints it as JSON.
  const name = JSON.stringify({
    'Fn::Select': [6, { 'Fn::Split': [':', stack.resolve(child.stateMachineArn)] }],
  });
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  Validations.of(parent.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${account}:execution:${name}*]`,
    reason:
      'startExecution.sync:2 describes and stops the child executions it started, whose names are chosen at run time',
  });
}
