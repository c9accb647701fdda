import { PrestageError } from '../errors.ts';

/**
 * Errors of the data path (interceptor, routing client, data tables). Each carries a stable `code` that the
 * HTTP API returns in `{"error":{"code","message"}}`; the HTTP status is chosen by the API layer from the class.
 * Messages are written for the caller: they never carry table names, endpoints or stack traces.
 */
export class DataPlaneError extends PrestageError {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A malformed path, key, header or body (HTTP 400). */
export class InvalidRequestError extends DataPlaneError {}

/** A value or item over DynamoDB's 400 KB item limit (HTTP 413). */
export class ItemTooLargeError extends DataPlaneError {
  constructor(message: string) {
    super('ITEM_TOO_LARGE', message);
  }
}

export class PartitionNotFoundError extends DataPlaneError {
  readonly partition: string;
  constructor(partition: string) {
    super('PARTITION_NOT_FOUND', `partition '${partition}' does not exist`);
    this.partition = partition;
  }
}

export class ItemNotFoundError extends DataPlaneError {
  constructor(partition: string, key: string) {
    super('ITEM_NOT_FOUND', `no item '${key}' in partition '${partition}'`);
  }
}

/** `If-Match` named a version that is not the item's current one (HTTP 409). */
export class VersionConflictError extends DataPlaneError {
  readonly currentVersion: number | undefined;
  constructor(expected: number, currentVersion: number | undefined) {
    super(
      'VERSION_CONFLICT',
      currentVersion === undefined
        ? `expected version ${expected}, but the item does not exist`
        : `expected version ${expected}, but the item is at version ${currentVersion}`,
    );
    this.currentVersion = currentVersion;
  }
}

/** Writes are paused for a moment while the partition's cutover runs (HTTP 503 with Retry-After). */
export class PartitionFencedError extends DataPlaneError {
  readonly retryAfterSeconds: number;
  constructor(partition: string, retryAfterSeconds: number) {
    super('PARTITION_MOVING', `partition '${partition}' is switching cells; retry shortly`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The write did not complete within the request deadline, so it is not acknowledged: it may or may not have
 * been applied (HTTP 503). Acknowledging it could break the cutover's bound on late writes.
 */
export class WriteOutcomeUnknownError extends DataPlaneError {
  constructor() {
    super(
      'WRITE_OUTCOME_UNKNOWN',
      'the write did not complete in time and may not have been applied; retry it',
    );
  }
}

/**
 * An unconditional batch stopped sending because its writer's window closed before every item was written; the
 * step reports progress up to the last full page and the next invocation carries on (HTTP 503 if ever seen).
 */
export class SendingWindowClosedError extends DataPlaneError {
  constructor() {
    super('SENDING_WINDOW_CLOSED', 'the writer lease ended before the batch was written; retry');
  }
}

/** A chunk of a batch gave up because another chunk of the same batch failed (never surfaces alone). */
export class BatchAbandonedError extends DataPlaneError {
  constructor() {
    super('BATCH_ABANDONED', 'another part of the batch failed');
  }
}

/**
 * Every attempt of a read was answered after the routing lease it was sent under had run out, so none can be
 * trusted to reflect every acknowledged write (HTTP 503, retry).
 */
export class ReadOutcomeLateError extends DataPlaneError {
  constructor() {
    super('READ_TOO_SLOW', 'the storage answered too slowly to serve a consistent read; retry');
  }
}

/** DynamoDB throttled the request (HTTP 503). Step Functions retries it with backoff by this name. */
export class StorageThrottledError extends DataPlaneError {
  constructor(
    message = 'the storage layer is throttling requests; retry with backoff',
    options?: ErrorOptions,
  ) {
    super('THROTTLED', message, options);
  }
}

/** A cell could not be reached or failed (HTTP 503). The cause stays in logs, never in the response. */
export class CellUnavailableError extends DataPlaneError {
  readonly cell: string;
  constructor(cell: string, options?: ErrorOptions) {
    super('CELL_UNAVAILABLE', 'the storage cell is unavailable; retry shortly', options);
    this.cell = cell;
  }
}

/** No ACTIVE cell in the writer's region can take a new partition (HTTP 503). */
export class NoCellAvailableError extends DataPlaneError {
  constructor(region: string) {
    super('NO_CELL_AVAILABLE', `no active cell in region '${region}' can take a new partition`);
  }
}
