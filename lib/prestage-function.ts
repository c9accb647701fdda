import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../src/support/metrics.ts';

/** The repository root: entry paths (EXECUTE_PLAN_STEP_ENTRIES, …) are relative to it. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;
export const LAMBDA_ARCHITECTURE = Architecture.ARM_64;

/**
 * ESM needs `require` for the few CommonJS dependencies that call it on Node built-ins; this defines it once at
 * the top of the bundle.
 */
const REQUIRE_BANNER =
  "import{createRequire as __prestageCreateRequire}from'node:module';const require=__prestageCreateRequire(import.meta.url);";

/**
 * How every prestage Lambda is bundled: local esbuild (never Docker), ESM, minified, no source maps, for the
 * Node 24 runtime, with the AWS SDK v3 left to the runtime. bench/lambda-bundles.ts bundles with these same
 * options (esbuildOptionsFor), so its sizes and init times are the deployed ones.
 */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: false,
  mainFields: ['module', 'main'],
  banner: REQUIRE_BANNER,
  externalModules: ['@aws-sdk/*'],
  forceDockerBundling: false,
} as const satisfies BundlingOptions;

/** esbuild's JS API options equivalent to LAMBDA_BUNDLING (what NodejsFunction passes on the command line). */
export function esbuildOptionsFor(entry: string, outfile: string) {
  return {
    entryPoints: [isAbsolute(entry) ? entry : join(REPO_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node' as const,
    target: LAMBDA_BUNDLING.target,
    format: 'esm' as const,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: false,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    banner: { js: LAMBDA_BUNDLING.banner },
    external: [...LAMBDA_BUNDLING.externalModules],
    logLevel: 'error' as const,
  };
}

export interface PrestageFunctionProps {
  /** Handler file, relative to the repository root (e.g. `functions/planner/handler.ts`). */
  readonly entry: string;
  /** Exported handler name. @default 'handler' */
  readonly handler?: string;
  readonly description: string;
  /**
   * A physical name, where a policy must name the function without referencing it (its own role).
   * @default a name CloudFormation generates
   */
  readonly functionName?: string;
  /** Powertools service name, e.g. `prestage-planner`. */
  readonly serviceName: string;
  /**
   * Environment variables, besides the Powertools service name and metrics namespace every function gets.
   * @default only those two
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Concurrency set aside for this function, which is also its cap. @default none (the account's shared pool) */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Dead-letter queue for asynchronous invocations (profiler, planner).
   * @default none, for a function that is only invoked synchronously (its cdk-nag DLQ findings say so)
   */
  readonly deadLetterQueue?: IQueue;
  readonly logRetention: RetentionDays;
}

/**
 * A prestage Lambda: NodejsFunction with LAMBDA_BUNDLING, arm64 on Node 24, X-Ray active tracing, a log group with
 * a retention, and a role of its own that may only write to that log group until the stack grants it exactly
 * what its handler's `Permissions:` comment lists.
 */
export class PrestageFunction extends Construct {
  /** Handler file, relative to the repository root. */
  readonly entry: string;
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: PrestageFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `prestage ${props.serviceName}`,
    });
    // Instead of AWSLambdaBasicExecutionRole (any log group): only this function's own.
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      functionName: props.functionName,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueueEnabled: props.deadLetterQueue ? true : undefined,
      deadLetterQueue: props.deadLetterQueue,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      bundling: LAMBDA_BUNDLING,
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions',
    });
    if (!props.deadLetterQueue) {
      Validations.of(this.fn).acknowledge({
        id: 'Serverless-LambdaDLQ',
        reason:
          'Invoked synchronously (a Step Functions Task, the Function URL, or a RequestResponse invoke): the caller sees and retries each failure, so there is no asynchronous event to dead-letter',
      });
      Validations.of(this.fn).acknowledge({
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason: 'Never invoked asynchronously (Step Functions Task, Function URL or RequestResponse invoke)',
      });
    } else {
      Validations.of(this.fn).acknowledge({
        id: 'Serverless-LambdaAsyncFailureDestination',
        reason:
          'Failed asynchronous invocations go to the dead-letter queue (DeadLetterConfig), which is alarmed',
      });
    }
  }
}
