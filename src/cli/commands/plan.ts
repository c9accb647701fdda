import type { MovementPlan, PlannerInput } from '../../domain/planning/movement-plan.ts';
import { formatBytes } from '../../domain/planning/placement-feasibility.ts';
import { planMoves } from '../../domain/planning/placement-planner.ts';
import { readPlanSnapshot } from '../../io/plan-snapshot.ts';
import { type CliCommand, parseOptions, requireOption } from '../command.ts';

const NAME = 'plan';

const HELP = `Usage: prestage plan --snapshot FILE.json [--json]

Dry run of the planner (the Adaptive Data Shuffler): reads a cluster snapshot, plans which partitions to
move where and when, ahead of their forecast demand, and prints the plan. Nothing is moved.

The snapshot is JSON: {"topology": {...}, "stepSeconds": 300, "now"?: ISO time,
  "partitions": [{"id", "sizeBytes", "cell", "forecast": {"<region>": [mean ops/s per step, ...]},
                  "writeFraction"?, "affinity"?, "lastMovedAt"?: ISO time}],
  "relationships"?: [{"a", "b", "coAccessPerSec"}], "inFlight"?: [{"partition", "from", "to", "bytes"}],
  "limits"?: {"maxConcurrentMovesPerCell", "maxBytesPerCycle", "minBenefitMargin", "cooldownMs", "headroom"},
  "cellStatus"?: {"<cell>": "ACTIVE" | "PROVISIONING" | "DRAINING" | "RETIRED"}}
Costs are US dollars over the forecast horizon; each move's reasons add up to its benefit.

Options:
  --snapshot FILE.json   cluster snapshot (required)
  --json                 print {"moves", "costBefore", "costAfter", "deferred", "capacityForecast"} as JSON
  -h, --help             show this help

Example:
  prestage plan --snapshot docs/examples/plan-snapshot.json
`;

export const planCommand: CliCommand = {
  name: NAME,
  summary: 'Plan partition moves ahead of forecast demand (dry run)',
  help: HELP,
  async run(argv, io) {
    const { values } = parseOptions(argv, { snapshot: { type: 'string' }, json: { type: 'boolean' } }, NAME);
    const path = requireOption(values.snapshot, 'snapshot', NAME);
    const input = await readPlanSnapshot(path);
    const plan = planMoves(input);
    io.stdout.write(values.json ? `${JSON.stringify(planToJson(plan))}\n` : planToTable(input, plan));
    return 0;
  },
};

/** Dollars to a hundredth of a cent. */
function dollars(x: number): number {
  return Math.round(x * 10_000) / 10_000 + 0;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function planToJson(plan: MovementPlan) {
  return {
    moves: plan.moves.map((m) => ({
      partition: m.partition,
      from: m.from,
      to: m.to,
      bytes: m.bytes,
      priority: m.priority,
      startBy: iso(m.startByMs),
      deadline: iso(m.deadlineMs),
      expectedDurationSeconds: Math.round(m.expectedDurationMs / 100) / 10,
      benefit: dollars(m.benefit),
      reasons: Object.fromEntries(Object.entries(m.reasons).map(([k, v]) => [k, dollars(v ?? 0)])),
    })),
    costBefore: dollars(plan.costBefore),
    costAfter: dollars(plan.costAfter),
    deferred: plan.deferred,
    capacityForecast: plan.capacityForecast.map((s) => ({
      region: s.region,
      at: iso(s.atMs),
      scaleOutBy: iso(s.scaleOutByMs),
      peakDemandOpsPerSec: Math.round(s.peakDemandOpsPerSec),
      usableCapacityOpsPerSec: Math.round(s.usableCapacityOpsPerSec),
      cellsNeeded: s.cellsNeeded,
    })),
  };
}

function planToTable(input: PlannerInput, plan: MovementPlan): string {
  const steps = Object.values(input.partitions[0]?.forecast ?? {})[0]?.length ?? 0;
  const horizon = `${steps} steps of ${input.stepSeconds / 60} min`;
  const saved = plan.costBefore - plan.costAfter;
  const lines = [
    `plan at ${iso(plan.createdAtMs)} (${horizon}): ${plan.moves.length} move(s); objective $${plan.costBefore.toFixed(2)} → $${plan.costAfter.toFixed(2)} (saves $${saved.toFixed(2)} over the horizon)`,
    '',
  ];
  if (plan.moves.length > 0) {
    const header = [
      '#',
      'partition',
      'from',
      'to',
      'size',
      'start by',
      'deadline',
      'copy',
      'benefit',
      'reasons',
    ];
    const rows = plan.moves.map((m) => [
      String(m.priority),
      m.partition,
      m.from,
      m.to,
      formatBytes(m.bytes),
      iso(m.startByMs),
      iso(m.deadlineMs),
      `${Math.round(m.expectedDurationMs / 1000)} s`,
      `$${m.benefit.toFixed(2)}`,
      Object.entries(m.reasons)
        .map(([k, v]) => `${k} ${(v ?? 0) >= 0 ? '+' : '−'}${Math.abs(v ?? 0).toFixed(2)}`)
        .join(', '),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const right = new Set([0, 4, 7, 8]);
    const line = (cells: string[]) =>
      cells
        .map((cell, i) =>
          i === cells.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]),
        )
        .join('  ');
    lines.push(line(header), ...rows.map(line), '');
  }
  const deferred = Object.entries(plan.deferred);
  lines.push(
    deferred.length > 0
      ? `held back: ${deferred.map(([limit, n]) => `${n} by ${limit}`).join(', ')}`
      : 'held back: none',
  );
  if (plan.capacityForecast.length === 0) {
    lines.push('capacity forecast: no region runs short within the horizon');
  } else {
    for (const s of plan.capacityForecast) {
      lines.push(
        `capacity forecast: ${s.region} runs short at ${iso(s.atMs)} (peak ${Math.round(s.peakDemandOpsPerSec)} ops/s, usable ${Math.round(s.usableCapacityOpsPerSec)}); add ${s.cellsNeeded} cell(s), start by ${iso(s.scaleOutByMs)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
