import { randomUUID } from 'node:crypto';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { StateMachine as CdkStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { StateMachine } from 'aws-local-stepfunctions';
import { ScaleClusterWorkflow, type ScaleClusterWorkflowProps } from '../../lib/scale-cluster-workflow.ts';
import type { LambdaHandler } from '../lambda/instrumented-handler.ts';
import { createScaleClusterStepHandler } from '../scaling/scale-cluster-handlers.ts';
import type { ScaleClusterDeps } from '../scaling/scale-cluster-steps.ts';
import { SCALE_CLUSTER_TASK_NAMES, type ScaleClusterTaskName } from '../scaling/scale-cluster-tasks.ts';
import { LOCAL_EXECUTE_PLAN_ARN } from './execute-plan-runner.ts';
import {
  bindTaskStates,
  everyState,
  executionFailure,
  localRunOverrides,
  localStateMachine,
  type RunChildExecution,
  type TaskBindings,
  type TaskHandler,
} from './local-step-functions.ts';
import { isSdkService, type SdkIntegrationBindings } from './sdk-integration-bindings.ts';
import {
  type AslDefinition,
  localExecutionArn,
  localFunctionArn,
  localStateMachineArn,
  synthesizeStateMachines,
} from './state-machine-asl.ts';

/** Local names of the resources ScaleCluster calls (their ARNs in the synthesized definition). */
export const LOCAL_PLANNER_ARN = localFunctionArn('Planner');
export const LOCAL_SCALE_CLUSTER_ARN = localStateMachineArn('ScaleCluster');

const DIRECT_SDK = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z]+)$/;

export type ScaleClusterAslOptions = Pick<
  ScaleClusterWorkflowProps,
  | 'homeRegion'
  | 'dataRegions'
  | 'cellTablePrefix'
  | 'capacityAlarmPrefix'
  | 'canaryAlarmPrefix'
  | 'cellKeyAlias'
  | 'maxTableWaits'
  | 'maxBackupWaits'
>;

/** Synthesize ScaleCluster from its construct, as plain ASL with local ARNs (steps named after their task). */
export function synthesizeScaleClusterAsl(options: ScaleClusterAslOptions): AslDefinition {
  const [machine] = synthesizeStateMachines((stack) => {
    const steps = Object.fromEntries(
      SCALE_CLUSTER_TASK_NAMES.map((name) => [
        name,
        LambdaFunction.fromFunctionArn(stack, `${name}Function`, localFunctionArn(name)),
      ]),
    ) as unknown as ScaleClusterWorkflowProps['steps'];
    new ScaleClusterWorkflow(stack, 'ScaleCluster', {
      ...options,
      steps,
      planner: LambdaFunction.fromFunctionArn(stack, 'Planner', LOCAL_PLANNER_ARN),
      executePlan: CdkStateMachine.fromStateMachineArn(stack, 'ExecutePlan', LOCAL_EXECUTE_PLAN_ARN),
      stateMachineName: 'ScaleCluster',
    });
  });
  return machine.asl;
}

export interface ScaleClusterRunnerOptions extends ScaleClusterAslOptions {
  /** Dependencies of the real step handlers. */
  readonly deps: ScaleClusterDeps;
  /** The real planner handler (createPlannerHandler). */
  readonly planner: LambdaHandler;
  /** Runs ExecutePlan for `startExecution.sync:2` (e.g. with runExecutePlanLocally). */
  readonly runChild: RunChildExecution;
  readonly sdk: SdkIntegrationBindings;
  /** Wait states run this long. @default 0 */
  readonly waitOverrideMs?: number;
  /** Pause before a Retry. @default 5 */
  readonly retryIntervalMs?: number;
  /** A definition synthesized earlier (synthesis takes a second or two). */
  readonly asl?: AslDefinition;
}

export interface TaskCall {
  readonly state: string;
  readonly input: unknown;
  output?: unknown;
  error?: string;
}

export interface ScaleClusterExecution {
  readonly executionName: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: { name: string; cause: string };
  /** Task states in the order they were invoked, with what they got and returned. */
  readonly calls: TaskCall[];
}

/**
 * Runs the synthesized ScaleCluster definition with aws-local-stepfunctions: the Lambda steps bound to the real
 * step handlers, the planner to the real planner handler, the DynamoDB SDK integrations (direct and
 * cross-region) to their dynalite equivalents, the CloudWatch ones to an in-memory alarm registry, and
 * `startExecution.sync:2` to a local ExecutePlan run.
 */
