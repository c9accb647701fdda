import { PrestageError } from '../domain/errors.ts';

/** A planner event that names something the tables do not hold (an unknown cell), or asks for the impossible. */
export class PlannerRequestError extends PrestageError {}
