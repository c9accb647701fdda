import { z } from 'zod';
import { InputValidationError } from '../domain/errors.ts';
import type { KnownEvent } from '../domain/forecasting/forecast-model.ts';
import { raiseSchemaError } from '../domain/topology.ts';
import { readInputText } from './input-file.ts';
import { parseJsonDocument } from './json-document.ts';

const eventSchema = z.strictObject({
  name: z.string().min(1),
  region: z.string().min(1),
  start: z.iso.datetime({ offset: true }),
  end: z.iso.datetime({ offset: true }),
  multiplier: z.number().positive().finite(),
});

const calendarSchema = z.array(eventSchema);

/**
 * Validate a known-events calendar: a JSON array of
 * `{"name","region","start","end","multiplier"}` with ISO-8601 times (a zone is required) and
 * multiplier > 0. `region` may be `*` for every region. Errors name the file and the field, e.g. `[2].end`.
 */
export function parseEventsCalendar(input: unknown, file = 'events'): KnownEvent[] {
  const parsed = calendarSchema.safeParse(input);
  if (!parsed.success) raiseSchemaError(parsed.error, file);
  return parsed.data.map((event, i) => {
    const startMs = Date.parse(event.start);
    const endMs = Date.parse(event.end);
    if (endMs <= startMs) {
      throw new InputValidationError(
        { file, field: `[${i}].end` },
        `event '${event.name}' ends (${event.end}) at or before it starts (${event.start})`,
      );
    }
    return { name: event.name, region: event.region, startMs, endMs, multiplier: event.multiplier };
  });
}

/** Read a known-events calendar file; malformed JSON is an error naming the file and line. */
export async function readEventsCalendar(path: string): Promise<KnownEvent[]> {
  const text = await readInputText(path);
  return parseEventsCalendar(parseJsonDocument(text, path), path);
}
