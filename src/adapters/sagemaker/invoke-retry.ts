/**
 * Retries of SageMaker InvokeEndpoint calls: which failures are transient, and exponential backoff with full
 * jitter between attempts. The SDK client should be built with `maxAttempts: 1` (see
 * createSageMakerRuntimeClient) so these retries are not multiplied by the SDK's own.
 */
export interface RetryPolicy {
  /** Calls per batch, the first one included. @default 4 */
  readonly maxAttempts: number;
  /** Backoff cap of the first retry; doubles on each retry. @default 100 */
  readonly baseDelayMs: number;
  /** Upper bound of any one backoff. @default 5000 */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5000 };

/** Error names SageMaker runtime (or the AWS front end) uses for throttling and transient server faults. */
const TRANSIENT_ERROR_NAMES = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalDependencyException',
  'ModelNotReadyException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Model container statuses, wrapped in a ModelError, that mean "busy, try again". */
const TRANSIENT_MODEL_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Socket-level failures worth another attempt. */
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EAI_AGAIN']);

interface SdkErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly OriginalStatusCode?: number;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/**
 * True for throttling (ThrottlingException, HTTP 429), server faults (InternalFailure, ServiceUnavailable,
 * any 5xx), a ModelError whose container answered 429/5xx, and dropped connections. A ModelError with a
 * container 4xx, a ValidationError (unknown endpoint) and malformed responses are not transient.
 */
export function isRetryableInvokeError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as SdkErrorShape;
  if (e.name === 'ModelError') {
    return e.OriginalStatusCode !== undefined && TRANSIENT_MODEL_STATUSES.has(e.OriginalStatusCode);
  }
  if (e.name !== undefined && TRANSIENT_ERROR_NAMES.has(e.name)) return true;
  if (e.code !== undefined && TRANSIENT_NETWORK_CODES.has(e.code)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status === 429 || status >= 500);
}

/** Full-jitter backoff before retry number `retry` (1 = first retry): uniform in [0, min(max, base·2^(retry−1))). */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * cap);
}

export function validateRetryPolicy(policy: RetryPolicy): RetryPolicy {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new RangeError(`retry.maxAttempts must be a positive integer, got ${policy.maxAttempts}`);
  }
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= policy.baseDelayMs)) {
    throw new RangeError(
      `retry delays need 0 <= baseDelayMs <= maxDelayMs, got ${policy.baseDelayMs} and ${policy.maxDelayMs}`,
    );
  }
  return policy;
}

export interface RetryHooks {
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Called before each backoff, for counting and logging. */
  readonly onRetry?: (retry: number, delayMs: number, error: unknown) => void;
}

/** The outcome of a call with retries: the value, or the last error and how many calls were made. */
export type RetryOutcome<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | { readonly ok: false; readonly error: unknown; readonly attempts: number };

export async function callWithRetry<T>(
  call: () => Promise<T>,
  policy: RetryPolicy,
  hooks: RetryHooks,
): Promise<RetryOutcome<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await call(), attempts: attempt };
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isRetryableInvokeError(error)) {
        return { ok: false, error, attempts: attempt };
      }
      const delay = backoffDelayMs(attempt, policy, hooks.random);
      hooks.onRetry?.(attempt, delay, error);
      await hooks.sleep(delay);
    }
  }
}
