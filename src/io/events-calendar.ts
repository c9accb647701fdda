import { z } from 'zod';
import { InputValidationError } from '../domain/errors.ts';
import type { KnownEvent } from '../domain/forecasting/forecast-model.ts';
import { parseKnownEvent } from '../domain/forecasting/known-event-input.ts';
import { raiseSchemaError } from '../domain/topology.ts';
import { readInputText } from './input-file.ts';
import { parseJsonDocument } from './json-document.ts';

const calendarSchema = z.array(z.unknown(), { error: 'expected a JSON array of events' });

/**
 * Validate a known-events calendar: a JSON array of events in their written form
 * `{"name","region","start","end","multiplier","partition"?}` (src/domain/forecasting/known-event-input.ts: ISO-8601
 * times with a zone, multiplier > 0, `region` a region name or `*` for every region). Errors name the file and the
 * field, e.g. `[2].end`. With `uniqueNames`, a name used twice is an error (the events table keys events by name).
 */
export function parseEventsCalendar(
  input: unknown,
  file = 'events',
  options: { readonly uniqueNames?: boolean } = {},
): KnownEvent[] {
  const parsed = calendarSchema.safeParse(input);
  if (!parsed.success) raiseSchemaError(parsed.error, file);
  const events = parsed.data.map((event, i) => parseKnownEvent(event, file, `[${i}]`));
  if (options.uniqueNames) {
    const seen = new Map<string, number>();
    events.forEach((event, i) => {
      const first = seen.get(event.name);
      if (first !== undefined) {
        throw new InputValidationError(
          { file, field: `[${i}].name` },
          `event name '${event.name}' is used by [${first}] too; names are unique (they key the events table)`,
        );
      }
      seen.set(event.name, i);
    });
  }
  return events;
}

/** Read a known-events calendar file; malformed JSON is an error naming the file and line. */
export async function readEventsCalendar(
  path: string,
  options: { readonly uniqueNames?: boolean } = {},
): Promise<KnownEvent[]> {
  const text = await readInputText(path);
  return parseEventsCalendar(parseJsonDocument(text, path), path, options);
}
