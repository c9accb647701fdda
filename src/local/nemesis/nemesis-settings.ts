import { InvalidRequestError } from '../../domain/data-plane/data-plane-errors.ts';

/**
 * How hostile the local storage is. Every rate is a probability per SDK attempt in [0, 1]; every duration is in
 * milliseconds in [0, 600000]. 0 turns a fault off.
 */
export interface NemesisSettings {
  /** Attempts failed with ProvisionedThroughputExceededException (concentrated on hot keys). */
  readonly throttleRate: number;
  /** Write attempts that are applied but whose response is lost (the SDK retries an applied write). */
  readonly lostResponseRate: number;
  /** Items written less than this long ago are missing from `changes` index queries. */
  readonly indexLagMs: number;
  /** Attempts delayed by `latencySpikeMs`, before the request or after the response. */
  readonly latencySpikeRate: number;
  readonly latencySpikeMs: number;
  /** Lambda invocations whose pending work is frozen until the function's next invocation. */
  readonly freezeRate: number;
  /**
   * Routing writes reach each other region's replica between half of this and this much later than usual (drawn
   * per write and region): a global table's replication falling behind.
   */
  readonly replicationLagMs: number;
}

export const NEMESIS_OFF: NemesisSettings = Object.freeze({
  throttleRate: 0,
  lostResponseRate: 0,
  indexLagMs: 0,
  latencySpikeRate: 0,
  latencySpikeMs: 0,
  freezeRate: 0,
  replicationLagMs: 0,
});

export const MAX_NEMESIS_MS = 600_000;

type Kind = 'rate' | 'ms';

const FIELDS: Record<keyof NemesisSettings, Kind> = {
  throttleRate: 'rate',
  lostResponseRate: 'rate',
  indexLagMs: 'ms',
  latencySpikeRate: 'rate',
  latencySpikeMs: 'ms',
  freezeRate: 'rate',
  replicationLagMs: 'ms',
};

function invalid(field: string, problem: string): InvalidRequestError {
  return new InvalidRequestError('INVALID_NEMESIS', `${field}: ${problem}`);
}

/**
 * Validate nemesis settings from an admin request (or code): a JSON object whose keys are all known, each a
 * finite number in range; omitted keys are 0 (off). Errors name the offending field.
 */
export function parseNemesisSettings(body: unknown): NemesisSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body', 'expected a JSON object of nemesis settings');
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(FIELDS, key)) {
      throw invalid(key, `unknown setting; expected one of ${Object.keys(FIELDS).join(', ')}`);
    }
  }
  const out: Record<string, number> = { ...NEMESIS_OFF };
  for (const [field, kind] of Object.entries(FIELDS)) {
    const value = input[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw invalid(field, 'expected a finite number');
    if (kind === 'rate' && (value < 0 || value > 1)) throw invalid(field, 'expected a rate from 0 to 1');
    if (kind === 'ms' && (value < 0 || value > MAX_NEMESIS_MS)) {
      throw invalid(field, `expected milliseconds from 0 to ${MAX_NEMESIS_MS}`);
    }
    out[field] = value;
  }
  return out as unknown as NemesisSettings;
}

export function isNemesisOff(settings: NemesisSettings): boolean {
  return (Object.keys(FIELDS) as (keyof NemesisSettings)[]).every((field) => settings[field] === 0);
}
