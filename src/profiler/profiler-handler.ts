import { z } from 'zod';
import {
  type IdempotencyOptions,
  instrumentedHandler,
  type LambdaHandler,
} from '../lambda/instrumented-handler.ts';
import { Profiler } from './profiler.ts';
import type { ProfilerDeps } from './profiler-deps.ts';
import type { ProfilerOptions } from './profiler-options.ts';

export const shardEventSchema = z.object({
  cycleId: z.string().min(1),
  shard: z.number().int().nonnegative(),
  shards: z.number().int().positive(),
});

/** `{}` (manual) or an EventBridge Scheduled Event; only its `time` matters. */
export const scheduleEventSchema = z.looseObject({ time: z.iso.datetime().optional() });

export interface ProfilerHandlerOptions {
  /**
   * Powertools idempotency of the shard role on `[cycleId, shard]` (the coordinator invokes the shards
   * asynchronously, and Lambda may deliver an async event twice).
   */
  readonly idempotency?: Omit<IdempotencyOptions, 'eventKeyJmesPath'>;
}

function isShardEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && 'shard' in event;
}

/**
 * The profiler Lambda handler, one entry with two roles: an EventBridge schedule tick (or `{}`) runs the
 * coordinator, `{cycleId, shard, shards}` runs one shard. Each role is an instrumented handler (Powertools,
 * zod-validated event) over the Profiler use case. The idempotency middleware sits on the shard role only: a
 * coordinator event has no [cycleId, shard], and an empty key would make every later schedule tick look like a
 * redelivery.
 */
export function createProfilerHandler(
  deps: ProfilerDeps,
  options: ProfilerOptions,
  handlerOptions: ProfilerHandlerOptions = {},
): LambdaHandler {
  const profiler = new Profiler(deps, options);
  const coordinator = instrumentedHandler(
    { name: 'ProfilerCoordinator', schema: scheduleEventSchema },
    (event) => profiler.coordinate(event),
  );
  const shard = instrumentedHandler(
    {
      name: 'ProfilerShard',
      schema: shardEventSchema,
      ...(handlerOptions.idempotency && {
        idempotency: { ...handlerOptions.idempotency, eventKeyJmesPath: '[cycleId, shard]' },
      }),
    },
    (event) => profiler.runShard(event),
  );
  return (event, context) => (isShardEvent(event) ? shard(event, context) : coordinator(event, context));
}
