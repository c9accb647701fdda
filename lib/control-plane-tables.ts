import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { RemovalPolicy } from 'aws-cdk-lib';
import { BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  accessStatsTableDefinition,
  cellsTableDefinition,
  coordinationTableDefinition,
  idempotencyTableDefinition,
  partitionsTableDefinition,
  plansTableDefinition,
  scoresTableDefinition,
  TTL_ATTRIBUTE,
} from '../src/adapters/dynamodb/table-definitions.ts';
import { tableSchemaOf } from './table-schema.ts';

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

/** The control-plane tables by name (the properties of ControlPlaneTables). */
export type ControlPlaneTableName =
  | 'partitions'
  | 'cells'
  | 'accessStats'
  | 'scores'
  | 'plans'
  | 'coordination'
  | 'idempotency';

/** Powertools idempotency records expire on `expiration` (the library's attribute name). */
const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

/**
 * The control plane's state: partition metadata (placement, routing, fence, version), the cell topology, access
 * counts, affinity scores, movement plans, coordination records (locks, cooldowns, cycles, run-time limits) and
 * idempotency records. Key schemas come from src/adapters/dynamodb/table-definitions.ts. Every table has a
 * customer-managed KMS key and point-in-time recovery.
 */
export class ControlPlaneTables extends Construct {
  readonly encryptionKey: IKey;
  readonly partitions: ITable;
  readonly cells: ITable;
  readonly accessStats: ITable;
  readonly scores: ITable;
  readonly plans: ITable;
  readonly coordination: ITable;
  readonly idempotency: ITable;

  constructor(scope: Construct, id: string, props: ControlPlaneTablesProps = {}) {
    super(scope, id);
    this.encryptionKey =
      props.encryptionKey ??
      new Key(this, 'Key', { enableKeyRotation: true, description: 'prestage control-plane tables' });
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const table = (name: string, definition: CreateTableCommandInput, ttl?: string) => {
      const schema = tableSchemaOf(definition);
      const created = new Table(this, name, {
        partitionKey: schema.partitionKey,
        sortKey: schema.sortKey,
        billingMode: BillingMode.PAY_PER_REQUEST,
        encryption: TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: this.encryptionKey,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: ttl,
        removalPolicy,
      });
      for (const index of schema.globalSecondaryIndexes) created.addGlobalSecondaryIndex(index);
      return created;
    };
    this.partitions = table('Partitions', partitionsTableDefinition('partitions'));
    this.cells = table('Cells', cellsTableDefinition('cells'));
    this.accessStats = table('AccessStats', accessStatsTableDefinition('access-stats'), TTL_ATTRIBUTE);
    this.scores = table('Scores', scoresTableDefinition('scores'), TTL_ATTRIBUTE);
    this.plans = table('Plans', plansTableDefinition('plans'), TTL_ATTRIBUTE);
    this.coordination = table('Coordination', coordinationTableDefinition('coordination'), TTL_ATTRIBUTE);
    this.idempotency = table(
      'Idempotency',
      idempotencyTableDefinition('idempotency'),
      IDEMPOTENCY_TTL_ATTRIBUTE,
    );
  }
}
