import { z } from 'zod';
import { InputValidationError } from '../errors.ts';
import { isRegionName } from '../region-name.ts';
import { raiseSchemaError } from '../topology.ts';
import type { KnownEvent } from './forecast-model.ts';
import { ANY_REGION } from './known-events.ts';

/**
 * The one written form of a known event, shared by the CLI's events calendar (`prestage forecast --events`), the
 * events table's items (what `prestage events add` writes and an operator pastes in the DynamoDB console) and
 * `prestage events list`:
 *
 *   {"name","region","start","end","multiplier","partition"?}
 *
 * `start` and `end` are ISO-8601 times with a zone; `region` is an AWS region name or `*` (every region);
 * `multiplier` > 0 scales demand while the event runs; `partition`, when present, limits the event to one
 * partition's demand.
 */
export interface KnownEventInput {
  readonly name: string;
  readonly region: string;
  readonly start: string;
  readonly end: string;
  readonly multiplier: number;
  readonly partition?: string;
}

const isoTime = z.iso.datetime({
  offset: true,
  error: 'expected an ISO-8601 time with a zone, e.g. 2025-06-02T09:00:00Z',
});

/** Printable text: a name an operator can type in a terminal and in the console. */
const printable = (what: string) =>
  z
    .string({ error: `expected the ${what} as a string` })
    .min(1, { error: `expected a non-empty ${what}` })
    .max(255, { error: `expected at most 255 characters` })
    .refine((s) => /^[^\p{Cc}]*$/u.test(s) && s.trim() === s, {
      error: `expected printable text without leading or trailing spaces`,
    });

export const knownEventInputSchema = z.strictObject({
  name: printable('event name'),
  region: z
    .string({ error: 'expected a region name such as eu-west-1, or * for every region' })
    .refine((r) => r === ANY_REGION || isRegionName(r), {
      error: (issue) =>
        `expected a region name such as eu-west-1, or * for every region, found '${String(issue.input)}'`,
    }),
  start: isoTime,
  end: isoTime,
  multiplier: z
    .number({ error: 'expected a number > 0, e.g. 3 for three times the usual demand' })
    .positive({ error: 'expected a number > 0, e.g. 3 for three times the usual demand' })
    .finite(),
  partition: printable('partition id').optional(),
});

/**
 * Validate one event in its written form and turn it into the domain's KnownEvent. A problem is an
 * InputValidationError naming `file` and the field under `fieldPrefix` (e.g. `[2].end`).
 */
export function parseKnownEvent(input: unknown, file: string, fieldPrefix = ''): KnownEvent {
  const parsed = knownEventInputSchema.safeParse(input);
  if (!parsed.success) raiseSchemaError(parsed.error, file, fieldPrefix);
  const event = parsed.data;
  const startMs = Date.parse(event.start);
  const endMs = Date.parse(event.end);
  if (endMs <= startMs) {
    throw new InputValidationError(
      { file, field: fieldPrefix ? `${fieldPrefix}.end` : 'end' },
      `event '${event.name}' ends (${event.end}) at or before it starts (${event.start})`,
    );
  }
  return {
    name: event.name,
    region: event.region,
    startMs,
    endMs,
    multiplier: event.multiplier,
    ...(event.partition !== undefined && { partition: event.partition }),
  };
}

/** A KnownEvent in its written form, times in UTC (`2025-06-02T09:00:00.000Z`). */
export function knownEventInput(event: KnownEvent): KnownEventInput {
  return {
    name: event.name,
    region: event.region,
    start: new Date(event.startMs).toISOString(),
    end: new Date(event.endMs).toISOString(),
    multiplier: event.multiplier,
    ...(event.partition !== undefined && { partition: event.partition }),
  };
}
