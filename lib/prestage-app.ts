import type { App, Environment } from 'aws-cdk-lib';
import { CellDataStack } from './cell-data-stack.ts';
import { ControlPlaneStack } from './control-plane-stack.ts';
import type { PrestageConfig } from './prestage-config.ts';

export interface PrestageStacks {
  readonly controlPlane: ControlPlaneStack;
  /** One per data region. */
  readonly dataStacks: ReadonlyMap<string, CellDataStack>;
}

/** Stack name of a data region's cell stack. */
export function dataStackName(region: string): string {
  return `PrestageCells-${region}`;
}

export const CONTROL_PLANE_STACK_NAME = 'PrestageControlPlane';

/**
 * The whole deployment: the control plane in the home region and one cell stack per data region. The stacks
 * share names, never references (each is pinned to its region); the control plane deploys after the cell
 * stacks, so the cells it registers exist.
 */
export function buildPrestageApp(app: App, config: PrestageConfig, account?: string): PrestageStacks {
  const env = (region: string): Environment => ({ account, region });
  const dataStacks = new Map<string, CellDataStack>();
  for (const region of config.dataRegions) {
    dataStacks.set(
      region,
      new CellDataStack(app, dataStackName(region), {
        env: env(region),
        config,
        region,
        description: `prestage cell tables and alarms in ${region}`,
      }),
    );
  }
  const controlPlane = new ControlPlaneStack(app, CONTROL_PLANE_STACK_NAME, {
    env: env(config.homeRegion),
    config,
    description: 'prestage control plane: profiler, planner, workflows, interceptor',
  });
  for (const stack of dataStacks.values()) controlPlane.addStackDependency(stack);
  return { controlPlane, dataStacks };
}
