import { Aws, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import type { ControlPlaneTableName } from './control-plane-tables.ts';
import type { PrestageConfig } from './prestage-config.ts';

/** DynamoDB actions by name (without the `dynamodb:` prefix), as the handlers' `Permissions:` comments list them. */
export type DynamoAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'Scan'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem'
  | 'ConditionCheckItem'
  | 'TransactWriteItems'
  | 'TransactGetItems'
  | 'DescribeTable';

/** DynamoDB actions per control-plane table, as a handler's `Permissions:` comment lists them. */
export type TableGrants = Partial<Record<ControlPlaneTableName, readonly DynamoAction[]>>;

const WRITES: ReadonlySet<DynamoAction> = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

/** KMS actions DynamoDB needs from the caller for a table encrypted with a customer-managed key. */
function kmsActionsFor(actions: readonly DynamoAction[]): string[] {
  const writes = actions.some((a) => WRITES.has(a));
  return writes
    ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
    : ['kms:Decrypt', 'kms:DescribeKey'];
}

/** Exactly `actions` on `table` (and its indexes, for Query) plus the matching use of its key. */
export function grantTable(
  grantee: IGrantable,
  table: ITable,
  key: IKey,
  actions: readonly DynamoAction[],
): void {
  table.grant(grantee, ...actions.map((a) => `dynamodb:${a}`));
  key.grant(grantee, ...kmsActionsFor(actions));
}

/**
 * The use of the key that `alias` names in `region`, through DynamoDB only: what a DynamoDB caller needs for
 * `actions` on a table encrypted with that key. The key is found by its alias (`kms:ResourceAliases`), never by
 * its id, because it is another stack's resource or, after a redeploy that adopted retained tables, a retained
 * key the alias still names. The `key/*` resource is acknowledged on `scope`.
 */
export function grantKeyUseByAlias(
  scope: IConstruct,
  grantee: IGrantable,
  region: string,
  alias: string,
  actions: readonly DynamoAction[],
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(keyUseByAliasStatement(scope, region, alias, actions));
}

/** The statement of grantKeyUseByAlias, for policies built from statements; acknowledged on `scope`. */
export function keyUseByAliasStatement(
  scope: IConstruct,
  region: string,
  alias: string,
  actions: readonly DynamoAction[],
): PolicyStatement {
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:${region}:<AWS::AccountId>:key/*]`,
    reason: `Keys are named by alias (another stack's key, or a retained key a redeploy adopted): the statement is limited to the key with the alias ${alias} used through DynamoDB in ${region} (kms:ResourceAliases and kms:ViaService conditions)`,
  });
  return new PolicyStatement({
    actions: kmsActionsFor(actions),
    resources: [`arn:${Aws.PARTITION}:kms:${region}:${Aws.ACCOUNT_ID}:key/*`],
    conditions: {
      StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` },
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [alias] },
    },
  });
}

/** A table found by its fixed name in one region, and the alias of the key that encrypts it there. */
export interface NamedTable {
  readonly tableName: string;
  readonly region: string;
  readonly keyAlias: string;
}

/** The ARN of a table by name in a region of this account. */
export function tableArnOf(tableName: string, region: string): string {
  return `arn:${Aws.PARTITION}:dynamodb:${region}:${Aws.ACCOUNT_ID}:table/${tableName}`;
}

/**
 * Exactly `actions` on one table named by its fixed name in a region (a routing replica, another stack's table),
 * and the use of its key there through DynamoDB. The tables granted this way have no indexes.
 */
export function grantNamedTable(
  scope: IConstruct,
  grantee: IGrantable,
  table: NamedTable,
  actions: readonly DynamoAction[],
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: actions.map((a) => `dynamodb:${a}`),
      resources: [tableArnOf(table.tableName, table.region)],
    }),
  );
  grantKeyUseByAlias(scope, grantee, table.region, table.keyAlias, actions);
}

/**
 * Exactly `actions` on every cell data table (`<cellTablePrefix>*`, including cells that ScaleCluster creates
 * at run time) in every data region, and the use of each region's cell key through DynamoDB only, identified by
 * its alias. The wildcards are acknowledged on `scope`.
 */
export function grantCellTables(
  scope: IConstruct,
  grantee: IGrantable,
  config: PrestageConfig,
  actions: readonly DynamoAction[],
  options: {
    /** Query the tables' indexes too (the `changes` index of catch-up). @default actions include Query */
    readonly indexes?: boolean;
  } = {},
): void {
  const indexes = options.indexes ?? actions.includes('Query');
  const tableArns = config.dataRegions.flatMap((region) => {
    const table = tableArnOf(`${config.names.cellTablePrefix}*`, region);
    return indexes ? [table, `${table}/index/*`] : [table];
  });
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: tableArns }),
  );
  for (const region of config.dataRegions) {
    grantKeyUseByAlias(scope, grantee, region, config.names.cellKeyAlias, actions);
  }
  acknowledgeWildcard(
    scope,
    config,
    (region) =>
      `arn:<AWS::Partition>:dynamodb:${region}:<AWS::AccountId>:table/${config.names.cellTablePrefix}*`,
    'Cell tables are named <prefix><cellId>, and ScaleCluster creates cells at run time; the grant covers exactly that name prefix',
  );
  if (indexes) {
    acknowledgeWildcard(
      scope,
      config,
      (region) =>
        `arn:<AWS::Partition>:dynamodb:${region}:<AWS::AccountId>:table/${config.names.cellTablePrefix}*/index/*`,
      "Incremental catch-up queries each cell table's `changes` index",
    );
  }
}

/** Read each data region's canary alarms (`<canaryAlarmPrefix>*`) for the MigratePartition health check. */
export function grantDescribeCanaryAlarms(
  scope: IConstruct,
  grantee: IGrantable,
  config: PrestageConfig,
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: config.dataRegions.map(
        (region) =>
          `arn:${Aws.PARTITION}:cloudwatch:${region}:${Aws.ACCOUNT_ID}:alarm:${config.names.canaryAlarmPrefix}*`,
      ),
    }),
  );
  acknowledgeWildcard(
    scope,
    config,
    (region) =>
      `arn:<AWS::Partition>:cloudwatch:${region}:<AWS::AccountId>:alarm:${config.names.canaryAlarmPrefix}*`,
    "Canary alarms are named <prefix><cellId> per cell; the health check reads the target cell's alarm only",
  );
}

/** cloudwatch:GetMetricData allows no resource-level permissions, so it is granted on `*`. */
export function grantGetMetricData(scope: IConstruct, grantee: IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }),
  );
  Validations.of(scope).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'cloudwatch:GetMetricData and X-Ray tracing support no resource-level permissions',
  });
}

function acknowledgeWildcard(
  scope: IConstruct,
  config: PrestageConfig,
  arnOf: (region: string) => string,
  reason: string,
): void {
  for (const region of config.dataRegions) {
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${arnOf(region)}]`, reason });
  }
}
