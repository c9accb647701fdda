import { InvalidRequestError, ItemTooLargeError } from './data-plane-errors.ts';

/** DynamoDB's hard item limit, attribute names and values included. */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's sort-key limit; the item key is the sort key of the data tables. */
export const MAX_ITEM_KEY_BYTES = 1024;
/** Partition ids become part of the DynamoDB partition key (`<partition>#<shard>`, limit 2048 bytes). */
export const MAX_PARTITION_ID_LENGTH = 128;
const PARTITION_ID_PATTERN = /^[A-Za-z0-9._-]+$/;

const encoder = new TextEncoder();

export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** A partition id is 1-128 characters of `A-Z a-z 0-9 . _ -` (it appears unescaped in keys and URLs). */
export function validatePartitionId(partition: string): string {
  if (partition.length === 0 || partition.length > MAX_PARTITION_ID_LENGTH) {
    throw new InvalidRequestError(
      'INVALID_PARTITION',
      `partition id must be 1-${MAX_PARTITION_ID_LENGTH} characters, found ${partition.length}`,
    );
  }
  if (!PARTITION_ID_PATTERN.test(partition)) {
    throw new InvalidRequestError(
      'INVALID_PARTITION',
      'partition id may contain only letters, digits, dot, underscore and hyphen',
    );
  }
  return partition;
}

/** An item key is any non-empty string of at most 1,024 UTF-8 bytes without control characters. */
export function validateItemKey(key: string): string {
  const bytes = utf8Length(key);
  if (bytes === 0) throw new InvalidRequestError('INVALID_KEY', 'item key must not be empty');
  if (bytes > MAX_ITEM_KEY_BYTES) {
    throw new InvalidRequestError(
      'INVALID_KEY',
      `item key is ${bytes} bytes in UTF-8; DynamoDB allows at most ${MAX_ITEM_KEY_BYTES}`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(key)) {
    throw new InvalidRequestError('INVALID_KEY', 'item key must not contain control characters');
  }
  if (key.isWellFormed && !key.isWellFormed()) {
    throw new InvalidRequestError('INVALID_KEY', 'item key must be well-formed Unicode');
  }
  return key;
}

/** The raw JSON body of a PUT must itself fit the item limit, before any compression. */
export function checkValueSize(jsonBytes: number): void {
  if (jsonBytes > MAX_ITEM_BYTES) {
    throw new ItemTooLargeError(
      `value is ${jsonBytes} bytes; an item holds at most ${MAX_ITEM_BYTES} bytes (400 KB)`,
    );
  }
}

/** Values at or above this many bytes of JSON are stored compressed. */
export const DEFAULT_COMPRESSION_THRESHOLD_BYTES = 1024;

export type ValueEncoding = 'json' | 'br' | 'zstd';

/** Compression policy: small values stay readable JSON; larger ones are compressed if that saves bytes. */
export function shouldCompress(
  jsonBytes: number,
  thresholdBytes = DEFAULT_COMPRESSION_THRESHOLD_BYTES,
): boolean {
  return jsonBytes >= thresholdBytes;
}
