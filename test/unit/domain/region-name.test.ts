import { describe, expect, it } from 'vitest';
import { isRegionName } from '../../../src/domain/region-name.ts';

describe('isRegionName', () => {
  it('accepts commercial, GovCloud and multi-part region names', () => {
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'il-central-1'])
      expect(isRegionName(region), region).toBe(true);
  });

  it('rejects what is not shaped like a region name', () => {
    for (const value of ['', 'us-east', 'US-EAST-1', 'us-east-123', 'useast1', ' us-east-1', 'us-east-1a'])
      expect(isRegionName(value), JSON.stringify(value)).toBe(false);
  });
});
