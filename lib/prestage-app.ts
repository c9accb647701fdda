import type { App, Environment } from 'aws-cdk-lib';
import { CellDataStack } from './cell-data-stack.ts';
import { ControlPlaneStack } from './control-plane-stack.ts';
import type { PrestageConfig } from './prestage-config.ts';
import { edgeStackName, RegionalEdgeStack } from './regional-edge-stack.ts';

export { edgeStackName } from './regional-edge-stack.ts';

export interface PrestageStacks {
  readonly controlPlane: ControlPlaneStack;
  /** One per data region. */
  readonly dataStacks: ReadonlyMap<string, CellDataStack>;
  /** One per data region: its interceptor. */
  readonly edgeStacks: ReadonlyMap<string, RegionalEdgeStack>;
}

/** Stack name of a data region's cell stack. */
export function dataStackName(region: string): string {
  return `PrestageCells-${region}`;
}

export const CONTROL_PLANE_STACK_NAME = 'PrestageControlPlane';

/**
 * The whole deployment: one cell stack per data region, the control plane in the home region, and one edge stack
 * (the interceptor) per data region. The stacks share names, never references (each is pinned to its region).
 * Deploy order: the cell stacks first (their keys' aliases encrypt the routing replicas, and the control plane
 * registers their cells), then the control plane (the routing tables and their replicas), then each edge stack
 * (its interceptor reads the replica in its region and writes the access-stats table of its cell stack).
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
        description: `prestage cell tables, access-stats table and alarms in ${region}`,
      }),
    );
  }
  const controlPlane = new ControlPlaneStack(app, CONTROL_PLANE_STACK_NAME, {
    env: env(config.homeRegion),
    config,
    description: 'prestage control plane: routing tables, profiler, planner, workflows',
  });
  for (const stack of dataStacks.values()) controlPlane.addStackDependency(stack);
  const edgeStacks = new Map<string, RegionalEdgeStack>();
  for (const region of config.dataRegions) {
    const edge = new RegionalEdgeStack(app, edgeStackName(region), {
      env: env(region),
      config,
      region,
      description: `prestage request interceptor in ${region}`,
    });
    edge.addStackDependency(controlPlane);
    edge.addStackDependency(dataStacks.get(region)!);
    edgeStacks.set(region, edge);
  }
  return { controlPlane, dataStacks, edgeStacks };
}
