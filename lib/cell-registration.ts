import { Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { allCells, cellTableName, type PrestageConfig } from './prestage-config.ts';
import { keyUseByAliasStatement } from './prestage-grants.ts';

export interface CellRegistrationProps {
  readonly config: PrestageConfig;
  /** The cells table (topology), in this stack's region. */
  readonly table: ITable;
  /**
   * Alias of the key that encrypts the table. The key is used by alias: a table adopted after a redeploy is
   * encrypted with the retained key the alias names, not with the stack's new key.
   */
  readonly keyAlias: string;
}

/**
 * Registers each configured cell in the cells table at deploy time (the record DynamoCellRepository reads:
 * id, region, table, capacities, status, version). A redeploy updates region, table and capacity, bumps the
 * version, and keeps a status set at run time (DRAINING, RETIRED), so configuration never resurrects a
 * retired cell. Removing a cell from the configuration leaves its record alone (scale-in retires cells).
 */
export class CellRegistration extends Construct {
  constructor(scope: Construct, id: string, props: CellRegistrationProps) {
    super(scope, id);
    const { config, table, keyAlias } = props;
    const policy = AwsCustomResourcePolicy.fromStatements([
      new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [table.tableArn] }),
      keyUseByAliasStatement(this, Stack.of(this).region, keyAlias, ['UpdateItem']),
    ]);
    for (const { region, cell } of allCells(config)) {
      const call: AwsSdkCall = {
        service: 'DynamoDB',
        action: 'updateItem',
        parameters: {
          TableName: table.tableName,
          Key: { pk: { S: cell.id } },
          UpdateExpression:
            'SET #id = :id, #region = :region, #table = :table, capacityOpsPerSec = :ops, capacityBytes = :bytes, #status = if_not_exists(#status, :active), #version = if_not_exists(#version, :zero) + :one',
          ExpressionAttributeNames: {
            '#id': 'id',
            '#region': 'region',
            '#table': 'table',
            '#status': 'status',
            '#version': 'version',
          },
          ExpressionAttributeValues: {
            ':id': { S: cell.id },
            ':region': { S: region },
            ':table': { S: cellTableName(config, cell.id) },
            ':ops': { N: String(cell.capacityOpsPerSec) },
            ':bytes': { N: String(cell.capacityBytes) },
            ':active': { S: 'ACTIVE' },
            ':zero': { N: '0' },
            ':one': { N: '1' },
          },
        },
        physicalResourceId: PhysicalResourceId.of(`prestage-cell-${cell.id}`),
      };
      new AwsCustomResource(this, `Register-${cell.id}`, {
        onCreate: call,
        onUpdate: call,
        policy,
        installLatestAwsSdk: false,
      });
    }
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "The CDK AwsCustomResource provider's own role (deploy-time registration of the configured cells only)",
    });
  }
}
