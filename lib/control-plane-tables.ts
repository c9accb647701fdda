import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import {
  Billing,
  BillingMode,
  type ITable,
  Table,
  TableEncryption,
  TableEncryptionV2,
  TableV2,
} from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Alias, type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { Construct, type IConstruct } from 'constructs';
import { eventsTableDefinition } from '../src/adapters/dynamodb/event-repository.ts';
import {
  cellsTableDefinition,
  coordinationTableDefinition,
  idempotencyTableDefinition,
  partitionsTableDefinition,
  plansTableDefinition,
  scoresTableDefinition,
  TTL_ATTRIBUTE,
} from '../src/adapters/dynamodb/table-definitions.ts';
import { type PrestageConfig, replicaRegions } from './prestage-config.ts';
import { type DynamoAction, grantKeyUseByAlias, grantNamedTable, grantTable } from './prestage-grants.ts';
import { tableSchemaOf } from './table-schema.ts';

export interface ControlPlaneTablesProps {
  /** Regions, table names and key aliases. The construct must be in a stack of `config.homeRegion`. */
  readonly config: PrestageConfig;
  /**
   * What happens to the scores, plans, coordination and idempotency tables when the stack is deleted. The
   * routing tables are always retained: they are the source of truth for where every partition lives.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The control-plane tables by name (the properties of ControlPlaneTables). */
export type ControlPlaneTableName =
  | 'partitions'
  | 'cells'
  | 'scores'
  | 'plans'
  | 'coordination'
  | 'idempotency'
  | 'events';

/** The routing tables: global tables, written in the home region and read in every data region's replica. */
export type RoutingTableName = 'partitions' | 'cells';

/** Tables with a fixed name that a redeploy adopts: their key is named (and granted) by the control-plane alias. */
const KEY_BY_ALIAS_TABLES: ReadonlySet<ControlPlaneTableName> = new Set<ControlPlaneTableName>([
  'partitions',
  'cells',
  'events',
]);

/** Powertools idempotency records expire on `expiration` (the library's attribute name). */
const IDEMPOTENCY_TTL_ATTRIBUTE = 'expiration';

/**
 * The control plane's state: partition metadata (placement, routing, fence, version), the cell topology, affinity
 * scores, movement plans, coordination records (locks, cooldowns, cycles, run-time limits) and idempotency
 * records. Key schemas come from src/adapters/dynamodb/table-definitions.ts. Every table has a customer-managed
 * KMS key and point-in-time recovery.
 *
 * The partitions and cells tables are DynamoDB global tables (docs/routing-replication.md): the home region's
 * table, where routing is written, and a replica in every other data region, where that region's interceptors
 * read it. Each replica is encrypted with its region's cell key (alias `names.cellKeyAlias`, created by the
 * region's cell stack, which deploys first), the home table with the control-plane key through its alias
 * `names.controlPlaneKeyAlias`. They have fixed names (`names.partitionsTable`, `names.cellsTable`), so stacks
 * in other regions can name them, and are always retained; their keys' aliases are retained with them, so a
 * redeploy that adopts them finds their keys under the same aliases (docs/deployment.md).
 */
export class ControlPlaneTables extends Construct {
  /** Encrypts every control-plane table in the home region. */
  readonly encryptionKey: Key;
  /** Names `encryptionKey`; the routing tables and their grants use the key through it. */
  readonly encryptionKeyAlias: Alias;
  readonly partitions: TableV2;
  readonly cells: TableV2;
  readonly scores: ITable;
  readonly plans: ITable;
  readonly coordination: ITable;
  readonly idempotency: ITable;
  /**
   * The operators' known events (`prestage events`), read by the profiler: fixed name `names.eventsTable`, home
   * region only, encrypted with the control-plane key by its alias, PITR, TTL `expiresAt`, always retained (operator
   * input nothing can rebuild; a redeploy adopts it like the routing tables).
   */
  readonly events: TableV2;
  /** Regions with a replica of the routing tables: every data region but the home region. */
  readonly replicaRegions: readonly string[];

  private readonly config: PrestageConfig;

