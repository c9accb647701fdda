import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, preferredCompression } from '../../../src/data-plane/value-codec.ts';
import { assertProperty } from '../../support/property.ts';

describe('value codec', () => {
  it('keeps small values as JSON text and compresses large ones with the preferred codec', () => {
    expect(encodeValue('{"a":1}')).toEqual({ encoding: 'json', value: '{"a":1}', jsonBytes: 7 });
    const big = JSON.stringify({
      items: Array.from({ length: 100 }, (_, i) => ({ sku: `SKU-${i}`, qty: i })),
    });
    const encoded = encodeValue(big);
    expect(encoded.encoding).toBe(preferredCompression);
    expect((encoded.value as Uint8Array).length).toBeLessThan(big.length / 4);
  });

  it('round-trips any JSON value through every codec', () => {
    assertProperty(
      fc.property(fc.jsonValue(), fc.constantFrom('br' as const, 'zstd' as const), (value, codec) => {
        const json = JSON.stringify(value);
        const encoded = encodeValue(json, { thresholdBytes: 0, codec });
        expect(decodeValue(encoded.encoding, encoded.value)).toBe(json);
      }),
      { numRuns: 200 },
    );
  });

  it('stores incompressible values as JSON rather than growing them', () => {
    const random = JSON.stringify(
      Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251)).toString('base64'),
    );
    const encoded = encodeValue(random, { thresholdBytes: 10 });
    if (encoded.encoding !== 'json') expect((encoded.value as Uint8Array).length).toBeLessThan(random.length);
  });
});
