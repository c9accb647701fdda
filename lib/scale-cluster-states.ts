import { Aws, Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import {
  type Chain,
  Fail,
  IntegrationPattern,
  type IStateMachine,
  JsonPath,
  type Map as MapState,
  Pass,
  Result,
  type RetryProps,
  TaskInput,
  type TaskStateBase,
  type Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import {
  CallAwsService,
  CallAwsServiceCrossRegion,
  LambdaInvoke,
  StepFunctionsStartExecution,
} from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { ScaleClusterTaskName, ScalingStage } from '../src/scaling/scale-cluster-tasks.ts';

/**
 * The three kinds of states ScaleClusterWorkflow is built from, each a small factory that adds states to the
 * workflow's own scope (so state names, and the synthesized definition, do not depend on how the code is split):
 * the failure path every stage ends in, the Lambda steps, and the SDK calls on cell tables and alarms per region.
 */

/** Errors a step Lambda may throw that a retry fixes. */
const STEP_RETRY: RetryProps = {
  errors: [
    'StorageThrottledError',
    'ThrottlingException',
    'ProvisionedThroughputExceededException',
    'RequestLimitExceeded',
    'Lambda.TooManyRequestsException',
  ],
  interval: Duration.seconds(1),
  backoffRate: 2,
  maxAttempts: 6,
  maxDelay: Duration.seconds(30),
};
const TIMEOUT_RETRY: RetryProps = {
  errors: ['States.Timeout'],
  interval: Duration.seconds(2),
  maxAttempts: 2,
};

export type SdkService = 'dynamodb' | 'cloudwatch';

/** How Step Functions prefixes a service's errors in the direct SDK integration. */
const SDK_ERROR_PREFIX: Record<SdkService, string> = { dynamodb: 'DynamoDb', cloudwatch: 'CloudWatch' };

/** An SDK error by both of its names: `DynamoDb.X` (direct integration) and `X` (the cross-region Lambda). */
export const sdkErrors = (service: SdkService, ...names: string[]) =>
  names.flatMap((n) => [`${SDK_ERROR_PREFIX[service]}.${n}`, n]);
export const dynamoErrors = (...names: string[]) => sdkErrors('dynamodb', ...names);

const SDK_RETRY: Record<SdkService, RetryProps> = {
  dynamodb: {
    errors: dynamoErrors(
      'LimitExceededException',
      'ThrottlingException',
      'InternalServerError',
      'RequestLimitExceeded',
    ),
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.minutes(1),
  },
  cloudwatch: {
    errors: sdkErrors(
      'cloudwatch',
      'Throttling',
      'ThrottlingException',
      'InternalServiceFault',
      'InternalServiceException',
    ),
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 6,
    maxDelay: Duration.seconds(30),
  },
};

/**
 * Where every failure after the lock goes: a Pass per stage that records `$.failedStage`, then AbortScaling
 * (cell statuses made consistent, lock released), then the `ScalingFailed` Fail state, which keeps the original
 * error's name and cause.
 */
export class ScalingFailurePath {
  private readonly scope: Construct;
  private readonly abort: TaskStateBase;
  private readonly stagePasses = new Map<ScalingStage, Pass>();

  constructor(scope: Construct, abortScaling: IFunction, stepTimeout: Timeout) {
    this.scope = scope;
    const failed = new Fail(scope, 'ScalingFailed', {
      errorPath: '$.error.Error',
      causePath: '$.error.Cause',
    });
    this.abort = new LambdaInvoke(scope, 'AbortScaling', {
      lambdaFunction: abortScaling,
      payloadResponseOnly: true,
      resultPath: '$.abort',
      taskTimeout: stepTimeout,
    })
      .addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 5 })
      .addCatch(failed, { errors: ['States.ALL'], resultPath: '$.abortError' });
    this.abort.next(failed);
  }

  /** The Pass that names `stage` and goes on to AbortScaling (one per stage, shared by its states). */
  failedAt(stage: ScalingStage): Pass {
    let pass = this.stagePasses.get(stage);
    if (!pass) {
      pass = new Pass(this.scope, `Failed:${stage}`, {
        result: Result.fromString(stage),
        resultPath: '$.failedStage',
      });
      pass.next(this.abort);
      this.stagePasses.set(stage, pass);
    }
    return pass;
  }

  /** `state`, with any error caught into `$.error` and sent down the failure path of `stage`. */
  guard<T extends TaskStateBase | MapState>(state: T, stage: ScalingStage): T {
    state.addCatch(this.failedAt(stage), { errors: ['States.ALL'], resultPath: '$.error' });
    return state;
  }

  /** A Choice branch that fails with a named error, routed like a caught one. */
  raise(stateId: string, stage: ScalingStage, error: string, cause: string): Chain {
    return new Pass(this.scope, stateId, {
      result: Result.fromObject({ Error: error, Cause: cause }),
      resultPath: '$.error',
    }).next(this.failedAt(stage));
  }
}

export interface ScalingLambdaTasksProps {
  readonly steps: Readonly<Record<ScaleClusterTaskName, IFunction>>;
  readonly planner: IFunction;
  readonly executePlan: IStateMachine;
  readonly stepTimeout: Timeout;
  readonly plannerTimeout: Timeout;
}

/** The Task states that call ScaleCluster's step Lambdas, the planner and ExecutePlan. */
export class ScalingLambdaTasks {
  private readonly scope: Construct;
  private readonly props: ScalingLambdaTasksProps;

  constructor(scope: Construct, props: ScalingLambdaTasksProps) {
    this.scope = scope;
    this.props = props;
  }