  constructor(scope: Construct, id: string, props: ControlPlaneTablesProps) {
    super(scope, id);
    this.validateProps(props);
    const { config } = props;
    this.config = config;
    this.replicaRegions = replicaRegions(config);
    this.encryptionKey = new Key(this, 'Key', {
      enableKeyRotation: true,
      description: 'prestage control-plane tables',
    });
    this.encryptionKeyAlias = new Alias(this, 'KeyAlias', {
      aliasName: config.names.controlPlaneKeyAlias,
      targetKey: this.encryptionKey,
      // Retained with the key (RETAIN by default) and the routing tables it encrypts (see the class comment).
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.partitions = this.routingTable(
      'RoutingPartitions',
      partitionsTableDefinition(config.names.partitionsTable),
    );
    this.cells = this.routingTable('RoutingCells', cellsTableDefinition(config.names.cellsTable));
    this.events = this.eventsTable(eventsTableDefinition(config.names.eventsTable));

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const table = (name: string, definition: CreateTableCommandInput, ttl: string) => {
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
    this.scores = table('Scores', scoresTableDefinition('scores'), TTL_ATTRIBUTE);
    this.plans = table('Plans', plansTableDefinition('plans'), TTL_ATTRIBUTE);
    this.coordination = table('Coordination', coordinationTableDefinition('coordination'), TTL_ATTRIBUTE);
    this.idempotency = table(
      'Idempotency',
      idempotencyTableDefinition('idempotency'),
      IDEMPOTENCY_TTL_ATTRIBUTE,
    );
  }

  private validateProps(props: ControlPlaneTablesProps): void {
    const { config } = props;
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region) || region !== config.homeRegion) {
      throw new Error(
        `ControlPlaneTables: the routing tables are written in the home region ${config.homeRegion}; put the construct in a stack whose env.region is ${config.homeRegion} (found ${Token.isUnresolved(region) ? 'a region-agnostic stack' : region})`,
      );
    }
    const { partitionsTable, cellsTable, eventsTable, cellTablePrefix } = config.names;
    const fixed = [partitionsTable, cellsTable, eventsTable];
    const shared = fixed.find((name, i) => fixed.indexOf(name) !== i);
    if (shared !== undefined) {
      throw new Error(
        `ControlPlaneTables: the partitions, cells and events tables need three names; ${shared} is used twice`,
      );
    }
    for (const name of fixed) {
      // Cell-table grants cover `<cellTablePrefix>*`: a routing table under that prefix would be granted too.
      if (name.startsWith(cellTablePrefix)) {
        throw new Error(
          `ControlPlaneTables: table name ${name} starts with the cell table prefix ${cellTablePrefix}; the cell-table grants would cover it`,
        );
      }
    }
  }

  /**
   * A routing table: a global table with a replica in every other data region, each with PITR and encrypted
   * with its region's key by alias. No TTL: routing records never expire.
   */
  private routingTable(id: string, definition: CreateTableCommandInput): TableV2 {
    const { names } = this.config;
    const schema = tableSchemaOf(definition);
    const aliasArn = (region: string) =>
      Stack.of(this).formatArn({ service: 'kms', region, resource: names.cellKeyAlias });
    const table = new TableV2(this, id, {
      tableName: definition.TableName,
      partitionKey: schema.partitionKey,
      sortKey: schema.sortKey,
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.customerManagedKey(
        this.routingKeyByAlias(),
        Object.fromEntries(this.replicaRegions.map((region) => [region, aliasArn(region)])),
      ),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      replicas: this.replicaRegions.map((region) => ({ region })),
      // On demand: an index has no capacity settings of its own.
      globalSecondaryIndexes: schema.globalSecondaryIndexes.map(
        ({ indexName, partitionKey, sortKey, projectionType, nonKeyAttributes }) => ({
          indexName,
          partitionKey,
          sortKey,
          projectionType,
          nonKeyAttributes,
        }),
      ),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The table names its key by the alias ARN, which is no reference: create the alias first.
    table.node.addDependency(this.encryptionKeyAlias);
    return table;
  }

  /**
   * The events table: a single-region table (TableV2 with no replica) under its fixed name, keyed by the key's
   * alias like the routing tables, so a redeploy that adopts it keeps using the retained key.
   */
  private eventsTable(definition: CreateTableCommandInput): TableV2 {
    const schema = tableSchemaOf(definition);
    const table = new TableV2(this, 'Events', {
      tableName: definition.TableName,
      partitionKey: schema.partitionKey,
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.customerManagedKey(this.routingKeyByAlias()),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    table.node.addDependency(this.encryptionKeyAlias);
    return table;
  }

  /** The home region's routing key as the tables name it: by its alias ARN (see the class comment). */
  private routingKeyByAlias(): IKey {
    const existing = this.node.tryFindChild('RoutingKeyByAlias') as IKey | undefined;
    return existing ?? Alias.fromAliasName(this, 'RoutingKeyByAlias', this.config.names.controlPlaneKeyAlias);
  }

  /** The alias of the key that encrypts the routing tables in `region` (the home region or a replica region). */
  routingKeyAliasIn(region: string): string {
    if (region === this.config.homeRegion) return this.config.names.controlPlaneKeyAlias;
    if (!this.replicaRegions.includes(region)) {
      throw new Error(
        `ControlPlaneTables: no routing replica in ${region}; replicas are in ${this.replicaRegions.join(', ')}`,
      );
    }
    return this.config.names.cellKeyAlias;
  }

  /**
   * Exactly `actions` on one home-region table and the use of its key. The key of the routing tables and the events
   * table is granted by alias through DynamoDB (acknowledged on `scope`), the other tables' by the key's ARN.
   */
  grant(
    scope: IConstruct,
    grantee: IGrantable,
    name: ControlPlaneTableName,
    actions: readonly DynamoAction[],
  ): void {
    if (!KEY_BY_ALIAS_TABLES.has(name)) {
      grantTable(grantee, this[name], this.encryptionKey, actions);
      return;
    }
    this[name].grant(grantee, ...actions.map((a) => `dynamodb:${a}`));
    grantKeyUseByAlias(
      scope,
      grantee,
      this.config.homeRegion,
      this.config.names.controlPlaneKeyAlias,
      actions,
    );
  }

  /** Exactly `actions` on a routing table's replica in `region` (by name), and the use of its key there. */
  grantReplica(
    scope: IConstruct,
    grantee: IGrantable,
    name: RoutingTableName,
    region: string,
    actions: readonly DynamoAction[],
  ): void {
    const tableName =
      name === 'partitions' ? this.config.names.partitionsTable : this.config.names.cellsTable;
    grantNamedTable(scope, grantee, { tableName, region, keyAlias: this.routingKeyAliasIn(region) }, actions);
  }
}
