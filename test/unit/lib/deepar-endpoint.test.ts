import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { DeepArEndpoint } from '../../../lib/deepar-endpoint.ts';
import { deepArImageUri } from '../../../lib/deepar-image.ts';
import { CONTROL_PLANE_ENV } from '../../../src/lambda/control-plane-env.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { CDK_CONTEXT, synthesizePrestage } from './prestage-synth.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

function stackIn(region: string) {
  return new Stack(new App({ outdir: tempDir('prestage-cdk-') }), 'Forecast', {
    env: { account: '123456789012', region },
  });
}

function statementsOf(template: Template, rolePrefix: string): Statement[] {
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(rolePrefix))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('DeepArEndpoint', () => {
  it('hosts a model artifact on the regional DeepAR image behind a KMS-encrypted endpoint config', () => {
    const stack = stackIn('eu-west-1');
    const endpoint = new DeepArEndpoint(stack, 'Deepar', {
      modelDataUrl: 's3://models-bucket/deepar/output/model.tar.gz',
      instanceType: 'ml.m5.large',
    });
    const caller = new Role(stack, 'Caller', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    endpoint.grantInvoke(caller);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: {
        Image: '224300973850.dkr.ecr.eu-west-1.amazonaws.com/forecasting-deepar:1',
        ModelDataUrl: 's3://models-bucket/deepar/output/model.tar.gz',
      },
      ExecutionRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeeparExecutionRole'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeeparVolumeKey'), 'Arn'] },
      ProductionVariants: [
        Match.objectLike({ InstanceType: 'ml.m5.large', InitialInstanceCount: 1, VariantName: 'AllTraffic' }),
      ],
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'prestage-deepar' });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });

    const execution = statementsOf(template, 'DeeparExecutionRole');
    expect(execution.find((s) => s.Action === 's3:GetObject')?.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::models-bucket/deepar/output/model.tar.gz']],
    });
    const pull = execution.find((s) => Array.isArray(s.Action) && s.Action.includes('ecr:BatchGetImage'));
    expect(JSON.stringify(pull?.Resource)).toContain(
      ':ecr:eu-west-1:224300973850:repository/forecasting-deepar',
    );
    const metrics = execution.find((s) => s.Action === 'cloudwatch:PutMetricData');
    expect(metrics?.Condition).toEqual({
      StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/Endpoints', 'AWS/SageMaker'] },
    });

    expect(statementsOf(template, 'CallerDefaultPolicy')).toEqual([
      {
        Action: 'sagemaker:InvokeEndpoint',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':sagemaker:eu-west-1:123456789012:endpoint/prestage-deepar'],
          ],
        },
      },
    ]);
  });

  it('grants InvokeEndpoint on exactly an existing endpoint (SageMaker ARNs are lower case)', () => {
    const stack = stackIn('us-east-1');
    const caller = new Role(stack, 'Caller', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    DeepArEndpoint.fromEndpointName(stack, 'Existing', 'Chronos-Bolt-Small').grantInvoke(caller);
    expect(JSON.stringify(statementsOf(Template.fromStack(stack), 'CallerDefaultPolicy'))).toContain(
      ':sagemaker:us-east-1:123456789012:endpoint/chronos-bolt-small"',
    );
    expect(() => DeepArEndpoint.fromEndpointName(stack, 'Bad', 'no_underscores')).toThrow(
      /'no_underscores' is not a SageMaker endpoint name/,
    );
  });

  it('refuses an artifact that is not an S3 URI and a region without a DeepAR image, saying what to do', () => {
    expect(
      () => new DeepArEndpoint(stackIn('us-east-1'), 'E', { modelDataUrl: 'https://x/model.tar.gz' }),
    ).toThrow(/modelDataUrl 'https:\/\/x\/model.tar.gz' is not an S3 URI; use e\.g\. s3:\/\//);
    expect(
      () => new DeepArEndpoint(stackIn('ap-southeast-7'), 'E', { modelDataUrl: 's3://b/m.tar.gz' }),
    ).toThrow(/no built-in DeepAR image in ap-southeast-7/);
    expect(deepArImageUri('cn-north-1')).toBe(
      '390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/forecasting-deepar:1',
    );
  });
});

describe('the control plane with a hosted forecast model', () => {
  const hosted = synthesizePrestage({
    ...CDK_CONTEXT,
    forecastModel: { kind: 'deepar-endpoint', modelDataUrl: 's3://models-bucket/deepar/model.tar.gz' },
  });

  it('deploys the DeepAR endpoint with the stack, passes cdk-nag, and points the profiler at it', () => {
    hosted.controlPlane.resourceCountIs('AWS::SageMaker::Endpoint', 1);
    hosted.controlPlane.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^prestage profiler'),
      Environment: {
        Variables: Match.objectLike({
          [CONTROL_PLANE_ENV.forecastModel]: 'sagemaker',
          [CONTROL_PLANE_ENV.sagemakerEndpoint]: 'prestage-deepar',
          [CONTROL_PLANE_ENV.forecastContract]: 'deepar',
        }),
      },
    });
    const profiler = statementsOf(hosted.controlPlane, 'ProfilerRoleDefaultPolicy');
    const invoke = profiler.filter((s) => s.Action === 'sagemaker:InvokeEndpoint');
    expect(invoke).toHaveLength(1);
    expect(JSON.stringify(invoke[0].Resource)).toContain(
      ':sagemaker:us-east-1:123456789012:endpoint/prestage-deepar"',
    );
    // Nobody else may call the endpoint.
    const others = Object.entries(hosted.controlPlane.findResources('AWS::IAM::Policy'))
      .filter(([id]) => !id.startsWith('ProfilerRoleDefaultPolicy'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(others.some((s) => JSON.stringify(s.Action).includes('sagemaker:'))).toBe(false);
  });
});
