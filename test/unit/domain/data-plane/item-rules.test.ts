import { describe, expect, it } from 'vitest';
import {
  InvalidRequestError,
  ItemTooLargeError,
} from '../../../../src/domain/data-plane/data-plane-errors.ts';
import {
  checkValueSize,
  MAX_ITEM_BYTES,
  validateItemKey,
  validatePartitionId,
} from '../../../../src/domain/data-plane/item-rules.ts';

describe('item rules', () => {
  it('accepts keys up to 1024 UTF-8 bytes, counting multi-byte characters', () => {
    expect(validateItemKey('k'.repeat(1024))).toHaveLength(1024);
    expect(() => validateItemKey('k'.repeat(1025))).toThrow(InvalidRequestError);
    expect(validateItemKey('é'.repeat(512))).toHaveLength(512);
    expect(() => validateItemKey('é'.repeat(513))).toThrow(/1026 bytes/);
    expect(() => validateItemKey('')).toThrow(/empty/);
    expect(() => validateItemKey('a\nb')).toThrow(/control/);
    expect(() => validateItemKey('\ud800')).toThrow(/well-formed/);
  });
  it('accepts partition ids that are safe in keys and URLs', () => {
    expect(validatePartitionId('tenant-42.orders_v2')).toBe('tenant-42.orders_v2');
    for (const bad of ['', 'a#b', 'a/b', 'x'.repeat(129), 'ünï']) {
      expect(() => validatePartitionId(bad)).toThrow(InvalidRequestError);
    }
  });
  it('refuses a value over the 400 KB item limit', () => {
    expect(() => checkValueSize(MAX_ITEM_BYTES)).not.toThrow();
    expect(() => checkValueSize(MAX_ITEM_BYTES + 1)).toThrow(ItemTooLargeError);
  });
});
