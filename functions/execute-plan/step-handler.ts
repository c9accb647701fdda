/**
 * Permissions: none of its own (shared set-up of the ExecutePlan step entries; each entry lists its own).
 */

import { createExecutePlanHandler } from '../../src/execute-plan/execute-plan-handlers.ts';
import type { ExecutePlanTaskName } from '../../src/execute-plan/execute-plan-tasks.ts';
import { awsExecutePlanDeps } from '../../src/lambda/aws-execute-plan-deps.ts';
import { readControlPlaneConfig } from '../../src/lambda/control-plane-env.ts';

// Configuration and clients once per execution environment, shared by whichever step this bundle serves.
const deps = awsExecutePlanDeps(readControlPlaneConfig(), process.env.AWS_REGION ?? 'us-east-1');

/** The Lambda handler of one ExecutePlan Task state. */
export function executePlanStep(task: ExecutePlanTaskName) {
  return createExecutePlanHandler(task, deps);
}
