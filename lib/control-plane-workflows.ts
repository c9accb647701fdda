import { ArnFormat, Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { MIGRATION_TASK_NAMES, type MigrationTaskName } from '../src/domain/migration/migration-tasks.ts';
import { EXECUTE_PLAN_TASK_NAMES, type ExecutePlanTaskName } from '../src/execute-plan/execute-plan-tasks.ts';
import { CONTROL_PLANE_ENV } from '../src/lambda/control-plane-env.ts';
import { SCALE_CLUSTER_TASK_NAMES, type ScaleClusterTaskName } from '../src/scaling/scale-cluster-tasks.ts';
import { EXECUTE_PLAN_STEP_ENTRIES, ExecutePlanWorkflow } from './execute-plan-workflow.ts';
import { MIGRATION_STEP_ENTRIES, MigratePartitionWorkflow } from './migrate-partition-workflow.ts';
import {
  acknowledgeCellTableCalls,
  acknowledgeChildExecutions,
  acknowledgeStateMachineRole,
  nagAccount,
} from './nag-acknowledgements.ts';
import type { PrestageConfig } from './prestage-config.ts';
import type { PrestageFunction, PrestageFunctionProps } from './prestage-function.ts';
import {
  type DynamoAction,
  grantCellTables,
  grantDescribeCanaryAlarms,
  type TableGrants,
} from './prestage-grants.ts';
import { SCALE_CLUSTER_STEP_ENTRIES, ScaleClusterWorkflow } from './scale-cluster-workflow.ts';

/**
 * The three workflows as the control plane deploys them: each construct owns its step Lambdas (one per task,
 * granted exactly what the handler's `Permissions:` comment lists) and its state machine over them.
 *
 * Each extends its workflow construct, as NodejsFunction extends Function: the state machine keeps the construct
 * path it has always had (`<Workflow>/StateMachine`), and the step Lambdas are created in the stack, before the
 * workflow, as `<prefix><Task>`. So the logical IDs, and the order of the synthesized template, are those of
 * the deployed stacks.
 */

/** What the step Lambdas of a workflow take from the stack they live in (ControlPlaneStack). */
export interface WorkflowHost {
  readonly config: PrestageConfig;
  /** A Lambda in the stack, with its log retention, registered for the dashboard and the checks. */
  addFunction(id: string, props: Omit<PrestageFunctionProps, 'logRetention'>): PrestageFunction;
  /** Exactly these DynamoDB actions on these control-plane tables (and the tables' key). */
  grantTables(fn: PrestageFunction, grants: TableGrants): void;
  /** Exactly these DynamoDB actions on the partitions table's replica in every replica region. */
  grantPartitionReplicas(fn: PrestageFunction, actions: readonly DynamoAction[]): void;
  /** sns:Publish on the topic, and the use of its key. */
  grantPublish(fn: PrestageFunction, topic: ITopic): void;
  /** Environment of the data-plane Lambdas. */
  dataPlaneEnvironment(): Record<string, string>;
  /** Environment of the control-plane Lambdas (the data plane's included). */
  controlPlaneEnvironment(): Record<string, string>;
}

interface WorkflowStepsSpec<Name extends string> {
  /** The workflow's task names: one Lambda each, created in this order. */
  readonly names: readonly Name[];
  /** Construct id of a step's Lambda in the stack: `<idPrefix><Task>`. */
  readonly idPrefix: string;
  /** The workflow, as each Lambda's description names it. */
  readonly workflow: string;
  /** Powertools service name of every step. */
  readonly serviceName: string;
  readonly entries: Readonly<Record<Name, string>>;
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
  /** @default 512, PrestageFunction's */
  readonly memorySize?: number;
  /** Grants one step exactly what its handler's `Permissions:` comment lists. */
  readonly grant: (fn: PrestageFunction, name: Name) => void;
}

/** One Lambda per task of a workflow, each granted what its handler lists. */
function createStepFunctions<Name extends string>(
  host: WorkflowHost,
  spec: WorkflowStepsSpec<Name>,
): Readonly<Record<Name, PrestageFunction>> {
  const steps = {} as Record<Name, PrestageFunction>;
  for (const name of spec.names) {
    const step = host.addFunction(`${spec.idPrefix}${name}`, {
      entry: spec.entries[name],
      description: `prestage ${spec.workflow} step ${name}`,
      serviceName: spec.serviceName,
      environment: spec.environment,
      timeout: spec.timeout,
      memorySize: spec.memorySize,
    });
    spec.grant(step, name);
    steps[name] = step;
  }
  return steps;
}

/** The Lambda functions of a workflow's steps, by task name (what the workflow constructs take). */
function functionsOf<Name extends string>(
  steps: Readonly<Record<Name, PrestageFunction>>,
): Record<Name, IFunction> {
  const functions = {} as Record<Name, IFunction>;
  for (const name of Object.keys(steps) as Name[]) functions[name] = steps[name].fn;
  return functions;
}

interface MigrationStepGrants extends TableGrants {
  /** The cell data store's calls on the cell tables (and their `changes` index). */
  readonly cellTables?: boolean;
  /** cloudwatch:DescribeAlarms on the canary alarms. */
  readonly canaryAlarms?: boolean;
  /**
   * Consistent GetItem on the partitions replica of every replica region: the steps that confirm a routing
   * change is visible everywhere before a lease wait counts from it (`visibleEverywhereAt`).
   */
  readonly partitionReplicas?: boolean;
}

const FENCE: readonly DynamoAction[] = ['GetItem', 'PutItem'];

/**
 * What each MigratePartition step handler's `Permissions:` comment lists (functions/migrate-partition/*.ts). Every
 * step refreshes the cell directory (cells Scan) first. Verify (mirroring), CutoverFence (the fence) and Rollback
 * (the unshift and the reverse fence) confirm their routing change in every replica region.
 */
const MIGRATION_GRANTS: Record<MigrationTaskName, MigrationStepGrants> = {
  Acquire: { partitions: FENCE, cells: ['Scan', 'GetItem'] },
  CreateReplica: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  Copy: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  CatchUp: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  Verify: { partitions: FENCE, cells: ['Scan'], cellTables: true, partitionReplicas: true },
  ShiftReads: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  CanaryHealth: { cells: ['Scan'], canaryAlarms: true },
  CutoverFence: { partitions: FENCE, cells: ['Scan'], partitionReplicas: true },
  CutoverSwitch: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  RemoveSource: { partitions: FENCE, cells: ['Scan'], cellTables: true },
  Commit: { partitions: FENCE, cells: ['Scan'] },
  Rollback: { partitions: FENCE, cells: ['Scan'], cellTables: true, partitionReplicas: true },
};

/** What the cell data store calls on the cell tables: copy, catch-up on the `changes` index, verify, repair, remove. */
const CELL_DATA_STORE_ACTIONS: readonly DynamoAction[] = [
  'GetItem',
  'BatchGetItem',
  'PutItem',
  'DeleteItem',
  'BatchWriteItem',
  'Query',
];

export interface MigratePartitionServiceProps {
  readonly host: WorkflowHost;
}

/** MigratePartition, with its step Lambdas (`Migrate<Task>` in the stack). */
export class MigratePartitionService extends MigratePartitionWorkflow {
  readonly steps: Readonly<Record<MigrationTaskName, PrestageFunction>>;

  constructor(scope: Construct, id: string, props: MigratePartitionServiceProps) {
    const { host } = props;
    // Before the workflow: the steps keep their place in the stack (see the module comment).
    const steps = createStepFunctions(host, {
      names: MIGRATION_TASK_NAMES,
      idPrefix: 'Migrate',
      workflow: 'MigratePartition',
      serviceName: 'prestage-migrate-partition',
      entries: MIGRATION_STEP_ENTRIES,
      environment: host.dataPlaneEnvironment(),
      timeout: Duration.seconds(90),
      memorySize: 1024,
      grant: (fn, name) => MigratePartitionService.grantStep(host, fn, MIGRATION_GRANTS[name]),
    });
    super(scope, id, {
      steps: functionsOf(steps),
      taskTimeout: Duration.seconds(120),
      stateMachineName: `${Stack.of(scope).stackName}-MigratePartition`,
    });
    this.steps = steps;
    acknowledgeStateMachineRole(
      this.stateMachine,
      MIGRATION_TASK_NAMES.map((name) => steps[name].fn),
    );
  }

  /**
   * Exactly the control-plane tables and actions of the handler's `Permissions:` comment; the cell data store's
   * calls on the cell tables for the steps that move data; CanaryHealth reads the canary alarms; the confirming
   * steps read the partitions replicas.
   */
  private static grantStep(host: WorkflowHost, fn: PrestageFunction, grants: MigrationStepGrants): void {
    const { cellTables, canaryAlarms, partitionReplicas, ...tables } = grants;
    host.grantTables(fn, tables);
    if (partitionReplicas) host.grantPartitionReplicas(fn, ['GetItem']);
    if (cellTables) grantCellTables(fn.role, fn.role, host.config, CELL_DATA_STORE_ACTIONS);
    if (canaryAlarms) grantDescribeCanaryAlarms(fn.role, fn.role, host.config);
  }
}

interface ExecutePlanStepGrants extends TableGrants {
  /** sns:Publish on the approval topic. */
  readonly publishApproval?: boolean;
  /** Read and delete a cold copy's items in the cell tables (by shard, on the table itself: no index). */
  readonly dropCellItems?: boolean;
}

/** What each ExecutePlan step handler's `Permissions:` comment lists (functions/execute-plan/*.ts). */
const EXECUTE_PLAN_GRANTS: Record<ExecutePlanTaskName, ExecutePlanStepGrants> = {
  ValidateInput: { plans: ['GetItem'] },
  RequestApproval: { plans: ['GetItem', 'UpdateItem'], publishApproval: true },
  CloseUnapproved: { plans: ['GetItem', 'UpdateItem'] },
  StartRun: { plans: ['GetItem', 'UpdateItem'] },
  PageMoves: { plans: ['Query'] },
  ReserveSlot: { plans: ['GetItem', 'UpdateItem'], coordination: ['GetItem', 'PutItem'] },
  RecordOutcome: { plans: ['GetItem', 'UpdateItem'], coordination: ['GetItem', 'UpdateItem'] },
  DropColdCopies: {
    plans: ['GetItem'],
    partitions: FENCE,
    cells: ['Scan'],
    dropCellItems: true,
  },
  FinishPlan: { plans: ['Query', 'GetItem', 'UpdateItem'] },
  AbortPlan: { plans: ['GetItem', 'UpdateItem'] },
};

export interface ExecutePlanServiceProps {
  readonly host: WorkflowHost;
  /** Where RequestApproval publishes plans that wait for approval. */
  readonly approvalTopic: ITopic;
  /** The child workflow each move runs. */
  readonly migratePartition: IStateMachine;
}

/** ExecutePlan, with its step Lambdas (`ExecutePlan<Task>` in the stack). */
export class ExecutePlanService extends ExecutePlanWorkflow {
  readonly steps: Readonly<Record<ExecutePlanTaskName, PrestageFunction>>;

  constructor(scope: Construct, id: string, props: ExecutePlanServiceProps) {
    const { host, approvalTopic } = props;
    // Before the workflow: the steps keep their place in the stack (see the module comment).
    const steps = createStepFunctions(host, {
      names: EXECUTE_PLAN_TASK_NAMES,
      idPrefix: 'ExecutePlan',
      workflow: 'ExecutePlan',
      serviceName: 'prestage-execute-plan',
      entries: EXECUTE_PLAN_STEP_ENTRIES,
      environment: {
        ...host.controlPlaneEnvironment(),
        [CONTROL_PLANE_ENV.approvalTopicArn]: approvalTopic.topicArn,
      },
      timeout: Duration.seconds(30),
      grant: (fn, name) => {
        const { publishApproval, dropCellItems, ...tables } = EXECUTE_PLAN_GRANTS[name];
        host.grantTables(fn, tables);
        if (publishApproval) host.grantPublish(fn, approvalTopic);
        if (dropCellItems)
          grantCellTables(fn.role, fn.role, host.config, ['Query', 'BatchWriteItem'], { indexes: false });
      },
    });
    const stack = Stack.of(scope);
    const stateMachineName = `${stack.stackName}-ExecutePlan`;
    super(scope, id, {
      steps: functionsOf(steps),
      migratePartition: props.migratePartition,
      maxConcurrency: host.config.migration.maxConcurrency,
      stateMachineName,
    });
    this.steps = steps;
    acknowledgeStateMachineRole(
      this.stateMachine,
      EXECUTE_PLAN_TASK_NAMES.map((name) => steps[name].fn),
    );
    acknowledgeChildExecutions(this.stateMachine, props.migratePartition);
    // A long plan continues in executions of ExecutePlan itself (by name, so no reference cycle).
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${nagAccount(this)}:execution:${stateMachineName}*]`,
      reason:
        'ExecutePlan continues a long plan in child executions of itself (startExecution.sync:2), named at run time',
    });
  }
}

/** What each ScaleCluster step handler's `Permissions:` comment lists (functions/scale-cluster/*.ts). */
const SCALE_CLUSTER_GRANTS: Record<ScaleClusterTaskName, TableGrants> = {
  ParseRequest: { cells: ['Scan'] },
  AcquireLock: { coordination: ['GetItem', 'PutItem'] },
  RegisterCells: { cells: ['PutItem', 'GetItem'] },
  SetCellStatus: { cells: ['UpdateItem'] },
  VerifyDrained: { partitions: ['Scan', 'GetItem', 'PutItem'] },
  CompleteScaling: { coordination: ['PutItem', 'DeleteItem'] },
  AbortScaling: { cells: ['GetItem', 'UpdateItem'], coordination: ['DeleteItem'] },
};

export interface ScaleClusterServiceProps {
  readonly host: WorkflowHost;
  /** The planner, asked for each scaling plan. */
  readonly planner: IFunction;
  /** Runs each scaling plan. */
  readonly executePlan: IStateMachine;
}

/** ScaleCluster, with its step Lambdas (`ScaleCluster<Task>` in the stack). */
export class ScaleClusterService extends ScaleClusterWorkflow {
  readonly steps: Readonly<Record<ScaleClusterTaskName, PrestageFunction>>;

  constructor(scope: Construct, id: string, props: ScaleClusterServiceProps) {
    const { host } = props;
    const { config } = host;
    // Before the workflow: the steps keep their place in the stack (see the module comment).
    const steps = createStepFunctions(host, {
      names: SCALE_CLUSTER_TASK_NAMES,
      idPrefix: 'ScaleCluster',
      workflow: 'ScaleCluster',
      serviceName: 'prestage-scale-cluster',
      entries: SCALE_CLUSTER_STEP_ENTRIES,
      environment: host.controlPlaneEnvironment(),
      timeout: Duration.seconds(90),
      grant: (fn, name) => host.grantTables(fn, SCALE_CLUSTER_GRANTS[name]),
    });
    const stateMachineName = `${Stack.of(scope).stackName}-ScaleCluster`;
    ScaleClusterService.grantDescribeOwnExecutions(steps.AcquireLock, stateMachineName);
    super(scope, id, {
      steps: functionsOf(steps),
      planner: props.planner,
      executePlan: props.executePlan,
      homeRegion: config.homeRegion,
      dataRegions: config.dataRegions,
      cellTablePrefix: config.names.cellTablePrefix,
      capacityAlarmPrefix: config.names.capacityAlarmPrefix,
      canaryAlarmPrefix: config.names.canaryAlarmPrefix,
      cellKeyAlias: config.names.cellKeyAlias,
      stateMachineName,
    });
    this.steps = steps;
    acknowledgeStateMachineRole(this.stateMachine, [
      ...SCALE_CLUSTER_TASK_NAMES.map((name) => steps[name].fn),
      props.planner,
    ]);
    acknowledgeChildExecutions(this.stateMachine, props.executePlan);
    acknowledgeCellTableCalls(this.stateMachine, config);
  }

  /** AcquireLock frees the lock of an execution stopped by hand: it reads ScaleCluster's executions by name. */
  private static grantDescribeOwnExecutions(acquireLock: PrestageFunction, stateMachineName: string): void {
    const stack = Stack.of(acquireLock);
    acquireLock.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          stack.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${stateMachineName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    Validations.of(acquireLock.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${stack.region}:${nagAccount(acquireLock)}:execution:${stateMachineName}:*]`,
      reason:
        "ScaleCluster's own executions (their names are chosen at start); read only, to free a stopped run's lock",
    });
  }
}
