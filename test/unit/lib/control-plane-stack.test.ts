import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { ControlPlaneStack } from '../../../lib/control-plane-stack.ts';
import { addSecurityChecks } from '../../../lib/security-checks.ts';

describe('ControlPlaneStack', () => {
  const template = Template.fromStack(new ControlPlaneStack(new App(), 'Test'));

  it('encrypts every table with the customer-managed key and enables point-in-time recovery', () => {
    const tables = template.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(4);
    template.allResourcesProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('retains the tables when the stack is deleted', () => {
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('security checks (cdk-nag AwsSolutions + Serverless)', () => {
  const synthWithChecks = (build: (app: App) => void) => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'prestage-nag-')) });
    addSecurityChecks(app);
    build(app);
    return () => app.synth();
  };

  it('passes with zero unacknowledged findings', () => {
    expect(synthWithChecks((app) => new ControlPlaneStack(app, 'Nag'))).not.toThrow();
  });

  it('fails synth on a finding, so the check above can fail', () => {
    const synth = synthWithChecks((app) => {
      const stack = new Stack(app, 'Bad');
      new Table(stack, 'Plain', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    });
    expect(synth).toThrow(/AwsSolutions-DDB3/);
  });
});
