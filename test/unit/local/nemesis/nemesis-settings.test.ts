import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../../src/domain/data-plane/data-plane-errors.ts';
import {
  isNemesisOff,
  NEMESIS_OFF,
  parseNemesisSettings,
} from '../../../../src/local/nemesis/nemesis-settings.ts';

function rejection(body: unknown): InvalidRequestError {
  try {
    parseNemesisSettings(body);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).code).toBe('INVALID_NEMESIS');
    return error as InvalidRequestError;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('parseNemesisSettings', () => {
  it('defaults every omitted field to 0 (off)', () => {
    expect(parseNemesisSettings({})).toEqual(NEMESIS_OFF);
    expect(isNemesisOff(parseNemesisSettings({}))).toBe(true);
    expect(parseNemesisSettings({ throttleRate: 0.25, indexLagMs: 1500 })).toEqual({
      ...NEMESIS_OFF,
      throttleRate: 0.25,
      indexLagMs: 1500,
    });
  });

  it('accepts every field at its bounds', () => {
    const full = {
      throttleRate: 1,
      lostResponseRate: 0,
      indexLagMs: 600_000,
      latencySpikeRate: 0.5,
      latencySpikeMs: 0,
      freezeRate: 1,
      replicationLagMs: 600_000,
    };
    expect(parseNemesisSettings(full)).toEqual(full);
    expect(isNemesisOff(parseNemesisSettings(full))).toBe(false);
  });

  it('rejects a body that is not an object', () => {
    for (const body of [null, undefined, 'x', 3, [], [0.1]]) {
      expect(rejection(body).message).toMatch(/^body: /);
    }
  });

  it('rejects an unknown key, naming it', () => {
    expect(rejection({ throttleRate: 0.1, throttle: 0.2 }).message).toMatch(/^throttle: unknown setting/);
    // Inherited names are not settings either (a JSON body can carry "__proto__" as an own key).
    expect(rejection({ toString: 1 }).message).toMatch(/^toString: /);
    expect(rejection(JSON.parse('{"__proto__": 1}')).message).toMatch(/^__proto__: /);
  });

  it('rejects a value that is not a finite number, naming the field', () => {
    expect(rejection({ throttleRate: '0.1' }).message).toMatch(/^throttleRate: expected a finite number/);
    expect(rejection({ indexLagMs: null }).message).toMatch(/^indexLagMs: /);
    expect(rejection({ latencySpikeMs: Number.NaN }).message).toMatch(/^latencySpikeMs: /);
    expect(rejection({ freezeRate: Number.POSITIVE_INFINITY }).message).toMatch(/^freezeRate: /);
  });

  it('rejects rates outside [0, 1], naming the field', () => {
    for (const field of ['throttleRate', 'lostResponseRate', 'latencySpikeRate', 'freezeRate']) {
      expect(rejection({ [field]: -0.01 }).message).toMatch(
        new RegExp(`^${field}: expected a rate from 0 to 1`),
      );
      expect(rejection({ [field]: 1.01 }).message).toMatch(new RegExp(`^${field}: `));
    }
  });

  it('rejects durations outside [0, 600000] ms, naming the field', () => {
    for (const field of ['indexLagMs', 'latencySpikeMs']) {
      expect(rejection({ [field]: -1 }).message).toMatch(new RegExp(`^${field}: expected milliseconds`));
      expect(rejection({ [field]: 600_001 }).message).toMatch(new RegExp(`^${field}: `));
    }
  });

  it('NEMESIS_OFF is frozen', () => {
    expect(Object.isFrozen(NEMESIS_OFF)).toBe(true);
  });
});
