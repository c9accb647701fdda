import { readFileSync } from 'node:fs';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { cellAlarmSettings } from '../../../lib/cell-data-stack.ts';
import { buildPrestageApp } from '../../../lib/prestage-app.ts';
import { parsePrestageConfig } from '../../../lib/prestage-config.ts';
import { addSecurityChecks } from '../../../lib/security-checks.ts';
import {
  cellsTableDefinition,
  coordinationTableDefinition,
  idempotencyTableDefinition,
  partitionsTableDefinition,
  plansTableDefinition,
  scoresTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import { MIGRATION_TASK_NAMES } from '../../../src/domain/migration/migration-tasks.ts';
import { EXECUTE_PLAN_TASK_NAMES } from '../../../src/execute-plan/execute-plan-tasks.ts';
import { CONTROL_PLANE_ENV, readControlPlaneConfig } from '../../../src/lambda/control-plane-env.ts';
import { DATA_PLANE_ENV } from '../../../src/lambda/data-plane-config.ts';
import { SCALE_CLUSTER_TASK_NAMES } from '../../../src/scaling/scale-cluster-tasks.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { permissionsOf } from './handler-permissions.ts';
import { CDK_CONTEXT, synthesizePrestage } from './prestage-synth.ts';

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Effect: string;
};
type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string[];
};

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** Actions AWS authorizes on no resource narrower than `*`. */
const STAR_ONLY_ACTIONS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'cloudwatch:GetMetricData',
  'cloudwatch:PutMetricData',
  'ecr:GetAuthorizationToken',
  // Step Functions log delivery (CDK grants these to every state machine role with logging).
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

