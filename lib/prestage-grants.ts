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
 * Exactly `actions` on every cell data table (`<cellTablePrefix>*`, including cells that ScaleCluster creates
 * at run time) in every data region, and the use of each region's cell key through DynamoDB only, identified by
 * its alias. The wildcards are acknowledged on `scope`.
 */
export function grantCellTables(
  scope: IConstruct,
  grantee: IGrantable,
  config: PrestageConfig,
  actions: readonly DynamoAction[],
): void {
  const partition = Aws.PARTITION;
  const account = Aws.ACCOUNT_ID;
  const tableArns = config.dataRegions.flatMap((region) => {
    const table = `arn:${partition}:dynamodb:${region}:${account}:table/${config.names.cellTablePrefix}*`;
    return actions.includes('Query') ? [table, `${table}/index/*`] : [table];
  });
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: tableArns }),
  );
  for (const region of config.dataRegions) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: kmsActionsFor(actions),
        resources: [`arn:${partition}:kms:${region}:${account}:key/*`],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` },
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': [config.names.cellKeyAlias] },
        },
      }),
    );
  }
  acknowledgeWildcard(
    scope,
    config,
    (region) =>
      `arn:<AWS::Partition>:dynamodb:${region}:<AWS::AccountId>:table/${config.names.cellTablePrefix}*`,
    'Cell tables are named <prefix><cellId>, and ScaleCluster creates cells at run time; the grant covers exactly that name prefix',
  );
  if (actions.includes('Query')) {
    acknowledgeWildcard(
      scope,
      config,
      (region) =>
        `arn:<AWS::Partition>:dynamodb:${region}:<AWS::AccountId>:table/${config.names.cellTablePrefix}*/index/*`,
      "Incremental catch-up queries each cell table's `changes` index",
    );
  }
  acknowledgeWildcard(
    scope,
    config,
    (region) => `arn:<AWS::Partition>:kms:${region}:<AWS::AccountId>:key/*`,
    `A cell key is another stack's (another region's) resource; the statement is limited to the key with alias ${config.names.cellKeyAlias} used through DynamoDB (kms:ResourceAliases and kms:ViaService conditions)`,
  );
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
