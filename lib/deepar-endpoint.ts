import { ArnFormat, Aws, Stack, Token, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import { CfnEndpoint, CfnEndpointConfig, CfnModel } from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { deepArImageUri } from './deepar-image.ts';
import { nagAccount } from './nag-acknowledgements.ts';

/** A SageMaker endpoint the profiler scores through. */
export interface IForecastEndpoint {
  readonly endpointName: string;
  /** Grant `sagemaker:InvokeEndpoint` on exactly this endpoint. */
  grantInvoke(grantee: IGrantable): Grant;
}

export interface DeepArEndpointProps {
  /** `s3://bucket/key/model.tar.gz`: the artifact of a SageMaker DeepAR training job. */
  readonly modelDataUrl: string;
  /** @default 'ml.c5.large' */
  readonly instanceType?: string;
  /** @default 1 */
  readonly instanceCount?: number;
  /** @default 'prestage-deepar' */
  readonly endpointName?: string;
  /**
   * Encrypts the endpoint's ML storage volume. Instance types with local NVMe storage (`ml.*d.*`) refuse a key.
   * @default a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: IKey;
}

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;
const ENDPOINT_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** SageMaker ARNs carry the resource name in lower case. */
function endpointArn(scope: Construct, endpointName: string): string {
  const name = Token.isUnresolved(endpointName) ? endpointName : endpointName.toLowerCase();
  return Stack.of(scope).formatArn({ service: 'sagemaker', resource: 'endpoint', resourceName: name });
}

class ExistingForecastEndpoint extends Construct implements IForecastEndpoint {
  readonly endpointName: string;

  constructor(scope: Construct, id: string, endpointName: string) {
    super(scope, id);
    this.endpointName = endpointName;
  }

  grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [endpointArn(this, this.endpointName)],
    });
  }
}

/**
 * A SageMaker DeepAR endpoint built from a trained model artifact: a model on the region's built-in DeepAR image
 * (forecasting-deepar:1), an endpoint configuration with a KMS-encrypted volume, and the endpoint. Or, with
 * `DeepArEndpoint.fromEndpointName`, an endpoint that already exists (any model speaking the DeepAR or Chronos
 * contract).
 */
export class DeepArEndpoint extends Construct implements IForecastEndpoint {
  /** An existing endpoint, by name. */
  static fromEndpointName(scope: Construct, id: string, endpointName: string): IForecastEndpoint {
    if (!Token.isUnresolved(endpointName) && !ENDPOINT_NAME.test(endpointName)) {
      throw new Error(
        `DeepArEndpoint: '${endpointName}' is not a SageMaker endpoint name; use e.g. prestage-deepar`,
      );
    }
    return new ExistingForecastEndpoint(scope, id, endpointName);
  }

  readonly endpointName: string;
  readonly role: Role;
  readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: DeepArEndpointProps) {
    super(scope, id);
    const artifact = S3_URI.exec(props.modelDataUrl);
    if (!artifact) {
      throw new Error(
        `DeepArEndpoint: modelDataUrl '${props.modelDataUrl}' is not an S3 URI; use e.g. s3://my-bucket/deepar/output/model.tar.gz`,
      );
    }
    const region = Stack.of(this).region;
    if (Token.isUnresolved(region)) {
      throw new Error(
        'DeepArEndpoint: the stack needs an explicit region (env.region) to pick the DeepAR image',
      );
    }
    const image = deepArImageUri(region);
    if (!image) throw new Error(`DeepArEndpoint: SageMaker has no built-in DeepAR image in ${region}`);
    this.endpointName = props.endpointName ?? 'prestage-deepar';
    if (!ENDPOINT_NAME.test(this.endpointName)) {
      throw new Error(
        `DeepArEndpoint: '${this.endpointName}' is not a SageMaker endpoint name; use e.g. prestage-deepar`,
      );
    }

    // The execution role SageMaker assumes to host the model (the CreateModel execution-role permissions).
    this.role = new Role(this, 'ExecutionRole', {
      assumedBy: new ServicePrincipal('sagemaker.amazonaws.com'),
      description:
        'prestage DeepAR endpoint: reads the model artifact, pulls the DeepAR image, writes its logs',
    });
    const [bucket, key] = [artifact[1], artifact[2]];
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [`arn:${Aws.PARTITION}:s3:::${bucket}/${key}`],
      }),
    );
    const registry = image.split('.')[0];
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [`arn:${Aws.PARTITION}:ecr:${region}:${registry}:repository/forecasting-deepar`],
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [
          'logs:CreateLogGroup',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'logs:DescribeLogStreams',
        ],
        resources: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `/aws/sagemaker/Endpoints/${this.endpointName}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/Endpoints', 'AWS/SageMaker'] } },
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken and cloudwatch:PutMetricData allow no resource-level permissions; PutMetricData is limited to the SageMaker namespaces by condition',
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${region}:${nagAccount(this)}:log-group:/aws/sagemaker/Endpoints/${this.endpointName}:*]`,
      reason: "The endpoint's own log group and its streams",
    });

    this.encryptionKey =
      props.encryptionKey ??
      new Key(this, 'VolumeKey', { enableKeyRotation: true, description: 'prestage DeepAR endpoint volume' });

    const model = new CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: { image, modelDataUrl: props.modelDataUrl },
    });
    model.node.addDependency(this.role);
    const endpointConfig = new CfnEndpointConfig(this, 'EndpointConfig', {
      kmsKeyId: this.encryptionKey.keyArn,
      productionVariants: [
        {
          variantName: 'AllTraffic',
          modelName: model.attrModelName,
          initialInstanceCount: props.instanceCount ?? 1,
          instanceType: props.instanceType ?? 'ml.c5.large',
          initialVariantWeight: 1,
        },
      ],
    });
    new CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: endpointConfig.attrEndpointConfigName,
    });
  }

  grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint'],
      resourceArns: [endpointArn(this, this.endpointName)],
    });
  }
}
