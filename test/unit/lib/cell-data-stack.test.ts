import { App } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CANARY_ERRORS_PER_MINUTE, CellDataStack, cellAlarmSettings } from '../../../lib/cell-data-stack.ts';
import { dataStackName } from '../../../lib/prestage-app.ts';
import { parsePrestageConfig } from '../../../lib/prestage-config.ts';
import { addSecurityChecks } from '../../../lib/security-checks.ts';
import {
  accessStatsTableDefinition,
  cellDataTableDefinition,
} from '../../../src/adapters/dynamodb/table-definitions.ts';
import { cellAlarmDefinitions } from '../../../src/scaling/cell-alarm-definitions.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';
import { CDK_CONTEXT } from './prestage-synth.ts';

/** Only the cell stacks (no Lambdas), with the cdk-nag packs: a finding fails the synth. */
function synthesizeDataStacks() {
  const app = new App({ outdir: suiteTempDir('prestage-cells-') });
  addSecurityChecks(app);
  const config = parsePrestageConfig(CDK_CONTEXT);
  const stacks = new Map(
    config.dataRegions.map((region) => [
      region,
      new CellDataStack(app, dataStackName(region), {
        env: { account: '123456789012', region },
        config,
        region,
      }),
    ]),
  );
  const assembly = app.synth();
  const dataStacks = new Map(
    [...stacks].map(([region, stack]) => [
      region,
      Template.fromJSON(assembly.getStackByName(stack.stackName).template),
    ]),
  );
  return { config, stacks: { dataStacks: stacks }, dataStacks };
}

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string[];
};

