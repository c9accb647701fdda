import {
  CellUnavailableError,
  DataPlaneError,
  ItemTooLargeError,
  StorageThrottledError,
} from '../../domain/data-plane/data-plane-errors.ts';

const THROTTLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

export function isThrottle(error: unknown): boolean {
  return THROTTLE_NAMES.has((error as { name?: string })?.name ?? '');
}

/**
 * Run one DynamoDB call; a throttle becomes the domain's StorageThrottledError (the SDK error kept as its
 * `cause`), which the state machines retry with backoff. Every other error passes unchanged, so the caller
 * still sees ConditionalCheckFailedException and decides what it means.
 */
export async function translateThrottle<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isThrottle(error)) throw new StorageThrottledError(undefined, { cause: error });
    throw error;
  }
}

/**
 * Translate an SDK error into the domain's named errors: throttling keeps its meaning (Step Functions retries
 * StorageThrottledError with backoff), an oversized item is the client's problem, everything else is a cell
 * failure whose details stay in the cause (logged, never returned to clients).
 */
export function translateDynamoError(error: unknown, cellId: string): Error {
  if (error instanceof DataPlaneError) return error;
  if (isThrottle(error)) return new StorageThrottledError(undefined, { cause: error });
  const message = (error as Error)?.message ?? '';
  if ((error as Error)?.name === 'ValidationException' && /item size/i.test(message)) {
    return new ItemTooLargeError('the item exceeds the 400 KB DynamoDB item limit');
  }
  return new CellUnavailableError(cellId, { cause: error });
}
