import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface ControlPlaneTablesProps {
  /**
   * Key that encrypts every control-plane table.
   * @default a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: IKey;
  /**
   * What happens to the tables when the stack is deleted.
   * @default RemovalPolicy.RETAIN, because the partition table is the source of truth for routing
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The control plane's state: partition metadata (placement, routing, fence, version), the cell topology,
 * affinity scores and movement plans. Every table has a customer-managed KMS key and point-in-time recovery.
 */
export class ControlPlaneTables extends Construct {
  readonly encryptionKey: IKey;
  readonly partitions: ITable;
  readonly cells: ITable;
  readonly scores: ITable;
  readonly plans: ITable;

  constructor(scope: Construct, id: string, props: ControlPlaneTablesProps = {}) {
    super(scope, id);
    this.encryptionKey =
      props.encryptionKey ??
      new Key(this, 'Key', { enableKeyRotation: true, description: 'prestage control-plane tables' });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const table = (name: string, withSortKey: boolean, ttl?: string) =>
      new Table(this, name, {
        partitionKey: { name: 'pk', type: AttributeType.STRING },
        sortKey: withSortKey ? { name: 'sk', type: AttributeType.STRING } : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.encryptionKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: ttl,
        removalPolicy,
      });
    this.partitions = table('Partitions', false);
    this.cells = table('Cells', false);
    this.scores = table('Scores', false, 'expiresAt');
    this.plans = table('Plans', true, 'expiresAt');
  }
}
