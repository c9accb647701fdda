import { PrestageError } from '../errors.ts';
import type { KnownEvent } from './forecast-model.ts';

/**
 * The ports of the events table: where operators keep known events (launches, holidays) and where the profiler
 * reads them. The DynamoDB adapter is src/adapters/dynamodb/event-repository.ts.
 */

/** A stored event that is not a valid event (edited by hand in the console): left out, and said why. */
export interface RejectedEvent {
  /** The item's name (its key), as stored. */
  readonly name: string;
  /** The field and what was expected, e.g. `field 'multiplier': expected a number > 0`. */
  readonly problem: string;
}

export interface KnownEventListing {
  readonly events: readonly KnownEvent[];
  readonly rejected: readonly RejectedEvent[];
}

/** What the profiler needs: every stored event, the invalid ones set apart. */
export interface KnownEventSource {
  listEvents(): Promise<KnownEventListing>;
}

/** What operators do through `prestage events`: add, list, remove. */
export interface KnownEventStore extends KnownEventSource {
  /**
   * Store every event, or none: with `replace` false, the whole batch is refused (EventAlreadyExistsError, naming
   * the events) when any name is taken. Names within a batch are unique.
   */
  putEvents(events: readonly KnownEvent[], options: { readonly replace: boolean }): Promise<void>;
  /** Remove the named events, all or none: EventNotFoundError names those that are not stored. */
  removeEvents(names: readonly string[]): Promise<void>;
}

/** Events of these names are already stored (an add without replace); nothing was written. */
export class EventAlreadyExistsError extends PrestageError {
  readonly names: readonly string[];
  constructor(names: readonly string[]) {
    super(
      `event${names.length > 1 ? 's' : ''} ${names.map((n) => `'${n}'`).join(', ')} already stored; nothing was written (replace to overwrite)`,
    );
    this.names = names;
  }
}

/** No events of these names are stored; nothing was removed. */
export class EventNotFoundError extends PrestageError {
  readonly names: readonly string[];
  constructor(names: readonly string[]) {
    super(`no stored event named ${names.map((n) => `'${n}'`).join(', ')}; nothing was removed`);
    this.names = names;
  }
}
