/**
 * Permissions: none of its own (shared set-up of the ScaleCluster step entries; each entry lists its own).
 */

import { awsScaleClusterDeps } from '../../src/lambda/aws-scale-cluster-deps.ts';
import { readControlPlaneConfig } from '../../src/lambda/control-plane-env.ts';
import { readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import { createScaleClusterStepHandler } from '../../src/scaling/scale-cluster-handlers.ts';
import type { ScaleClusterTaskName } from '../../src/scaling/scale-cluster-tasks.ts';

// Configuration and clients once per execution environment, shared by whichever step this bundle serves.
const deps = awsScaleClusterDeps(readControlPlaneConfig(), readDataPlaneConfig());

/** The Lambda handler of one ScaleCluster Task state. */
export function scaleClusterStep(task: ScaleClusterTaskName) {
  return createScaleClusterStepHandler(task, deps);
}
