import type { CfnResource } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { parsePrestageConfig } from '../../../lib/prestage-config.ts';
import {
  DEFAULT_EVENTS_TABLE,
  eventsTableDefinition,
} from '../../../src/adapters/dynamodb/event-repository.ts';
import { CONTROL_PLANE_ENV } from '../../../src/lambda/control-plane-env.ts';
import { CDK_CONTEXT, synthesizePrestage } from './prestage-synth.ts';

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string[];
};
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The known-events table of the control plane: where operators keep events and the profiler reads them. */
describe('the events table', () => {
  const { controlPlane: template, config, stacks } = synthesizePrestage();
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const [eventsId, events] = Object.entries(resources).find(
    ([id, r]) => r.Type === 'AWS::DynamoDB::GlobalTable' && id.startsWith('TablesEvents'),
  )!;
  const logicalIdOf = (fnId: string) =>
    stacks.controlPlane.resolve(
      stacks.controlPlane.getLogicalId(
        stacks.controlPlane.functions.get(fnId)!.fn.node.defaultChild as CfnResource,
      ),
    ) as string;
  const envOf = (logicalId: string) =>
    (resources[logicalId].Properties.Environment as { Variables: Record<string, unknown> }).Variables;

  it('has the fixed name and key schema of eventsTableDefinition, on demand, in the home region only, with PITR and TTL', () => {
    const definition = eventsTableDefinition(DEFAULT_EVENTS_TABLE);
    expect(config.names.eventsTable).toBe(DEFAULT_EVENTS_TABLE);
    expect(events.Properties).toMatchObject({
      TableName: DEFAULT_EVENTS_TABLE,
      KeySchema: definition.KeySchema,
      AttributeDefinitions: definition.AttributeDefinitions,
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    const replicas = events.Properties.Replicas as {
      Region: string;
      PointInTimeRecoverySpecification: unknown;
    }[];
    expect(replicas.map((r) => [r.Region, r.PointInTimeRecoverySpecification])).toEqual([
      [config.homeRegion, { PointInTimeRecoveryEnabled: true }],
    ]);
  });

  it('is encrypted with the customer-managed control-plane key, named by its alias, and retained for a redeploy to adopt', () => {
    expect(events.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
    const [replica] = events.Properties.Replicas as { SSESpecification: { KMSMasterKeyId: unknown } }[];
    expect(JSON.stringify(replica.SSESpecification.KMSMasterKeyId)).toBe(
      JSON.stringify({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            `:kms:${config.homeRegion}:123456789012:${config.names.controlPlaneKeyAlias}`,
          ],
        ],
      }),
    );
    // The alias targets the customer-managed key with rotation that the other control-plane tables use.
    const [, alias] = Object.entries(resources).find(([id]) => id.startsWith('TablesKeyAlias'))!;
    expect(alias.Properties.AliasName).toBe(config.names.controlPlaneKeyAlias);
    const keyId = (alias.Properties.TargetKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resources[keyId]).toMatchObject({
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true },
    });
    expect(events.DependsOn).toEqual([expect.stringMatching(/^TablesKeyAlias/)]);
    expect([events.DeletionPolicy, events.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });

  it('is read by the profiler only (Scan), written by no Lambda, and named to the profiler only', () => {
    const grants: [string, string[]][] = [];
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::IAM::Policy') continue;
      for (const statement of (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        if (JSON.stringify(statement.Resource).includes(eventsId)) grants.push([id, actionsOf(statement)]);
    }
    expect(grants).toEqual([[expect.stringMatching(/^ProfilerRoleDefaultPolicy/), ['dynamodb:Scan']]]);
    // Its key through DynamoDB in the home region, by alias (the statement every alias-keyed table shares).
    const profilerPolicy = Object.entries(resources).find(([id]) =>
      id.startsWith('ProfilerRoleDefaultPolicy'),
    )![1];
    const keyUse = (profilerPolicy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter(
      (s) =>
        s.Condition?.StringEquals?.['kms:ViaService'] === `dynamodb.${config.homeRegion}.amazonaws.com` &&
        (s.Condition['ForAnyValue:StringEquals']['kms:ResourceAliases'] as string[]).includes(
          config.names.controlPlaneKeyAlias,
        ),
    );
    expect(keyUse.flatMap(actionsOf)).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:DescribeKey']));

    const told = [...stacks.controlPlane.functions.keys()].filter(
      (id) => envOf(logicalIdOf(id))[CONTROL_PLANE_ENV.eventsTable] !== undefined,
    );
    expect(told).toEqual(['Profiler']);
    expect(envOf(logicalIdOf('Profiler'))[CONTROL_PLANE_ENV.eventsTable]).toEqual({ Ref: eventsId });
    // The embedded model by default: no DeepAR dynamic_feat.
    expect(envOf(logicalIdOf('Profiler'))[CONTROL_PLANE_ENV.forecastEventFeature]).toBe('false');
  });

  it('is an output of the stack, for `prestage events --table`', () => {
    expect(template.toJSON().Outputs.EventsTableName.Value).toEqual({ Ref: eventsId });
  });
});

describe('forecastModel.eventFeature', () => {
  const withModel = (forecastModel: unknown) => parsePrestageConfig({ ...CDK_CONTEXT, forecastModel });

  it('says a DeepAR model was trained with the event feature, and is refused for Chronos, naming the key', () => {
    expect(
      withModel({ kind: 'sagemaker', endpointName: 'demand', contract: 'deepar', eventFeature: true })
        .forecastModel,
    ).toMatchObject({ eventFeature: true });
    expect(
      withModel({ kind: 'sagemaker', endpointName: 'demand', contract: 'deepar' }).forecastModel,
    ).toMatchObject({
      eventFeature: false,
    });
    expect(() =>
      withModel({ kind: 'sagemaker', endpointName: 'demand', contract: 'chronos', eventFeature: true }),
    ).toThrow(/forecastModel\.eventFeature.*Chronos gets known events as covariates/);
    expect(() =>
      withModel({ kind: 'sagemaker', endpointName: 'demand', contract: 'deepar', eventFeature: 'yes' }),
    ).toThrow(/forecastModel\.eventFeature/);
  });

  it('reaches the profiler as PRESTAGE_FORECAST_EVENT_FEATURE', () => {
    const { controlPlane, stacks } = synthesizePrestage({
      ...CDK_CONTEXT,
      forecastModel: { kind: 'sagemaker', endpointName: 'demand', contract: 'deepar', eventFeature: true },
    });
    const fn = stacks.controlPlane.functions.get('Profiler')!;
    const id = stacks.controlPlane.resolve(
      stacks.controlPlane.getLogicalId(fn.fn.node.defaultChild as CfnResource),
    );
    const variables = (
      controlPlane.toJSON().Resources[id].Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables[CONTROL_PLANE_ENV.forecastEventFeature]).toBe('true');
  });
});
