import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ControlPlaneTables } from './control-plane-tables.ts';

/** The control plane in the home region. The profiler, planner and workflows join it in later increments. */
export class ControlPlaneStack extends Stack {
  readonly tables: ControlPlaneTables;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.tables = new ControlPlaneTables(this, 'Tables');
  }
}
