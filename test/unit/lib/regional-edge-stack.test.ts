import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ControlPlaneTables } from '../../../lib/control-plane-tables.ts';
import { parsePrestageConfig } from '../../../lib/prestage-config.ts';
import { REPO_ROOT } from '../../../lib/prestage-function.ts';
import {
  edgeStackName,
  INTERCEPTOR_ENTRY,
  interceptorFunctionName,
  RegionalEdgeStack,
} from '../../../lib/regional-edge-stack.ts';
import { DATA_PLANE_ENV, readDataPlaneConfig } from '../../../src/lambda/data-plane-config.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { CDK_CONTEXT, synthesizePrestage } from './prestage-synth.ts';

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Effect: string;
};
type Resource = { Type: string; Properties: Record<string, unknown> };

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/** `<table name>@<region>` of a DynamoDB resource ARN as the templates spell it (Fn::Join of partition and account). */
function tableAt(resource: unknown): string | undefined {
  const text = JSON.stringify(resource);
  const match = /:dynamodb:([a-z0-9-]+):"?,?\{?"?(?:Ref"?:"?AWS::AccountId"?\}?,?"?)?:table\/([^"]+)"/.exec(
    text,
  );
  return match ? `${match[2]}@${match[1]}` : undefined;
}

describe('RegionalEdgeStack (one per data region)', () => {
  const { config, stacks, edgeStacks, controlPlane } = synthesizePrestage();
  const home = config.homeRegion;
  const replicaRegions = config.dataRegions.filter((r) => r !== home);
  const resourcesIn = (region: string) =>
    Object.entries(edgeStacks.get(region)!.toJSON().Resources as Record<string, Resource>);
  const interceptorOf = (region: string) => {
    const stack = stacks.edgeStacks.get(region)!;
    const logicalId = stack.resolve(
      stack.getLogicalId(stack.interceptor.fn.node.defaultChild as CfnResource),
    );
    return [logicalId as string, Object.fromEntries(resourcesIn(region))[logicalId]] as const;
  };
  const statementsIn = (region: string) =>
    resourcesIn(region)
      .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('InterceptorRoleDefaultPolicy'))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);

  it('is one stack per data region, pinned to it, deployed after the control plane and its cell stack', () => {
    expect([...stacks.edgeStacks.keys()]).toEqual(config.dataRegions);
    for (const [region, stack] of stacks.edgeStacks) {
      expect(stack.stackName).toBe(`PrestageEdge-${region}`);
      expect(stack.stackName).toBe(edgeStackName(region));
      expect(stack.region).toBe(region);
      expect(stack.dependencies.map((s) => (s as Stack).stackName).sort()).toEqual(
        ['PrestageControlPlane', `PrestageCells-${region}`].sort(),
      );
    }
  });

  it('deploys an interceptor with an AWS_IAM Function URL in every data region, and outputs the URL', () => {
    for (const region of config.dataRegions) {
      const [logicalId, fn] = interceptorOf(region);
      expect(stacks.edgeStacks.get(region)!.interceptor.entry).toBe(INTERCEPTOR_ENTRY);
      expect(fn.Properties).toMatchObject({
        FunctionName: interceptorFunctionName(region),
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      const urls = resourcesIn(region).filter(([, r]) => r.Type === 'AWS::Lambda::Url');
      expect(urls, region).toHaveLength(1);
      expect(urls[0][1].Properties).toEqual({
        AuthType: 'AWS_IAM',
        TargetFunctionArn: { 'Fn::GetAtt': [logicalId, 'Arn'] },
      });
      const outputs = edgeStacks.get(region)!.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(outputs.InterceptorUrl.Value).toEqual({ 'Fn::GetAtt': [urls[0][0], 'FunctionUrl'] });
      // Nothing else in the stack is a Lambda: only the interceptor serves requests there.
      expect(resourcesIn(region).filter(([, r]) => r.Type === 'AWS::Lambda::Function')).toHaveLength(1);
    }
    expect(controlPlane.findResources('AWS::Lambda::Url')).toEqual({});
  });

  it('configures no header-derived region: the request region is AWS_REGION, which Lambda sets', () => {
    for (const region of config.dataRegions) {
      const [, fn] = interceptorOf(region);
      const env = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(Object.keys(env).sort()).toEqual(
        [
          'POWERTOOLS_SERVICE_NAME',
          'POWERTOOLS_METRICS_NAMESPACE',
          DATA_PLANE_ENV.partitionsTable,
          DATA_PLANE_ENV.cellsTable,
          DATA_PLANE_ENV.accessStatsTable,
          DATA_PLANE_ENV.homeRegion,
          DATA_PLANE_ENV.replicaRegions,
          DATA_PLANE_ENV.canaryAlarmPrefix,
          DATA_PLANE_ENV.leaseTtlMs,
          DATA_PLANE_ENV.maxRequestMs,
          DATA_PLANE_ENV.maxClockSkewMs,
          DATA_PLANE_ENV.indexLagMs,
          DATA_PLANE_ENV.shardsPerPartition,
        ].sort(),
      );
      // No variable names a region for requests (AWS_REGION is reserved: Lambda sets it to the function's region).
      expect(env.AWS_REGION).toBeUndefined();
      const regionValued = Object.entries(env).filter(([, v]) =>
        v.split(',').some((part) => config.dataRegions.includes(part) || /^[a-z]{2}-[a-z]+-\d$/.test(part)),
      );
      expect(regionValued.map(([k]) => k).sort()).toEqual(
        [DATA_PLANE_ENV.homeRegion, DATA_PLANE_ENV.replicaRegions].sort(),
      );
      // What the handler reads at cold start in this region: its own region, the home and the replica regions.
      const read = readDataPlaneConfig({ ...env, AWS_REGION: region });
      expect(read.region).toBe(region);
      expect(read.homeRegion).toBe(home);
      expect(read.replicaRegions).toEqual(replicaRegions);
      expect(read).toMatchObject({
        partitionsTable: config.names.partitionsTable,
        cellsTable: config.names.cellsTable,
        accessStatsTable: config.names.accessStatsTable,
        lease: config.routingLease,
      });
    }
    // The entry wires the interceptor from the environment alone, and the wiring builds its data API without the
    // local switches that honour `x-prestage-region` and `x-prestage-sample-weight`; its RoutingClient serves the
    // configuration's region (AWS_REGION).
    const entry = readFileSync(join(REPO_ROOT, INTERCEPTOR_ENTRY), 'utf8');
    expect(entry).toMatch(/export const handler = createInterceptorLambda\(readDataPlaneConfig\(\)\);/);
    const wiring = readFileSync(join(REPO_ROOT, 'src/lambda/interceptor-lambda.ts'), 'utf8');
    expect(DATA_PLANE_ENV.region).toBe('AWS_REGION');
    for (const source of [entry, wiring]) expect(source).not.toMatch(/honourRegionHeader|honourSampleWeight/);
    expect(wiring).toMatch(/new DataApi\(client, \{ logError \}\)/);
    expect(wiring).toMatch(/region: config\.region,/);
  });

  it('grants exactly the routing reads in its own region, routing writes in the home region, counts in its own region, and the cell tables', () => {
    for (const region of config.dataRegions) {
      const statements = statementsIn(region);
      const grants: Record<string, Set<string>> = {};
      for (const s of statements) {
        const actions = actionsOf(s).filter((a) => a.startsWith('dynamodb:'));
        if (actions.length === 0) continue;
        for (const resource of resourcesOf(s)) {
          const key = tableAt(resource);
          expect(key, JSON.stringify(resource)).toBeDefined();
          grants[key!] ??= new Set();
          for (const a of actions) grants[key!].add(a);
        }
      }
      const sorted = Object.fromEntries(Object.entries(grants).map(([k, v]) => [k, [...v].sort()]));
      const { partitionsTable, cellsTable, accessStatsTable, cellTablePrefix } = config.names;
      const expected: Record<string, string[]> = {
        [`${partitionsTable}@${home}`]: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        [`${cellsTable}@${region}`]: ['dynamodb:GetItem', 'dynamodb:Scan'],
        [`${accessStatsTable}@${region}`]: ['dynamodb:UpdateItem'],
        ...Object.fromEntries(
          config.dataRegions.map((r) => [
            `${cellTablePrefix}*@${r}`,
            ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          ]),
        ),
      };
      // Outside the home region the replica is read, never written.
      if (region !== home) expected[`${partitionsTable}@${region}`] = ['dynamodb:GetItem'];
      expect(sorted, region).toEqual(expected);
    }
  });

  it('uses keys only through DynamoDB, only by alias: the replica’s in its region, the control-plane key in the home region', () => {
    for (const region of config.dataRegions) {
      const kms = statementsIn(region).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
      const pairs = new Set<string>();
      for (const s of kms) {
        const via = s.Condition?.StringEquals?.['kms:ViaService'] as string;
        const aliases = s.Condition?.['ForAnyValue:StringEquals']?.['kms:ResourceAliases'] as string[];
        expect(via, JSON.stringify(s)).toMatch(/^dynamodb\.[a-z0-9-]+\.amazonaws\.com$/);
        expect(aliases).toHaveLength(1);
        const keyRegion = via.split('.')[1];
        // The key/* resource is in the region the condition names.
        expect(JSON.stringify(s.Resource)).toContain(`:kms:${keyRegion}:`);
        expect(JSON.stringify(s.Resource)).toContain(':key/*');
        pairs.add(`${keyRegion} ${aliases[0]}`);
      }
      expect([...pairs].sort(), region).toEqual(
        [
          `${home} ${config.names.controlPlaneKeyAlias}`,
          ...config.dataRegions.map((r) => `${r} ${config.names.cellKeyAlias}`),
        ].sort(),
      );
      // No other resource-wide grant than X-Ray's.
      const star = statementsIn(region).filter((s) => resourcesOf(s).includes('*'));
      expect(star.flatMap(actionsOf).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
  });

  it('refuses a region that is not a data region, or an env.region that is not the region it serves', () => {
    const config = parsePrestageConfig(CDK_CONTEXT);
    const app = new App({ outdir: tempDir('prestage-cdk-') });
    expect(
      () =>
        new RegionalEdgeStack(app, 'Stray', {
          env: { region: 'ap-south-1' },
          config,
          region: 'ap-south-1',
        }),
    ).toThrow(/ap-south-1 is not one of the data regions/);
    expect(
      () =>
        new RegionalEdgeStack(app, 'Elsewhere', {
          env: { region: 'us-east-1' },
          config,
          region: 'eu-west-1',
        }),
    ).toThrow(/env.region must be the region it serves, eu-west-1 \(found us-east-1\)/);
    expect(() => new RegionalEdgeStack(app, 'Agnostic', { config, region: 'eu-west-1' })).toThrow(
      /env.region must be the region it serves/,
    );
    expect(
      () => new ControlPlaneTables(new Stack(app, 'Away', { env: { region: 'eu-west-1' } }), 'T', { config }),
    ).toThrow(/written in the home region us-east-1/);
  });
});