export class ScaleClusterRunner {
  readonly asl: AslDefinition;
  private readonly machine: StateMachine;
  private readonly options: ScaleClusterRunnerOptions;
  private readonly steps: Record<ScaleClusterTaskName, LambdaHandler>;

  constructor(options: ScaleClusterRunnerOptions) {
    this.options = options;
    this.asl = options.asl ?? synthesizeScaleClusterAsl(options);
    this.machine = localStateMachine(this.asl);
    this.steps = Object.fromEntries(
      SCALE_CLUSTER_TASK_NAMES.map((name) => [name, createScaleClusterStepHandler(name, options.deps)]),
    ) as Record<ScaleClusterTaskName, LambdaHandler>;
  }

  /** Run one execution to its end; never rejects (a failure is in `status` and `error`). */
  async run(input: unknown, executionName = `scale-${randomUUID()}`): Promise<ScaleClusterExecution> {
    const execution: ScaleClusterExecution = { executionName, status: 'RUNNING', calls: [] };
    const bound = bindTaskStates(this.asl, this.bindings());
    const handlers = Object.fromEntries(
      Object.entries(bound).map(([name, handler]) => [name, recordedCall(execution, name, handler)]),
    );
    const run = this.machine.run(input as never, {
      overrides: localRunOverrides(this.asl, handlers, {
        waitMs: this.options.waitOverrideMs ?? 0,
        retryIntervalMs: this.options.retryIntervalMs ?? 5,
      }),
      context: {
        Execution: {
          Id: localExecutionArn(LOCAL_SCALE_CLUSTER_ARN, executionName),
          Name: executionName,
          Input: input as never,
          StartTime: new Date().toISOString(),
        },
      },
    });
    try {
      execution.output = await run.result;
      execution.status = 'SUCCEEDED';
    } catch (error) {
      execution.status = 'FAILED';
      execution.error = executionFailure(error);
    }
    return execution;
  }

  /**
   * Lambda steps and the planner by function name; the cross-region SDK Lambda (whatever its name) by the
   * `service`/`action` in its parameters; direct SDK integrations by state name; ExecutePlan by its ARN.
   */
  private bindings(): TaskBindings {
    const functions: Record<string, LambdaHandler> = {
      ...Object.fromEntries(
        SCALE_CLUSTER_TASK_NAMES.map((name) => [name, (event: unknown) => this.steps[name](event, {})]),
      ),
      Planner: (event) => this.options.planner(event, {}),
    };
    const states: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [name, state] of everyState(this.asl)) {
      if (state.Type !== 'Task') continue;
      const resource = String(state.Resource);
      const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
      const direct = DIRECT_SDK.exec(resource);
      if (direct) {
        const [, service, action] = direct;
        if (!isSdkService(service)) throw new Error(`no local binding for the ${service} SDK integration`);
        states[name] = (input) =>
          this.options.sdk.call({
            region: this.options.homeRegion,
            service,
            action,
            parameters: input as Record<string, unknown>,
            style: 'direct',
          });
      } else if (resource.includes(':function:') && isSdkService(parameters.service)) {
        // CDK's one CallAwsServiceCrossRegion Lambda serves every service: the event names it.
        const functionName = resource.split(':function:')[1];
        functions[functionName] = async (event) => {
          const call = event as {
            region: string;
            service: string;
            action: string;
            parameters?: Record<string, unknown>;
          };
          if (!isSdkService(call.service)) throw new Error(`no local binding for the ${call.service} SDK`);
          return this.options.sdk.call({
            region: call.region,
            service: call.service,
            action: call.action,
            parameters: call.parameters ?? {},
            style: 'cross-region',
          });
        };
      }
    }
    return { functions, states, stateMachines: { [LOCAL_EXECUTE_PLAN_ARN]: this.options.runChild } };
  }
}

/** A Task handler that records each call of the state (what it got, and what it returned or threw). */
function recordedCall(execution: ScaleClusterExecution, state: string, handler: TaskHandler): TaskHandler {
  return async (taskInput) => {
    const call: TaskCall = { state, input: taskInput };
    execution.calls.push(call);
    try {
      call.output = await handler(taskInput);
      return call.output;
    } catch (error) {
      call.error = (error as Error).name;
      throw error;
    }
  };
}