/** A key by its alias ARN in a region of the test account, as the templates spell it. */
const aliasArn = (region: string, alias: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:kms:${region}:123456789012:${alias}`]],
});

describe('CellDataStack (one per data region)', () => {
  const { dataStacks, config, stacks } = synthesizeDataStacks();
  const resourcesOf = (region: string) =>
    Object.values(dataStacks.get(region)!.toJSON().Resources as Record<string, Resource>);

  it('is one stack per data region, pinned to that region', () => {
    expect([...dataStacks.keys()]).toEqual(config.dataRegions);
    for (const [region, stack] of stacks.dataStacks) expect(stack.region).toBe(region);
  });

  it("creates each cell's table with cellDataTableDefinition's schema, the changes index, TTL, PITR and the region's CMK", () => {
    for (const region of config.dataRegions) {
      const template = dataStacks.get(region)!;
      const cells = config.cells[region];
      // The cells and the region's access-stats table.
      template.resourceCountIs('AWS::DynamoDB::Table', cells.length + 1);
      for (const cell of cells) {
        const definition = cellDataTableDefinition(`prestage-cell-${cell.id}`);
        template.hasResource('AWS::DynamoDB::Table', {
          DeletionPolicy: 'Retain',
          Properties: {
            TableName: definition.TableName,
            KeySchema: definition.KeySchema,
            AttributeDefinitions: Match.arrayWith(definition.AttributeDefinitions!),
            GlobalSecondaryIndexes: [
              {
                IndexName: 'changes',
                KeySchema: definition.GlobalSecondaryIndexes![0].KeySchema,
                Projection: { ProjectionType: 'KEYS_ONLY' },
              },
            ],
            BillingMode: 'PAY_PER_REQUEST',
            TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            SSESpecification: {
              SSEEnabled: true,
              SSEType: 'KMS',
              // By alias, as ScaleCluster's cells and the grants name it (see the destroy/redeploy test).
              KMSMasterKeyId: aliasArn(region, 'alias/prestage-cells'),
            },
          },
        });
      }
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/prestage-cells',
        TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CellKey'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    }
  });

  it("gives each data region its own access-stats table: fixed name, TTL, PITR, the region's cell key, deleted with the stack", () => {
    for (const region of config.dataRegions) {
      const definition = accessStatsTableDefinition(config.names.accessStatsTable);
      const template = dataStacks.get(region)!;
      const tables = resourcesOf(region).filter(
        (r) => r.Type === 'AWS::DynamoDB::Table' && r.Properties.TableName === definition.TableName,
      );
      expect(tables, region).toHaveLength(1);
      expect(tables[0].Properties).toMatchObject({
        KeySchema: definition.KeySchema,
        AttributeDefinitions: definition.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: aliasArn(region, 'alias/prestage-cells'),
        },
      });
      // Counts expire: the table goes with the stack instead of blocking the next deploy under its fixed name.
      expect(tables[0].DeletionPolicy).toBe('Delete');
      expect(template.toJSON().Outputs ?? {}).toEqual({});
    }
  });

  it('survives cdk destroy + redeploy: the retained tables and their key alias are adoptable, and find their key by alias', () => {
    for (const region of config.dataRegions) {
      const all = Object.entries(dataStacks.get(region)!.toJSON().Resources as Record<string, Resource>);
      const retained = all.filter(([, r]) => r.DeletionPolicy === 'Retain');
      const [aliasId] = all.find(([, r]) => r.Type === 'AWS::KMS::Alias')!;
      const cellTables = all.filter(
        ([, r]) =>
          r.Type === 'AWS::DynamoDB::Table' &&
          String(r.Properties.TableName).startsWith(config.names.cellTablePrefix),
      );
      expect(cellTables).toHaveLength(config.cells[region].length);
      // What stays after `cdk destroy`: the cell tables (the data), the key and its alias; nothing else.
      expect(retained.map(([, r]) => r.Type).sort(), region).toEqual(
        [...cellTables.map(() => 'AWS::DynamoDB::Table'), 'AWS::KMS::Alias', 'AWS::KMS::Key'].sort(),
      );
      for (const [id, resource] of retained) {
        expect(resource.UpdateReplacePolicy, id).toBe('Retain');
        if (resource.Type === 'AWS::KMS::Key') continue; // no name: a redeploy creates a new, unused key
        // `cdk deploy --import-existing-resources` adopts a resource with a static name and DeletionPolicy
        // Retain; a name built with Ref or Fn::Join would be created anew and collide.
        const name = resource.Properties.TableName ?? resource.Properties.AliasName;
        expect(typeof name, id).toBe('string');
      }
      for (const [id, table] of cellTables) {
        // An adopted table stays encrypted with the retained key, which only the adopted alias still names: the
        // table names its key by the alias (and the grants do too), never by the new stack key's ARN.
        expect((table.Properties.SSESpecification as { KMSMasterKeyId: unknown }).KMSMasterKeyId, id).toEqual(
          aliasArn(region, config.names.cellKeyAlias),
        );
        expect(table.DependsOn, id).toContain(aliasId);
      }
    }
  });

  it('alarms on each cell under the names ScaleCluster and the canary health check look up', () => {
    for (const region of config.dataRegions) {
      const alarms = resourcesOf(region).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      const byName = new Map(alarms.map((a) => [a.Properties.AlarmName as string, a.Properties]));
      expect(alarms).toHaveLength(2 * config.cells[region].length);
      for (const cell of config.cells[region]) {
        const capacity = byName.get(`prestage-cell-capacity-${cell.id}`);
        expect(capacity, cell.id).toMatchObject({
          Threshold: cell.capacityOpsPerSec * config.scaling.capacityAlarmThreshold,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        });
        const capacityMetrics = JSON.stringify(capacity!.Metrics);
        expect(capacityMetrics).toContain('ConsumedReadCapacityUnits');
        expect(capacityMetrics).toContain('ConsumedWriteCapacityUnits');
        expect(capacityMetrics).toContain(`prestage-cell-${cell.id}`);
        expect(capacityMetrics).toContain('(reads + writes) / PERIOD(reads)');

        const canary = byName.get(`prestage-cell-errors-${cell.id}`);
        expect(canary, cell.id).toMatchObject({
          Threshold: CANARY_ERRORS_PER_MINUTE,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
        });
        const canaryMetrics = JSON.stringify(canary!.Metrics);
        expect(canaryMetrics).toContain('SystemErrors');
        expect(canaryMetrics).toContain('ReadThrottleEvents');
        expect(canaryMetrics).toContain(`prestage-cell-${cell.id}`);
      }
    }
  });

  it("defines each cell's alarms exactly as ScaleCluster does for the cells it creates (one shared definition)", () => {
    for (const region of config.dataRegions) {
      const alarms = resourcesOf(region).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      const byName = new Map(alarms.map((a) => [a.Properties.AlarmName as string, a.Properties]));
      for (const cell of config.cells[region]) {
        const expected = cellAlarmDefinitions(
          { cellId: cell.id, table: `prestage-cell-${cell.id}`, capacityOpsPerSec: cell.capacityOpsPerSec },
          cellAlarmSettings(config),
        );
        // The template's properties are the PutMetricAlarm input, field for field.
        expect(byName.get(expected.capacity.AlarmName), cell.id).toEqual(expected.capacity);
        expect(byName.get(expected.canary.AlarmName), cell.id).toEqual(expected.canary);
      }
    }
  });

  it('forwards capacity alarms to the home region’s default bus from every other region, by ARN', () => {
    for (const region of config.dataRegions) {
      const template = dataStacks.get(region)!;
      if (region === config.homeRegion) {
        template.resourceCountIs('AWS::Events::Rule', 0);
        continue;
      }
      const target = new Capture();
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.cloudwatch'],
          'detail-type': ['CloudWatch Alarm State Change'],
          detail: { alarmName: [{ prefix: 'prestage-cell-capacity-' }], state: { value: ['ALARM'] } },
        },
        Targets: [
          Match.objectLike({
            Arn: target,
            DeadLetterConfig: { Arn: Match.anyValue() },
            RoleArn: Match.anyValue(),
          }),
        ],
      });
      expect(JSON.stringify(target.asObject())).toBe(
        JSON.stringify({
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              `:events:${config.homeRegion}:123456789012:event-bus/default`,
            ],
          ],
        }),
      );
      const arns = JSON.stringify(template.toJSON());
      expect(arns).not.toContain('Fn::ImportValue');
    }
  });
});
