import { SageMakerRuntimeClient, type SageMakerRuntimeClientConfig } from '@aws-sdk/client-sagemaker-runtime';

/**
 * A SageMaker runtime client for SageMakerForecastModel: one SDK attempt per call, because the adapter
 * retries (with its own backoff, counting and fallback) and SDK retries would multiply them. Build it once at
 * module scope in a Lambda. `endpoint` points it at a local model server (`prestage model-server`).
 */
export function createSageMakerRuntimeClient(
  config: Omit<SageMakerRuntimeClientConfig, 'maxAttempts'> = {},
): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ ...config, maxAttempts: 1 });
}
