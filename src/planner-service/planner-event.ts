import { z } from 'zod';

/**
 * Events of the planner Lambda.
 * - `{"trigger":"schedule","cycleId"?}`: from the profiler's last shard (asynchronously), or by hand. Writes the
 *   cycle's plan and starts ExecutePlan on it (unless it is empty). Idempotent on `cycleId`.
 * - `{"trigger":"scaling","action":"scale-out"|"scale-in","region"?,"cellIds","requestId"?,"round"?}`: from
 *   ScaleCluster (synchronously). Writes a scaling-aware plan and returns `{planId, moveCount}` without starting
 *   anything. Idempotent on `requestId` + `round` (the execution name and drain round).
 */
const scheduleEventSchema = z.strictObject({
  trigger: z.literal('schedule'),
  cycleId: z.string().min(1).max(200).optional(),
});
const scalingEventSchema = z.strictObject({
  trigger: z.literal('scaling'),
  action: z.enum(['scale-out', 'scale-in']),
  region: z.string().min(1).optional(),
  cellIds: z.array(z.string().min(1)).min(1),
  requestId: z.string().min(1).max(200).optional(),
  round: z.number().int().positive().default(1),
});

export const plannerEventSchema = z.discriminatedUnion('trigger', [scheduleEventSchema, scalingEventSchema]);

export type PlannerEvent = z.infer<typeof plannerEventSchema>;
export type ScheduleEvent = z.infer<typeof scheduleEventSchema>;
export type ScalingEvent = z.infer<typeof scalingEventSchema>;
