import type { CellHealth } from '../data-plane/cell-health.ts';
import type { CanaryHealthCheck } from './migration-deps.ts';

/**
 * Local canary health: the target cell's error rate as the interceptors in this process saw it since the last
 * read shift. In AWS the same check reads a CloudWatch alarm on the target (issue 4).
 */
export class ErrorRateHealthCheck implements CanaryHealthCheck {
  private readonly health: CellHealth;
  private readonly maxErrorRate: number;

  constructor(health: CellHealth, options: { maxErrorRate?: number } = {}) {
    this.health = health;
    this.maxErrorRate = options.maxErrorRate ?? 0.05;
  }

  async check(targetCell: string, sinceMs: number) {
    const { requests, failures } = this.health.outcomes(targetCell, sinceMs);
    const rate = requests === 0 ? 0 : failures / requests;
    const healthy = rate <= this.maxErrorRate;
    return {
      healthy,
      requests,
      failures,
      ...(healthy
        ? {}
        : {
            reason: `target error rate ${(rate * 100).toFixed(1)}% over ${requests} requests exceeds ${this.maxErrorRate * 100}%`,
          }),
    };
  }
}