describe('ControlPlaneStack', () => {
  const { controlPlane: template, config, stacks } = synthesizePrestage();
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const prestageFunctionIds = new Set(
    [...stacks.controlPlane.functions.values()].map((fn) =>
      stacks.controlPlane.resolve(stacks.controlPlane.getLogicalId(fn.fn.node.defaultChild as CfnResource)),
    ),
  );
  const functions = ofType('AWS::Lambda::Function').filter(([id]) => prestageFunctionIds.has(id));

  it('passes the cdk-nag AwsSolutions and Serverless packs with zero unacknowledged findings', () => {
    // synthesizePrestage throws, listing every finding, if any is left.
    // profiler, planner and the workflows' steps (the interceptors are the edge stacks')
    expect(functions).toHaveLength(
      2 + MIGRATION_TASK_NAMES.length + EXECUTE_PLAN_TASK_NAMES.length + SCALE_CLUSTER_TASK_NAMES.length,
    );
    // Besides prestage's own: only CDK's singleton providers (cell registration, cross-region SDK calls).
    const others = ofType('AWS::Lambda::Function').filter(([id]) => !prestageFunctionIds.has(id));
    expect(others.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AWS679f53fac002430cb0da5b7982bd2287',
      'CrossRegionAwsSdk8a0c93f3dbef4b71ac137aaf2048ce7e',
    ]);
  });

  it('runs every prestage Lambda on Node 24, arm64, ESM-bundled, with X-Ray and a log group with retention', () => {
    for (const [id, fn] of functions) {
      expect(fn.Properties, id).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
      });
      const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[logGroup].Properties.RetentionInDays, id).toBe(config.logRetentionDays);
      expect(fn.Properties.MemorySize, id).toBeGreaterThanOrEqual(128);
      expect(fn.Properties.Timeout, id).toBeGreaterThan(3);
    }
  });

  it('gives the data-plane Lambdas the DATA_PLANE_ENV names of the tables, the home and replica regions', () => {
    const env = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'prestage MigratePartition step CutoverFence',
      Environment: { Variables: env },
    });
    expect(env.asObject()).toMatchObject({
      // The routing tables by reference (their fixed names), the regional access-stats table by its name.
      [DATA_PLANE_ENV.partitionsTable]: { Ref: expect.stringMatching(/^TablesRoutingPartitions/) },
      [DATA_PLANE_ENV.cellsTable]: { Ref: expect.stringMatching(/^TablesRoutingCells/) },
      [DATA_PLANE_ENV.accessStatsTable]: config.names.accessStatsTable,
      [DATA_PLANE_ENV.homeRegion]: config.homeRegion,
      // Every MigratePartition step shares awsMigrationDeps, which builds a replica reader per region listed.
      [DATA_PLANE_ENV.replicaRegions]: config.dataRegions.filter((r) => r !== config.homeRegion).join(','),
      [DATA_PLANE_ENV.canaryAlarmPrefix]: 'prestage-cell-errors-',
      // The lease settings are set explicitly, from one configuration key, never left to code defaults.
      [DATA_PLANE_ENV.leaseTtlMs]: String(config.routingLease.leaseTtlMs),
      [DATA_PLANE_ENV.maxRequestMs]: String(config.routingLease.maxRequestMs),
      [DATA_PLANE_ENV.maxClockSkewMs]: String(config.routingLease.maxClockSkewMs),
      [DATA_PLANE_ENV.indexLagMs]: String(config.routingLease.indexLagMs),
      [DATA_PLANE_ENV.shardsPerPartition]: '8',
      POWERTOOLS_METRICS_NAMESPACE: 'Prestage',
    });
    const tableNames = template.toJSON().Resources as Record<string, Resource>;
    const named = (prefix: string) =>
      Object.entries(tableNames).find(([id]) => id.startsWith(prefix))![1].Properties.TableName;
    expect(named('TablesRoutingPartitions')).toBe(config.names.partitionsTable);
    expect(named('TablesRoutingCells')).toBe(config.names.cellsTable);
  });

  it('has no interceptor and no Function URL: each data region’s edge stack serves the data API', () => {
    template.resourceCountIs('AWS::Lambda::Url', 0);
    expect(
      functions.filter(([, fn]) => String(fn.Properties.Description).includes('request interceptor')),
    ).toEqual([]);
    expect(Object.keys(template.toJSON().Outputs ?? {})).not.toContain('InterceptorUrl');
  });

  it('makes the routing tables global tables: a replica with PITR in every other data region, each encrypted with its region’s key by alias, retained', () => {
    const replicaRegions = config.dataRegions.filter((r) => r !== config.homeRegion);
    expect(replicaRegions.length).toBeGreaterThan(0);
    // The events table is a single-region GlobalTable too (test/unit/lib/events-table.test.ts).
    const globals = ofType('AWS::DynamoDB::GlobalTable').filter(([id]) => !id.startsWith('TablesEvents'));
    expect(globals.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'TablesRoutingCells',
      'TablesRoutingPartitions',
    ]);
    const alias = (region: string, name: string) =>
      JSON.stringify({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:kms:${region}:123456789012:${name}`]],
      });
    for (const [name, definition] of [
      ['TablesRoutingPartitions', partitionsTableDefinition(config.names.partitionsTable)],
      ['TablesRoutingCells', cellsTableDefinition(config.names.cellsTable)],
    ] as const) {
      const [id, table] = globals.find(([tableId]) => tableId.startsWith(name))!;
      expect(table.Properties, id).toMatchObject({
        TableName: definition.TableName,
        KeySchema: definition.KeySchema,
        AttributeDefinitions: definition.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      });
      // Source of truth: kept when the stack goes, and adoptable by a redeploy (static name, Retain).
      expect(table.DeletionPolicy, id).toBe('Retain');
      expect(table.UpdateReplacePolicy, id).toBe('Retain');
      expect(typeof table.Properties.TableName, id).toBe('string');
      const replicas = table.Properties.Replicas as {
        Region: string;
        PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean };
        SSESpecification?: { KMSMasterKeyId: unknown };
      }[];
      expect(replicas.map((r) => r.Region).sort(), id).toEqual(config.dataRegions.toSorted());
      for (const replica of replicas) {
        expect(replica.PointInTimeRecoverySpecification, `${id} ${replica.Region}`).toEqual({
          PointInTimeRecoveryEnabled: true,
        });
        // The home table: the control-plane key's alias; a replica: its region's cell key alias (cell stack).
        const expectedAlias =
          replica.Region === config.homeRegion
            ? config.names.controlPlaneKeyAlias
            : config.names.cellKeyAlias;
        expect(JSON.stringify(replica.SSESpecification?.KMSMasterKeyId), `${id} ${replica.Region}`).toBe(
          alias(replica.Region, expectedAlias),
        );
      }
      // The alias is named, not referenced: the table waits for it explicitly.
      expect(table.DependsOn, id).toEqual([expect.stringMatching(/^TablesKeyAlias/)]);
    }
    const [, keyAlias] = ofType('AWS::KMS::Alias').find(([id]) => id.startsWith('TablesKeyAlias'))!;
    expect(keyAlias.Properties.AliasName).toBe(config.names.controlPlaneKeyAlias);
    expect(keyAlias.Properties.TargetKeyId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^TablesKey/), 'Arn'],
    });
    expect(keyAlias.DeletionPolicy).toBe('Retain');
  });

  it('builds every other control-plane table from its table definition, with a customer-managed key, PITR and TTL', () => {
    const expected = [
      ['Scores', scoresTableDefinition('t'), 'expiresAt'],
      ['Plans', plansTableDefinition('t'), 'expiresAt'],
      ['Coordination', coordinationTableDefinition('t'), 'expiresAt'],
      ['Idempotency', idempotencyTableDefinition('t'), 'expiration'],
    ] as const;
    const tables = ofType('AWS::DynamoDB::Table');
    // No AccessStats table here: every data region's cell stack has its own.
    expect(tables).toHaveLength(expected.length);
    for (const [name, definition, ttl] of expected) {
      const [id, table] = tables.find(([tableId]) => tableId.startsWith(`Tables${name}`))!;
      expect(table.Properties, id).toMatchObject({
        KeySchema: definition.KeySchema,
        AttributeDefinitions: definition.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^TablesKey/), 'Arn'] },
        },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
      expect(table.Properties.TimeToLiveSpecification, id).toEqual({ AttributeName: ttl, Enabled: true });
      expect(table.DeletionPolicy, id).toBe('Retain');
    }
  });

  it('encrypts the topics and the queues with a customer-managed key and refuses plain HTTP', () => {
    for (const [id, topic] of ofType('AWS::SNS::Topic')) {
      expect(topic.Properties.KmsMasterKeyId, id).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^MessagingKey/), 'Arn'],
      });
    }
    expect(ofType('AWS::SNS::Topic').map(([, t]) => t.Properties.DisplayName)).toEqual([
      'prestage plans waiting for approval',
      'prestage alarms',
    ]);
    for (const [id, queue] of ofType('AWS::SQS::Queue')) {
      expect(queue.Properties.KmsMasterKeyId ?? queue.Properties.SqsManagedSseEnabled, id).toBeTruthy();
    }
    for (const [id, policy] of [...ofType('AWS::SNS::TopicPolicy'), ...ofType('AWS::SQS::QueuePolicy')]) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(
        statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
        id,
      ).toBe(true);
    }
    template.allResourcesProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('grants `*` resources only for actions that allow nothing narrower, across every IAM policy', () => {
    const policies = [
      ...ofType('AWS::IAM::Policy').map(([id, p]) => [id, p.Properties.PolicyDocument] as const),
      ...ofType('AWS::IAM::Role').flatMap(([id, r]) =>
        ((r.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
          (p) => [id, p.PolicyDocument] as const,
        ),
      ),
    ];
    expect(policies.length).toBeGreaterThan(MIGRATION_TASK_NAMES.length);
    for (const [id, document] of policies) {
      for (const statement of (document as { Statement: Statement[] }).Statement) {
        if (!resourcesOf(statement).includes('*')) continue;
        for (const action of actionsOf(statement)) {
          expect(STAR_ONLY_ACTIONS.has(action), `${id}: ${action} on *`).toBe(true);
        }
        if (actionsOf(statement).includes('cloudwatch:PutMetricData')) {
          expect(statement.Condition, `${id}: PutMetricData needs a namespace condition`).toBeDefined();
        }
      }
      for (const statement of (document as { Statement: Statement[] }).Statement) {
        for (const action of actionsOf(statement)) expect(action, id).not.toContain('*');
      }
    }
  });

  it('lets exactly the MigratePartition steps that confirm a routing change read the partitions replica in every replica region', () => {
    const replicaRegions = config.dataRegions.filter((r) => r !== config.homeRegion);
    const confirming: string[] = [];
    for (const name of MIGRATION_TASK_NAMES) {
      const statements = statementsOf(`Migrate${name}`);
      const replicaReads = statements.filter((s) =>
        JSON.stringify(s.Resource).includes(`:table/${config.names.partitionsTable}"`),
      );
      if (replicaReads.length === 0) continue;
      confirming.push(name);
      expect(replicaReads.flatMap(actionsOf), name).toEqual(replicaRegions.map(() => 'dynamodb:GetItem'));
      expect(replicaReads.map((s) => JSON.stringify(s.Resource)).sort(), name).toEqual(
        replicaRegions
          .map((r) =>
            JSON.stringify({
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  `:dynamodb:${r}:`,
                  { Ref: 'AWS::AccountId' },
                  `:table/${config.names.partitionsTable}`,
                ],
              ],
            }),
          )
          .sort(),
      );
      // Consistent reads decrypt with the replica's key: the region's cell key, by alias, through DynamoDB.
      for (const region of replicaRegions) {
        const key = statements.find(
          (s) =>
            s.Condition?.StringEquals?.['kms:ViaService'] === `dynamodb.${region}.amazonaws.com` &&
            (s.Condition['ForAnyValue:StringEquals']['kms:ResourceAliases'] as string[]).includes(
              config.names.cellKeyAlias,
            ),
        );
        expect(key && actionsOf(key), `${name} ${region}`).toEqual(
          expect.arrayContaining(['kms:Decrypt', 'kms:DescribeKey']),
        );
      }
    }
    // visibleEverywhereAt runs in verify (mirroring), cutoverFence (the fence) and rollback (unshift, reverse fence).
    expect(confirming.sort()).toEqual(['CutoverFence', 'Rollback', 'Verify']);
    // Every step bundles awsMigrationDeps, which reads the replica regions at cold start: all of them get the list.
    for (const name of MIGRATION_TASK_NAMES) {
      const step = stacks.controlPlane.migratePartition.steps[name];
      const logicalId = stacks.controlPlane.resolve(
        stacks.controlPlane.getLogicalId(step.fn.node.defaultChild as CfnResource),
      ) as string;
      const env = (resources[logicalId].Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(env[DATA_PLANE_ENV.replicaRegions], name).toBe(replicaRegions.join(','));
    }
  });

  it('uses the routing tables’ key by its alias only, so tables adopted after a redeploy keep working', () => {
    for (const id of ['Profiler', 'MigrateAcquire', 'Planner']) {
      const statements = statementsOf(id);
      const home = statements.filter(
        (s) =>
          s.Condition?.StringEquals?.['kms:ViaService'] === `dynamodb.${config.homeRegion}.amazonaws.com` &&
          (s.Condition['ForAnyValue:StringEquals']['kms:ResourceAliases'] as string[]).includes(
            config.names.controlPlaneKeyAlias,
          ),
      );
      expect(home.length, id).toBeGreaterThan(0);
      expect(home.flatMap(actionsOf), id).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:DescribeKey']));
    }
    // The cells registration at deploy time too (an adopted cells table is encrypted with the retained key).
    const registration = ofType('AWS::IAM::Policy').find(([id]) => id.startsWith('CellsRegister'));
    const statements = (registration![1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(
      statements.find((s) => actionsOf(s).includes('kms:Encrypt'))?.Condition?.['ForAnyValue:StringEquals'],
    ).toEqual({ 'kms:ResourceAliases': [config.names.controlPlaneKeyAlias] });
  });

  it("grants each function exactly the actions its handler's `Permissions:` comment lists, per resource", () => {
    let checked = 0;
    for (const [id, fn] of stacks.controlPlane.functions) {
      const clauses = permissionsOf(fn.entry);
      expect(clauses, `${fn.entry} has no Permissions: comment`).toBeDefined();
      if (!clauses) continue;
      const logicalId = stacks.controlPlane.resolve(
        stacks.controlPlane.getLogicalId(fn.fn.node.defaultChild as CfnResource),
      ) as string;
      const env = (resources[logicalId].Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;
      const statements = statementsOf(id);
      const expected = new Map<string, Set<string>>();
      for (const clause of clauses) {
        const set = expected.get(clause.target) ?? new Set<string>();
        for (const action of clause.actions) set.add(action);
        expected.set(clause.target, set);
      }
      for (const [target, actions] of expected) {
        if (env[target] === undefined) {
          // Not configured (e.g. no SageMaker endpoint with the embedded model): nothing may be granted.
          const any = statements
            .flatMap((st) => actionsOf(st))
            .filter((a) => actions.has(a) && !a.startsWith('dynamodb:'));
          expect(any, `${id}: ${target} is unset but ${any.join(', ')} is granted`).toEqual([]);
          continue;
        }
        const value = JSON.stringify(env[target]);
        const reference =
          /"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/.exec(value)?.[1] ?? (env[target] as string);
        const granted = new Set(
          statements
            .filter((st) => JSON.stringify(st.Resource).includes(reference))
            .flatMap((st) => actionsOf(st)),
        );
        expect([...granted].sort(), `${id} on ${target}`).toEqual([...actions].sort());
      }
      // A resource of this stack the function is told about but whose comment lists nothing: nothing granted.
      for (const [name, value] of Object.entries(env)) {
        if (expected.has(name)) continue;
        const reference = /"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/.exec(JSON.stringify(value))?.[1];
        if (!reference) continue;
        const granted = statements
          .filter((st) => JSON.stringify(st.Resource).includes(reference))
          .flatMap((st) => actionsOf(st));
        expect(granted, `${id} on ${name}, which its comment does not list`).toEqual([]);
      }
      checked++;
    }
    expect(checked).toBe(
      // profiler, planner, and the steps of the three workflows
      2 + MIGRATION_TASK_NAMES.length + EXECUTE_PLAN_TASK_NAMES.length + SCALE_CLUSTER_TASK_NAMES.length,
    );
  });

  it('lets only the CanaryHealth step read the canary alarms, in every data region', () => {
    for (const name of MIGRATION_TASK_NAMES) {
      const statements = statementsOf(`Migrate${name}`);
      const alarmReads = statements.filter((s) => actionsOf(s).includes('cloudwatch:DescribeAlarms'));
      if (name !== 'CanaryHealth') {
        expect(alarmReads, name).toEqual([]);
        continue;
      }
      expect(JSON.stringify(alarmReads[0].Resource)).toContain(':alarm:prestage-cell-errors-*');
      for (const region of config.dataRegions) {
        expect(JSON.stringify(alarmReads[0].Resource)).toContain(`:cloudwatch:${region}:`);
      }
      expect(dynamoGrants(statements)).toEqual({ TablesRoutingCells: ['dynamodb:Scan'] });
    }
  });

  it('lets the profiler count items in the cell tables (size probe) and write only sizes to partitions', () => {
    const statements = statementsOf('Profiler');
    const grants = dynamoGrants(statements);
    expect(grants['prestage-cell-*']).toEqual(['dynamodb:Query']);
    expect(grants.TablesRoutingPartitions).toEqual(['dynamodb:Scan', 'dynamodb:UpdateItem']);
    const cellStatement = JSON.stringify(
      statements.filter((s) => JSON.stringify(s.Resource).includes('table/prestage-cell-*')),
    );
    for (const region of config.dataRegions) expect(cellStatement).toContain(`:dynamodb:${region}:`);
  });

  it("lets the profiler Query and BatchGetItem every data region's access-stats table, and nothing else on it", () => {
    const statements = statementsOf('Profiler');
    const onStats = statements.filter((s) =>
      JSON.stringify(s.Resource).includes(`:table/${config.names.accessStatsTable}"`),
    );
    expect(onStats.flatMap(actionsOf)).toEqual(
      config.dataRegions.flatMap(() => ['dynamodb:Query', 'dynamodb:BatchGetItem']),
    );
    const regionsOf = (s: Statement) => /:dynamodb:([a-z0-9-]+):/.exec(JSON.stringify(s.Resource))?.[1];
    expect(onStats.map(regionsOf).sort()).toEqual(config.dataRegions.toSorted());
    // Each table's key (its region's cell key) by alias through DynamoDB, read only.
    for (const region of config.dataRegions) {
      const key = statements.filter(
        (s) =>
          s.Condition?.StringEquals?.['kms:ViaService'] === `dynamodb.${region}.amazonaws.com` &&
          (s.Condition['ForAnyValue:StringEquals']['kms:ResourceAliases'] as string[]).includes(
            config.names.cellKeyAlias,
          ),
      );
      expect(key.flatMap(actionsOf).sort(), region).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    }
    // The profiler is told which regions to read, and which table name to read there.
    const env = functions.find(([id]) => id.startsWith('ProfilerFunction'))![1].Properties.Environment as {
      Variables: Record<string, unknown>;
    };
    expect(env.Variables[CONTROL_PLANE_ENV.dataRegions]).toBe(config.dataRegions.join(','));
    expect(env.Variables[DATA_PLANE_ENV.accessStatsTable]).toBe(config.names.accessStatsTable);
  });

  it('grants the cell tables to exactly the MigratePartition steps whose comment lists them, in every data region', () => {
    const dataStore = [
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ];
    const movers: string[] = [];
    for (const name of MIGRATION_TASK_NAMES) {
      const fn = stacks.controlPlane.migratePartition.steps[name];
      const listsCellTables = /on the cell tables/.test(readFileSync(fn.entry, 'utf8'));
      const statements = statementsOf(`Migrate${name}`);
      const cellGrants = dynamoGrants(statements)['prestage-cell-*'];
      if (!listsCellTables) {
        expect(cellGrants, name).toBeUndefined();
        expect(JSON.stringify(statements), name).not.toContain('prestage-cell-*');
        continue;
      }
      movers.push(name);
      expect(cellGrants, name).toEqual(dataStore);
      const cellStatement = JSON.stringify(
        statements.filter((s) => JSON.stringify(s.Resource).includes('table/prestage-cell-*')),
      );
      for (const region of config.dataRegions) {
        expect(cellStatement, name).toContain(`:dynamodb:${region}:`);
        expect(cellStatement, name).toContain('table/prestage-cell-*/index/*');
      }
    }
    // Acquire, CanaryHealth, CutoverFence and Commit only touch the partition record (or an alarm).
    expect(movers.sort()).toEqual(
      [
        'CreateReplica',
        'Copy',
        'CatchUp',
        'Verify',
        'ShiftReads',
        'CutoverSwitch',
        'RemoveSource',
        'Rollback',
      ].sort(),
    );
  });

  it("gives ScaleCluster's steps the alarm names and threshold the cell stacks use, and its roles alarm grants by prefix only", () => {
    const env = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'prestage ScaleCluster step ParseRequest',
      Environment: { Variables: env },
    });
    const variables = env.asObject() as Record<string, string>;
    expect(variables).toMatchObject({
      [CONTROL_PLANE_ENV.capacityAlarmPrefix]: config.names.capacityAlarmPrefix,
      [DATA_PLANE_ENV.canaryAlarmPrefix]: config.names.canaryAlarmPrefix,
    });
    // ParseRequest reads the threshold back as the number the cell stacks use (cellAlarmSettings).
    expect(
      readControlPlaneConfig({
        [CONTROL_PLANE_ENV.scoresTable]: 'scores',
        [CONTROL_PLANE_ENV.plansTable]: 'plans',
        [CONTROL_PLANE_ENV.coordinationTable]: 'coordination',
        [CONTROL_PLANE_ENV.capacityAlarmThreshold]: variables[CONTROL_PLANE_ENV.capacityAlarmThreshold],
      }).capacityAlarmThreshold,
    ).toBe(cellAlarmSettings(config).capacityAlarmThreshold);

    const roleStatements = (prefix: string) =>
      ofType('AWS::IAM::Policy')
        .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${prefix}`))
        .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    const alarmGrants = (statements: Statement[]) =>
      statements.filter((s) => actionsOf(s).some((a) => a.startsWith('cloudwatch:')));
    const home = alarmGrants(roleStatements('ScaleClusterStateMachineRole'));
    const others = alarmGrants(roleStatements('CrossRegionAwsSdk'));
    const remote = config.dataRegions.filter((r) => r !== config.homeRegion);
    for (const [statements, regions] of [
      [home, [config.homeRegion]],
      [others, remote],
    ] as const) {
      expect(statements.flatMap(actionsOf).sort()).toEqual(
        regions
          .flatMap(() => [
            'cloudwatch:DeleteAlarms',
            'cloudwatch:PutMetricAlarm',
            'cloudwatch:PutMetricAlarm',
          ])
          .sort(),
      );
      for (const s of statements) {
        for (const resource of resourcesOf(s).map((r) => JSON.stringify(r))) {
          expect(resource).toMatch(/:alarm:prestage-cell-(capacity|errors)-\*"\]\]\}$/);
          expect(
            regions.some((r) => resource.includes(`:cloudwatch:${r}:`)),
            resource,
          ).toBe(true);
        }
      }
    }
  });

  it('logs every state machine at level ALL with execution data, and traces it with X-Ray', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');
    expect(machines.length).toBeGreaterThanOrEqual(1);
    for (const [id, machine] of machines) {
      expect(machine.Properties, id).toMatchObject({
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      });
    }
  });

  it('registers each configured cell in the cells table at deploy time, keeping a run-time status', () => {
    const registrations = ofType('Custom::AWS');
    expect(registrations).toHaveLength(3);
    const create = JSON.stringify(registrations.map(([, r]) => r.Properties.Create));
    for (const id of ['use1-a', 'use1-b', 'euw1-a']) {
      expect(create).toContain(`prestage-cell-${id}`);
    }
    expect(create).toContain('if_not_exists(#status, :active)');
  });

  it('sends alarms to the alarm topic and builds the dashboard', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
    for (const metric of [
      'MigrationsInFlight',
      'MigrationsRolledBack',
      'BytesMoved',
      'PlanMoves',
      'ForecastMASE',
    ]) {
      expect(body).toContain(metric);
    }
    expect(body).toContain('InterceptorLocalRequests');
    // One interceptor section per data region, its metrics read in that region (EMF and AWS/Lambda by name).
    for (const region of config.dataRegions) {
      expect(body).toContain(`Interceptor latency in ${region} (ms)`);
      expect(body).toContain(`PrestageEdge-${region}-interceptor`);
      expect(body).toMatch(new RegExp(`InterceptorLatency[^\\]]*region[^\\]]*${region}`));
    }
    expect(body).toContain('prestage-cell-euw1-a');
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThanOrEqual(2);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: expect.stringMatching(/^AlarmTopic/) }]);
    }
    const described = alarms.map(([, a]) => JSON.stringify(a.Properties));
    /** Alarms whose definition names this metric and mentions `resource` (a logical-id prefix). */
    const alarmOn = (metric: string, resource = '') =>
      described.filter((d) => d.includes(`"MetricName":"${metric}"`) && d.includes(`"${resource}`)).length;
    expect(alarmOn('MigrationsFailed')).toBe(1);
    expect(alarmOn('ExecutionsFailed', 'ExecutePlanStateMachine')).toBe(1);
    expect(alarmOn('ExecutionsFailed', 'MigratePartitionStateMachine')).toBe(1);
    expect(alarmOn('ExecutionsFailed', 'ScaleClusterStateMachine')).toBe(1);
    expect(alarmOn('Errors', 'ProfilerFunction')).toBe(1);
    expect(alarmOn('Errors', 'PlannerFunction')).toBe(1);
    // One alarm per dead-letter queue: profiler, planner, the schedule rule's and the alarm rule's.
    const queues = ofType('AWS::SQS::Queue').map(([id]) => id);
    expect(queues).toHaveLength(4);
    for (const queue of queues) {
      expect(alarmOn('ApproximateNumberOfMessagesVisible', `${queue}"`), queue).toBe(1);
    }
  });

  it('wires the EventBridge schedule to the profiler coordinator, with the schedule time and a dead-letter queue', () => {
    const target = new Capture();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      Targets: [target],
    });
    expect(target.asObject()).toMatchObject({
      Arn: { 'Fn::GetAtt': [expect.stringMatching(/^ProfilerFunction/), 'Arn'] },
      InputTransformer: { InputPathsMap: { time: '$.time' }, InputTemplate: '{"time":<time>}' },
      DeadLetterConfig: {
        Arn: { 'Fn::GetAtt': [expect.stringMatching(/^ProfilerScheduleRuleDeadLetters/), 'Arn'] },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ProfilerFunction'), 'Arn'] },
    });
  });

  it('wires capacity alarms (ALARM state, prestage names) to ScaleCluster', () => {
    const target = new Capture();
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        detail: { alarmName: [{ prefix: 'prestage-cell-capacity-' }], state: { value: ['ALARM'] } },
      },
      Targets: [target],
    });
    expect(target.asObject()).toMatchObject({
      Arn: { Ref: expect.stringMatching(/^ScaleClusterStateMachine/) },
      RoleArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      DeadLetterConfig: { Arn: expect.anything() },
    });
    expect(target.asObject().Input).toBeUndefined(); // the whole alarm event is the execution input
  });

  it('gives the asynchronously invoked profiler and planner a KMS-encrypted dead-letter queue they may write to', () => {
    for (const id of ['Profiler', 'Planner']) {
      const [logicalId, fn] = functions.find(([fnId]) => fnId.startsWith(`${id}Function`))!;
      const queue = (fn.Properties.DeadLetterConfig as { TargetArn: { 'Fn::GetAtt': string[] } }).TargetArn[
        'Fn::GetAtt'
      ][0];
      expect(queue, logicalId).toMatch(new RegExp(`^${id}DeadLetters`));
      expect(resources[queue].Properties.KmsMasterKeyId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^MessagingKey/), 'Arn'],
      });
      const statements = statementsOf(id);
      expect(statements.some((st) => actionsOf(st).includes('sqs:SendMessage'))).toBe(true);
      expect(
        statements.some(
          (st) =>
            actionsOf(st).includes('kms:GenerateDataKey') &&
            JSON.stringify(st.Resource).includes('MessagingKey'),
        ),
      ).toBe(true);
    }
  });

  it('reserves no concurrency by default (a new account’s quota of 10 allows none), and reserves it when asked', () => {
    const reserved = (fns: [string, Resource][], id: string) =>
      fns.find(([fnId]) => fnId.startsWith(`${id}Function`))![1].Properties.ReservedConcurrentExecutions;
    expect(config.reserveConcurrency).toBe(false);
    expect(reserved(functions, 'Profiler')).toBeUndefined();
    expect(reserved(functions, 'Planner')).toBeUndefined();
    const app = new App({ outdir: tempDir('prestage-cdk-'), context: { 'aws:cdk:bundling-stacks': [] } });
    const reserving = parsePrestageConfig({ ...CDK_CONTEXT, reserveConcurrency: true });
    const { controlPlane } = buildPrestageApp(app, reserving, '123456789012');
    const synthesized = app.synth().getStackByName(controlPlane.stackName).template as {
      Resources: Record<string, Resource>;
    };
    const all = Object.entries(synthesized.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(reserved(all, 'Profiler')).toBe(reserving.profiler.shards + 1);
    expect(reserved(all, 'Planner')).toBe(2);
  });

  it('lets the profiler invoke only itself and the planner, start only ScaleCluster, and read metrics', () => {
    const statements = statementsOf('Profiler');
    const invoke = statements.filter((st) => actionsOf(st).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    const invoked = JSON.stringify(invoke[0].Resource);
    expect(invoked).toContain(':function:PrestageControlPlane-profiler');
    expect(invoked).toMatch(/PlannerFunction[0-9A-F]{8}/);
    expect(resourcesOf(invoke[0])).toHaveLength(2);
    const start = statements.filter((st) => actionsOf(st).includes('states:StartExecution'));
    expect(start.map((st) => st.Resource)).toEqual([
      { Ref: expect.stringMatching(/^ScaleClusterStateMachine/) },
    ]);
    expect(
      statements
        .filter((st) => resourcesOf(st).includes('*'))
        .flatMap(actionsOf)
        .sort(),
    ).toEqual(['cloudwatch:GetMetricData', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(statements.flatMap(actionsOf).some((a) => a.startsWith('sagemaker:'))).toBe(false);
  });

  it('deploys after the cell stacks it names', () => {
    const dependencies = stacks.controlPlane.dependencies.map((s) => (s as Stack).stackName).sort();
    expect(dependencies).toEqual(config.dataRegions.map((r) => `PrestageCells-${r}`).sort());
  });

  /** Statements of the role of the PrestageFunction with construct id `id`. */
  function statementsOf(id: string): Statement[] {
    const policies = ofType('AWS::IAM::Policy').filter(([policyId]) =>
      policyId.startsWith(`${id}RoleDefaultPolicy`),
    );
    expect(policies, id).toHaveLength(1);
    return (policies[0][1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
  }

  /** DynamoDB actions by table (construct-id prefix for this stack's tables, name pattern for cell tables). */
  function dynamoGrants(statements: Statement[]): Record<string, string[]> {
    const grants: Record<string, Set<string>> = {};
    for (const s of statements) {
      const actions = actionsOf(s).filter((a) => a.startsWith('dynamodb:'));
      if (actions.length === 0) continue;
      for (const resource of resourcesOf(s)) {
        const text = JSON.stringify(resource);
        const key =
          /table\/prestage-cell-\*/.test(text) && !text.includes('/index/')
            ? 'prestage-cell-*'
            : /"(Tables[A-Za-z]+?)[0-9A-F]{8}"/.exec(text)?.[1];
        if (!key) continue;
        grants[key] ??= new Set();
        for (const a of actions) grants[key].add(a);
      }
    }
    return Object.fromEntries(Object.entries(grants).map(([k, v]) => [k, [...v].sort()]));
  }
});

describe('security checks (cdk-nag AwsSolutions + Serverless)', () => {
  it('fail synth on a finding, so the zero-findings check above can fail', () => {
    const app = new App({ outdir: tempDir('prestage-nag-') });
    addSecurityChecks(app);
    const stack = new Stack(app, 'Bad');
    new Table(stack, 'Plain', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    expect(() => app.synth()).toThrow(/AwsSolutions-DDB3/);
  });
});
