import { CfnOutput, Duration, Stack, type StackProps, Token } from 'aws-cdk-lib';
import { type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DATA_PLANE_ENV } from '../src/lambda/data-plane-config.ts';
import { DATA_PLANE_DEFAULTS, type PrestageConfig, replicaRegions } from './prestage-config.ts';
import { PrestageFunction } from './prestage-function.ts';
import { type DynamoAction, grantCellTables, grantNamedTable, type NamedTable } from './prestage-grants.ts';

/** Entry of the request interceptor Lambda, relative to the repository root. */
export const INTERCEPTOR_ENTRY = 'functions/interceptor/handler.ts';

/** Stack name of a data region's edge stack (its interceptor). */
export function edgeStackName(region: string): string {
  return `PrestageEdge-${region}`;
}

/** Physical name of a region's interceptor function (the home region's dashboard draws its metrics by name). */
export function interceptorFunctionName(region: string): string {
  return `${edgeStackName(region)}-interceptor`;
}

/**
 * Environment of the data-plane Lambdas (DATA_PLANE_ENV) in any region: the routing tables and the access-stats
 * table by their fixed names (the same in every region), the home and replica regions, and the routing-lease
 * settings from the one `routingLease` key. There is no variable for a request's region: a deployed data-plane
 * Lambda serves the region it runs in, `AWS_REGION`, which Lambda sets and no caller can change.
 */
export function dataPlaneEnvironment(config: PrestageConfig): Record<string, string> {
  return {
    [DATA_PLANE_ENV.partitionsTable]: config.names.partitionsTable,
    [DATA_PLANE_ENV.cellsTable]: config.names.cellsTable,
    [DATA_PLANE_ENV.accessStatsTable]: config.names.accessStatsTable,
    [DATA_PLANE_ENV.homeRegion]: config.homeRegion,
    [DATA_PLANE_ENV.replicaRegions]: replicaRegions(config).join(','),
    [DATA_PLANE_ENV.canaryAlarmPrefix]: config.names.canaryAlarmPrefix,
    [DATA_PLANE_ENV.leaseTtlMs]: String(config.routingLease.leaseTtlMs),
    [DATA_PLANE_ENV.maxRequestMs]: String(config.routingLease.maxRequestMs),
    [DATA_PLANE_ENV.maxClockSkewMs]: String(config.routingLease.maxClockSkewMs),
    [DATA_PLANE_ENV.indexLagMs]: String(config.routingLease.indexLagMs),
    // The interceptors and the migrations must agree on how keys spread over shards: set, not defaulted.
    [DATA_PLANE_ENV.shardsPerPartition]: String(DATA_PLANE_DEFAULTS.shardsPerPartition),
  };
}

export interface RegionalEdgeStackProps extends StackProps {
  readonly config: PrestageConfig;
  /** The data region this stack serves (also its `env.region`). */
  readonly region: string;
}

/**
 * The request path of one data region: the interceptor Lambda behind a Function URL with `AWS_IAM` auth. A
 * request's region is the region it arrived in; the interceptor reads routing from this region's replica of the
 * routing tables (the home region's tables in the home region), writes routing only in the home region (a new
 * partition's first write), and counts accesses in this region's access-stats table (docs/routing-replication.md).
 *
 * Every table is named, never referenced: the routing tables are the control plane's (deployed before this
 * stack), the cell tables and the access-stats table the cell stacks'. Keys are granted by alias, through
 * DynamoDB only.
 */
export class RegionalEdgeStack extends Stack {
  readonly config: PrestageConfig;
  /** The region this stack serves. */
  readonly dataRegion: string;
  readonly interceptor: PrestageFunction;
  readonly interceptorUrl: FunctionUrl;

  constructor(scope: Construct, id: string, props: RegionalEdgeStackProps) {
    super(scope, id, props);
    this.validateProps(props);
    const { config, region } = props;
    this.config = config;
    this.dataRegion = region;

    this.interceptor = new PrestageFunction(this, 'Interceptor', {
      entry: INTERCEPTOR_ENTRY,
      functionName: interceptorFunctionName(region),
      description: `prestage request interceptor in ${region}: routes the data API to the cell holding each partition`,
      serviceName: 'prestage-interceptor',
      environment: dataPlaneEnvironment(config),
      timeout: Duration.seconds(10),
      memorySize: 1024,
      logRetention: config.logRetentionDays as RetentionDays,
    });
    this.grantInterceptor();
    this.interceptorUrl = this.interceptor.fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    new CfnOutput(this, 'InterceptorUrl', {
      value: this.interceptorUrl.url,
      description: `Data API in ${region} (SigV4, service lambda, region ${region})`,
    });
  }

  private validateProps(props: RegionalEdgeStackProps): void {
    const { config, region } = props;
    const stackRegion = props.env?.region;
    if (!stackRegion || Token.isUnresolved(stackRegion) || stackRegion !== region) {
      throw new Error(
        `RegionalEdgeStack: env.region must be the region it serves, ${region} (found ${stackRegion ?? 'none'}): a request's region is the Lambda's own`,
      );
    }
    if (!config.dataRegions.includes(region)) {
      throw new Error(
        `RegionalEdgeStack: ${region} is not one of the data regions ${config.dataRegions.join(', ')}; interceptors run where cells are`,
      );
    }
  }

  /**
   * The interceptor's handler `Permissions:` (functions/interceptor/handler.ts), on this region's tables:
   * - routing read where the request landed: GetItem on this region's partitions replica, Scan and GetItem on
   *   its cells replica (the home tables themselves in the home region);
   * - routing written in the home region only: GetItem and PutItem on the home partitions table (the first
   *   write of a new partition, and the read of a record the replica has not received yet);
   * - UpdateItem on this region's access-stats table;
   * - GetItem, UpdateItem, PutItem on every cell table (reads, writes, mirror writes, read repair).
   */
  private grantInterceptor(): void {
    const { config, dataRegion: region } = this;
    const role = this.interceptor.role;
    const routingKeyAlias = (r: string) =>
      r === config.homeRegion ? config.names.controlPlaneKeyAlias : config.names.cellKeyAlias;
    const routing = (tableName: string, r: string): NamedTable => ({
      tableName,
      region: r,
      keyAlias: routingKeyAlias(r),
    });
    const grant = (table: NamedTable, actions: readonly DynamoAction[]) =>
      grantNamedTable(role, role, table, actions);

    const localPartitions = routing(config.names.partitionsTable, region);
    const homePartitions = routing(config.names.partitionsTable, config.homeRegion);
    if (region === config.homeRegion) {
      grant(homePartitions, ['GetItem', 'PutItem']);
    } else {
      grant(localPartitions, ['GetItem']);
      grant(homePartitions, ['GetItem', 'PutItem']);
    }
    grant(routing(config.names.cellsTable, region), ['Scan', 'GetItem']);
    grant({ tableName: config.names.accessStatsTable, region, keyAlias: config.names.cellKeyAlias }, [
      'UpdateItem',
    ]);
    grantCellTables(role, role, config, ['GetItem', 'UpdateItem', 'PutItem']);
  }
}
