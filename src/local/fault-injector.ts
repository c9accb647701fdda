import { InvalidRequestError, StorageThrottledError } from '../domain/data-plane/data-plane-errors.ts';
import { PrestageError } from '../domain/errors.ts';
import {
  isMigrationStage,
  MIGRATION_STAGES,
  type MigrationStage,
} from '../domain/migration/migration-stage.ts';

export type FaultMode = 'error' | 'timeout' | 'throttle';
export const FAULT_MODES: readonly FaultMode[] = ['error', 'timeout', 'throttle'];

/** A failure injected on purpose (`--faults`): not retried, so the migration rolls back. */
export class InjectedFaultError extends PrestageError {}

export interface FaultSpec {
  readonly step: MigrationStage;
  readonly mode: FaultMode;
  readonly times: number;
  /** Let this many invocations of the stage pass first (e.g. fail the second copy page). @default 0 */
  readonly after?: number;
}

/** Validate an admin request for a fault; unknown stages and modes are a 400 naming the accepted values. */
export function parseFaultSpec(body: unknown): FaultSpec {
  const input = (body ?? {}) as Record<string, unknown>;
  const step = input.step;
  if (typeof step !== 'string' || !isMigrationStage(step)) {
    throw new InvalidRequestError('INVALID_STEP', `step must be one of ${MIGRATION_STAGES.join(', ')}`);
  }
  const mode = input.mode;
  if (typeof mode !== 'string' || !(FAULT_MODES as string[]).includes(mode)) {
    throw new InvalidRequestError('INVALID_MODE', `mode must be one of ${FAULT_MODES.join(', ')}`);
  }
  const times = input.times ?? 1;
  if (typeof times !== 'number' || !Number.isInteger(times) || times < 1 || times > 1000) {
    throw new InvalidRequestError('INVALID_TIMES', 'times must be an integer from 1 to 1000');
  }
  const after = input.after ?? 0;
  if (typeof after !== 'number' || !Number.isInteger(after) || after < 0) {
    throw new InvalidRequestError('INVALID_AFTER', 'after must be a non-negative integer');
  }
  return { step, mode: mode as FaultMode, times, after };
}

/**
 * Faults armed per stage, consumed by the next invocations of that stage's steps:
 * - error: the step throws InjectedFaultError before doing anything (the workflow rolls back);
 * - throttle: the step throws StorageThrottledError (the workflow retries it with backoff);
 * - timeout: the step outlives its Task timeout, then does its work anyway, like a Lambda Step Functions has
 *   given up on: the retry and this zombie both run, which is what idempotence and writer leases must survive.
 */
export class FaultInjector {
  private readonly armed = new Map<MigrationStage, { mode: FaultMode; remaining: number; skip: number }[]>();
  injected = 0;

  arm(spec: FaultSpec): void {
    const list = this.armed.get(spec.step) ?? [];
    list.push({ mode: spec.mode, remaining: spec.times, skip: spec.after ?? 0 });
    this.armed.set(spec.step, list);
  }

  /** Take the next armed fault for a stage, if any. */
  take(stage: string): FaultMode | undefined {
    if (!isMigrationStage(stage)) return undefined;
    const list = this.armed.get(stage);
    const next = list?.[0];
    if (!next) return undefined;
    if (next.skip > 0) {
      next.skip -= 1;
      return undefined;
    }
    next.remaining -= 1;
    if (next.remaining <= 0) list.shift();
    this.injected += 1;
    return next.mode;
  }

  pending(): number {
    let total = 0;
    for (const list of this.armed.values()) for (const f of list) total += f.remaining;
    return total;
  }

  clear(): void {
    this.armed.clear();
  }
}

export function faultError(mode: Exclude<FaultMode, 'timeout'>, stage: string): Error {
  return mode === 'throttle'
    ? new StorageThrottledError(`injected throttle in ${stage}`)
    : new InjectedFaultError(`injected failure in ${stage}`);
}
