import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputValidationError } from '../../../src/domain/errors.ts';
import { parseEventsCalendar, readEventsCalendar } from '../../../src/io/events-calendar.ts';
import { tempDir } from '../../support/temp-dir.ts';

const launch = {
  name: 'launch',
  region: 'eu-west-1',
  start: '2024-06-01T08:00:00Z',
  end: '2024-06-01T12:00:00+02:00',
  multiplier: 2.5,
};

function fieldOf(input: unknown): string | undefined {
  try {
    parseEventsCalendar(input, 'events.json');
  } catch (error) {
    if (error instanceof InputValidationError) {
      expect(error.location.file).toBe('events.json');
      return error.location.field;
    }
    throw error;
  }
  return undefined;
}

describe('parseEventsCalendar', () => {
  it('turns ISO times (any offset) into epoch milliseconds', () => {
    expect(parseEventsCalendar([launch, { ...launch, name: 'all', region: '*' }], 'events.json')).toEqual([
      {
        name: 'launch',
        region: 'eu-west-1',
        startMs: Date.UTC(2024, 5, 1, 8),
        endMs: Date.UTC(2024, 5, 1, 10),
        multiplier: 2.5,
      },
      {
        name: 'all',
        region: '*',
        startMs: Date.UTC(2024, 5, 1, 8),
        endMs: Date.UTC(2024, 5, 1, 10),
        multiplier: 2.5,
      },
    ]);
  });

  it('names the offending field', () => {
    expect(fieldOf({})).toBe('(root)');
    expect(fieldOf([launch, { ...launch, multiplier: 0 }])).toBe('[1].multiplier');
    expect(fieldOf([{ ...launch, start: 'tomorrow' }])).toBe('[0].start');
    expect(fieldOf([{ ...launch, start: '2024-06-01T08:00:00' }])).toBe('[0].start'); // a zone is required
    expect(fieldOf([{ ...launch, name: undefined }])).toBe('[0].name');
    expect(fieldOf([{ ...launch, colour: 'red' }])).toBe('[0]');
    expect(fieldOf([{ ...launch, end: '2024-06-01T07:00:00Z' }])).toBe('[0].end');
    // A region that could never match a series, and an empty partition, are errors rather than silent no-ops.
    expect(fieldOf([{ ...launch, region: 'europe' }])).toBe('[0].region');
    expect(fieldOf([{ ...launch, partition: '' }])).toBe('[0].partition');
    expect(fieldOf([{ ...launch, name: ' launch' }])).toBe('[0].name');
  });
});

describe('parseEventsCalendar: the written form shared with the events table', () => {
  it('scopes an event to one partition when it names one', () => {
    expect(parseEventsCalendar([{ ...launch, partition: 'orders-fr' }], 'events.json')[0]).toMatchObject({
      partition: 'orders-fr',
    });
  });

  it('refuses a name used twice when names must be unique (they key the events table)', () => {
    expect(parseEventsCalendar([launch, launch], 'events.json')).toHaveLength(2);
    expect(() => parseEventsCalendar([launch, launch], 'events.json', { uniqueNames: true })).toThrow(
      "events.json, field '[1].name': event name 'launch' is used by [0] too",
    );
  });
});

describe('readEventsCalendar', () => {
  it('reads a file, and reports malformed JSON with the file name and line', async () => {
    const dir = tempDir('prestage-events-');
    const good = join(dir, 'events.json');
    await writeFile(good, JSON.stringify([launch]));
    expect((await readEventsCalendar(good))[0].multiplier).toBe(2.5);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '[{"name": ');
    await expect(readEventsCalendar(bad)).rejects.toThrow(`${bad}, line 1: invalid JSON`);
  });
});
