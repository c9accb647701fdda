import { rangeBucketOf, shardOf } from '../../src/domain/data-plane/key-hash.ts';
import type { StoredItem } from '../../src/domain/data-plane/stored-item.ts';
import { encodeHlc } from '../../src/domain/migration/hlc.ts';

/** A live (not deleted) JSON item of version 1, as a cell stores it, written at `wallMs` by node 'n'. */
export function storedItem(
  partition: string,
  key: string,
  options: { wallMs: number; value: string; shards: number },
): StoredItem {
  return {
    partition,
    shard: shardOf(key, options.shards),
    key,
    bucket: rangeBucketOf(key),
    version: 1,
    hlc: encodeHlc({ wallMs: options.wallMs, logical: 0, node: 'n' }),
    deleted: false,
    encoding: 'json',
    value: options.value,
  };
}
