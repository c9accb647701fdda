import type { Construct } from 'constructs';
import type { CellSdkCalls, ScalingFailurePath, ScalingLambdaTasks } from './scale-cluster-states.ts';
import type { ScaleClusterWorkflowProps } from './scale-cluster-workflow-props.ts';

/**
 * What the scale-out and scale-in branches of ScaleClusterWorkflow are built from. Every state is added to the
 * workflow's own scope, so state names and the synthesized definition do not depend on the module that builds it.
 */
export interface ScaleClusterBranchContext {
  /** The ScaleClusterWorkflow construct: the scope of every state. */
  readonly scope: Construct;
  readonly props: ScaleClusterWorkflowProps;
  /** The home region first, then the other data regions: the branches of the region Choices, in this order. */
  readonly regions: readonly string[];
  readonly failurePath: ScalingFailurePath;
  readonly lambdaTasks: ScalingLambdaTasks;
  readonly cellSdkCalls: CellSdkCalls;
}
