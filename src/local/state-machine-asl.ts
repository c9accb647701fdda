import { rmSync } from 'node:fs';
import { App, CfnResource, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** Account and region of the local test stack: every ARN in a locally synthesized definition uses them. */
export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

/** Plain ASL, as Step Functions would receive it. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** The ARN of a Lambda named `name` in the local stack (Task states bind to local handlers by state name). */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${name}`;
}

export function localStateMachineArn(name: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
}

export function localTopicArn(name: string): string {
  return `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${name}`;
}

/** An execution ARN of a local state machine, as DescribeExecution would report it. */
export function localExecutionArn(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

export interface SynthesizedStateMachine {
  /** Path of the state machine construct inside the stack, e.g. `ExecutePlan/StateMachine`. */
  readonly path: string;
  /** Its local name: the explicit stateMachineName, else the path without a trailing `StateMachine`, `-` joined. */
  readonly name: string;
  readonly arn: string;
  readonly asl: AslDefinition;
}

type CfnValue =
  | string
  | number
  | boolean
  | CfnValue[]
  | { 'Fn::Join'?: [string, CfnValue[]]; Ref?: string; 'Fn::GetAtt'?: [string, string] };

interface ResourceInfo {
  readonly type: string;
  readonly name: string;
}

/** A stable local name for a resource: its explicit physical name when given, else its construct path. */
function localName(resource: CfnResource, stack: Stack, nameProperty?: string): string {
  const explicit = nameProperty ? (resource as unknown as Record<string, unknown>)[nameProperty] : undefined;
  if (typeof explicit === 'string' && !Token.isUnresolved(explicit)) return explicit;
  const segments = resource.node.path.split('/').slice(stack.node.path.split('/').length);
  while (segments.length > 1 && ['Resource', 'StateMachine'].includes(segments[segments.length - 1]))
    segments.pop();
  return segments.join('-');
}

const NAME_PROPERTIES: Record<string, string> = {
  'AWS::Lambda::Function': 'functionName',
  'AWS::StepFunctions::StateMachine': 'stateMachineName',
  'AWS::SNS::Topic': 'topicName',
  'AWS::DynamoDB::Table': 'tableName',
  'AWS::DynamoDB::GlobalTable': 'tableName',
  'AWS::SQS::Queue': 'queueName',
};

function arnOf(info: ResourceInfo): string {
  switch (info.type) {
    case 'AWS::Lambda::Function':
      return localFunctionArn(info.name);
    case 'AWS::StepFunctions::StateMachine':
      return localStateMachineArn(info.name);
    case 'AWS::SNS::Topic':
      return localTopicArn(info.name);
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return `arn:aws:dynamodb:${LOCAL_REGION}:${LOCAL_ACCOUNT}:table/${info.name}`;
    case 'AWS::SQS::Queue':
      return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${info.name}`;
    default:
      throw new Error(`no local ARN for a ${info.type} in a state machine definition`);
  }
}

/** What `Ref` returns for each type (CloudFormation's rules). */
function refOf(info: ResourceInfo): string {
  switch (info.type) {
    case 'AWS::Lambda::Function':
    case 'AWS::DynamoDB::Table':
    case 'AWS::DynamoDB::GlobalTable':
      return info.name;
    case 'AWS::SQS::Queue':
      return `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${info.name}`;
    default:
      return arnOf(info);
  }
}

function resolver(resources: Map<string, ResourceInfo>) {
  const resolve = (value: CfnValue): string => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (Array.isArray(value)) throw new Error(`cannot resolve a list ${JSON.stringify(value)} to a string`);
    if (value['Fn::Join']) {
      const [separator, parts] = value['Fn::Join'];
      return parts.map(resolve).join(separator);
    }
    if (value.Ref !== undefined) {
      if (value.Ref === 'AWS::Partition') return 'aws';
      if (value.Ref === 'AWS::Region') return LOCAL_REGION;
      if (value.Ref === 'AWS::AccountId') return LOCAL_ACCOUNT;
      if (value.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
      const info = resources.get(value.Ref);
      if (info) return refOf(info);
    }
    if (value['Fn::GetAtt']) {
      const [logicalId, attribute] = value['Fn::GetAtt'];
      const info = resources.get(logicalId);
      if (info && attribute === 'Arn') return arnOf(info);
      if (info && (attribute === 'Name' || attribute === 'TopicName')) return info.name;
    }
    throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
  };
  return resolve;
}

/**
 * Synthesize whatever `build` adds to a test stack and return every state machine as plain ASL, with the ARNs of
 * functions, state machines and topics of the stack resolved to stable local ARNs (localFunctionArn(name), ...),
 * so a local runner can bind Task states by state name and child executions by ARN.
 */
export function synthesizeStateMachines(
  build: (stack: Stack) => void,
  options: { stackName?: string } = {},
): SynthesizedStateMachine[] {
  const app = new App();
  const stack = new Stack(app, options.stackName ?? 'PrestageLocal', {
    env: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
  });
  build(stack);
  const resources = new Map<string, ResourceInfo>();
  const machines: { resource: CfnResource; info: ResourceInfo; logicalId: string }[] = [];
  for (const child of stack.node.findAll()) {
    if (!CfnResource.isCfnResource(child) || (child as Construct).node.scope === undefined) continue;
    const resource = child as CfnResource;
    const type = resource.cfnResourceType;
    const info = { type, name: localName(resource, stack, NAME_PROPERTIES[type]) };
    const logicalId = stack.resolve(resource.logicalId) as string;
    resources.set(logicalId, info);
    if (type === 'AWS::StepFunctions::StateMachine') machines.push({ resource, info, logicalId });
  }
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Properties?: { DefinitionString?: CfnValue } }>;
  };
  // `new App()` synthesizes into a new directory under os.tmpdir() that aws-cdk-lib removes only from a process
  // 'exit' handler, which vitest's workers never run; the template, read above, is all it was needed for.
  rmSync(app.outdir, { recursive: true, force: true });
  const resolve = resolver(resources);
  return machines.map(({ resource, info, logicalId }) => {
    const definition = template.Resources[logicalId]?.Properties?.DefinitionString;
    if (definition === undefined)
      throw new Error(
        `state machine ${resource.node.path} has no DefinitionString (use DefinitionBody.fromChainable)`,
      );
    return {
      path: resource.node.path.split('/').slice(1, -1).join('/'),
      name: info.name,
      arn: arnOf(info),
      asl: JSON.parse(resolve(definition)) as AslDefinition,
    };
  });
}

/** Synthesize a stack that holds exactly one state machine and return its ASL. */
export function synthesizeStateMachine(build: (stack: Stack) => void): AslDefinition {
  const machines = synthesizeStateMachines(build);
  if (machines.length !== 1)
    throw new Error(`expected one state machine in the stack, found ${machines.length}`);
  return machines[0].asl;
}
