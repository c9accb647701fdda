import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { PrestageFunction } from '../../../lib/prestage-function.ts';
import { suiteTempDir } from '../../support/temp-dir.ts';

/** One real bundle, as `cdk synth` builds it: local esbuild, no Docker. */
describe('PrestageFunction', () => {
  const outdir = suiteTempDir('prestage-bundle-');
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundle', { env: { region: 'eu-west-1' } });
  new PrestageFunction(stack, 'Interceptor', {
    entry: 'functions/interceptor/handler.ts',
    description: 'bundling test',
    serviceName: 'prestage-test',
    logRetention: RetentionDays.ONE_WEEK,
    environment: { EXTRA: 'yes' },
  });
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName('Bundle').template);

  it('bundles the entry locally as a minified ESM module with `require` defined and the AWS SDK left out', () => {
    const assetDirs = readdirSync(outdir).filter((d) => d.startsWith('asset.'));
    expect(assetDirs).toHaveLength(1);
    const files = readdirSync(join(outdir, assetDirs[0]));
    expect(files).toEqual(['index.mjs']);
    const code = readFileSync(join(outdir, assetDirs[0], 'index.mjs'), 'utf8');
    expect(code.startsWith("import{createRequire as __prestageCreateRequire}from'node:module';")).toBe(true);
    expect(/from\s*"@aws-sdk\/client-dynamodb"/.test(code)).toBe(true); // external: the runtime's SDK
    expect(code.includes('DynamoDBClient=class')).toBe(false);
    const lines = code.split('\n').length;
    expect(lines, 'minified: few, very long lines').toBeLessThan(code.length / 1000);
    expect(/export\s*\{[^}]*as handler/.test(code)).toBe(true);
    expect(code.includes('sourceMappingURL')).toBe(false);
  });

  it('runs on Node 24 and arm64 with X-Ray, a retained log group, Powertools settings and its own role', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      MemorySize: 512,
      Timeout: 30,
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: 'prestage-test',
          POWERTOOLS_METRICS_NAMESPACE: 'Prestage',
          EXTRA: 'yes',
        },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.resourceCountIs('AWS::IAM::Role', 1);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as {
      Action: string[];
      Resource: unknown;
    }[];
    expect(statements[0]).toMatchObject({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^InterceptorLogs/), 'Arn'] },
    });
    expect(template.findResources('AWS::IAM::ManagedPolicy')).toEqual({});
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});