  /** A step Lambda (its result at `resultPath`), retried on throttling and on a timed-out invocation. */
  step(stateId: string, name: ScaleClusterTaskName, resultPath: string, payload?: TaskInput): TaskStateBase {
    return new LambdaInvoke(this.scope, stateId, {
      lambdaFunction: this.props.steps[name],
      payloadResponseOnly: true,
      resultPath,
      taskTimeout: this.props.stepTimeout,
      ...(payload ? { payload } : {}),
    })
      .addRetry(STEP_RETRY)
      .addRetry(TIMEOUT_RETRY);
  }

  /** SetCellStatus on the request's cells. */
  setStatus(stateId: string, status: string): TaskStateBase {
    return this.step(
      stateId,
      'SetCellStatus',
      JsonPath.DISCARD,
      TaskInput.fromObject({ cellIds: JsonPath.listAt('$.request.cellIds'), status }),
    );
  }

  /** The planner, asked for a scaling plan (`{planId, moveCount}` at `$.plan`); `round` counts drain rounds. */
  plan(stateId: string, action: 'scale-out' | 'scale-in', round: unknown): TaskStateBase {
    return new LambdaInvoke(this.scope, stateId, {
      lambdaFunction: this.props.planner,
      payloadResponseOnly: true,
      resultPath: '$.plan',
      taskTimeout: this.props.plannerTimeout,
      payload: TaskInput.fromObject({
        trigger: 'scaling',
        action,
        region: JsonPath.stringAt('$.request.region'),
        cellIds: JsonPath.listAt('$.request.cellIds'),
        requestId: JsonPath.stringAt('$.execution.name'),
        round,
      }),
    })
      .addRetry(STEP_RETRY)
      .addRetry(TIMEOUT_RETRY);
  }

  /** ExecutePlan on `$.plan.planId`, without approval, waited for (`startExecution.sync:2`). */
  runPlan(stateId: string): TaskStateBase {
    return new StepFunctionsStartExecution(this.scope, stateId, {
      stateMachine: this.props.executePlan,
      integrationPattern: IntegrationPattern.RUN_JOB,
      name: JsonPath.stringAt('$.plan.planId'),
      input: TaskInput.fromObject({ planId: JsonPath.stringAt('$.plan.planId'), approval: false }),
      resultSelector: { status: JsonPath.stringAt('$.Status'), output: JsonPath.objectAt('$.Output') },
      resultPath: '$.run',
    }).addRetry({
      errors: ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SdkClientException'],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 5,
    });
  }
}

export interface CellSdkCallsProps {
  /** Its cell tables and alarms take the direct SDK integration; every other region the cross-region Lambda. */
  readonly homeRegion: string;
  readonly cellTablePrefix: string;
  /** The alias CreateTable names; the KMS grant is conditioned on it. */
  readonly cellKeyAlias: string;
}

export interface CellSdkCallOptions {
  /** IAM resources of the call. */
  readonly resources: string[];
  /** @default 'dynamodb' */
  readonly service?: SdkService;
  /** The IAM action, when it is not `<service>:<action>` as written. @default `<service>:<action>` */
  readonly iamAction?: string;
  /** Also grant the use of the region's cell key (CreateTable with SSE-KMS). @default false */
  readonly kms?: boolean;
  /** @default the whole response */
  readonly resultSelector?: Record<string, unknown>;
  /** @default JsonPath.DISCARD */
  readonly resultPath?: string;
}

/**
 * SDK calls on the cells' tables and alarms in one region: the direct integration in the home region,
 * CallAwsServiceCrossRegion elsewhere. IAM is scoped to the cell table prefix and the alarm prefixes, per region.
 */
export class CellSdkCalls {
  private readonly scope: Construct;
  private readonly props: CellSdkCallsProps;

  constructor(scope: Construct, props: CellSdkCallsProps) {
    this.scope = scope;
    this.props = props;
  }

  /** Every cell table of `region` (`<cellTablePrefix>*`). */
  tableArn(region: string): string {
    return `arn:${Aws.PARTITION}:dynamodb:${region}:${Aws.ACCOUNT_ID}:table/${this.props.cellTablePrefix}*`;
  }

  /** Every backup of a cell table of `region`. */
  backupArn(region: string): string {
    return `${this.tableArn(region)}/backup/*`;
  }

  /** Every alarm of `region` whose name starts with `prefix`. */
  alarmArn(region: string, prefix: string): string {
    return `arn:${Aws.PARTITION}:cloudwatch:${region}:${Aws.ACCOUNT_ID}:alarm:${prefix}*`;
  }

  /** `service`'s `action` in `region`, retried on that service's throttling and transient errors. */
  call(
    stateId: string,
    region: string,
    action: string,
    parameters: Record<string, unknown>,
    options: CellSdkCallOptions,
  ): TaskStateBase {
    const service = options.service ?? 'dynamodb';
    const common = {
      service,
      action,
      parameters,
      iamResources: options.resources,
      ...(options.iamAction ? { iamAction: options.iamAction } : {}),
      additionalIamStatements: options.kms ? [this.cellKeyStatement(region)] : [],
      resultPath: options.resultPath ?? JsonPath.DISCARD,
      ...(options.resultSelector ? { resultSelector: options.resultSelector } : {}),
    };
    const task =
      region === this.props.homeRegion
        ? new CallAwsService(this.scope, stateId, common)
        : new CallAwsServiceCrossRegion(this.scope, stateId, { ...common, region });
    return task.addRetry(SDK_RETRY[service]);
  }

  /** What CreateTable with a customer-managed key asks of the caller (no wildcard action). */
  private cellKeyStatement(region: string): PolicyStatement {
    return new PolicyStatement({
      actions: ['kms:DescribeKey', 'kms:CreateGrant', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [`arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:key/*`],
      conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': this.props.cellKeyAlias } },
    });
  }
}
