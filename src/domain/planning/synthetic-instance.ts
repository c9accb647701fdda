import { gaussian, seededRandom } from '../seeded-random.ts';
import type { CellSpec, RegionInfo, Topology } from '../topology.ts';
import type {
  CellStatus,
  InFlightMove,
  PlannerInput,
  PlannerLimits,
  PlannerPartition,
  Relationship,
} from './movement-plan.ts';

export { seededRandom };

/**
 * Seeded, realistic random planner inputs for the benchmarks, property tests and demos: six AWS regions with
 * measured-order inter-region latencies, partitions with a home region, a heavy-tailed (log-normal) rate and
 * size, each region's daily cycle in its own time zone, a few predicted surges, some misplaced partitions,
 * co-access between partitions of one home region, and cells sized to a target utilization.
 */
export interface SyntheticInstanceSpec {
  readonly seed: number;
  readonly partitions: number;
  /** Regions used, from the six below (1..6). */
  readonly regions: number;
  readonly cellsPerRegion: number;
  /** @default 24 */
  readonly steps?: number;
  /** @default 300 */
  readonly stepSeconds?: number;
  /** Peak hosted demand / ops capacity per region. @default 0.6 */
  readonly utilization?: number;
  /** Bytes / bytes capacity per region. @default 0.5 */
  readonly bytesUtilization?: number;
  /** Partitions placed outside their home region. @default 0.1 */
  readonly misplacedFraction?: number;
  /** Relationships per partition. @default 0.5 */
  readonly relationshipsPerPartition?: number;
  /** Partitions with a predicted surge in the horizon. @default 0.05 */
  readonly surgeFraction?: number;
  /** Partitions with a move in flight. @default 0 */
  readonly inFlightFraction?: number;
  /** Partitions moved recently (cooling down). @default 0 */
  readonly coolingFraction?: number;
  /** Median partition size in bytes. @default 1 GiB */
  readonly medianBytes?: number;
  /** Median partition rate in ops/s. @default 20 */
  readonly medianOpsPerSec?: number;
  /** Extra empty PROVISIONING cells (in the first region). @default 0 */
  readonly provisioningCells?: number;
  readonly limits?: Partial<PlannerLimits>;
  /** Migration bandwidth per cell. @default 200 MB/s */
  readonly migrationBandwidthBytesPerSec?: number;
  /** Start of the horizon. @default 2026-01-15T12:00:00Z */
  readonly nowMs?: number;
}

const REGIONS: readonly (readonly [string, number])[] = [
  ['us-east-1', -5],
  ['eu-west-1', 0],
  ['ap-northeast-1', 9],
  ['us-west-2', -8],
  ['eu-central-1', 1],
  ['ap-southeast-1', 8],
];
/** Round-trip order of magnitude between the regions above, in ms. */
const LATENCY: Record<string, Record<string, number>> = {
  'us-east-1': {
    'eu-west-1': 70,
    'ap-northeast-1': 150,
    'us-west-2': 65,
    'eu-central-1': 90,
    'ap-southeast-1': 215,
  },
  'eu-west-1': { 'ap-northeast-1': 210, 'us-west-2': 130, 'eu-central-1': 25, 'ap-southeast-1': 170 },
  'ap-northeast-1': { 'us-west-2': 100, 'eu-central-1': 225, 'ap-southeast-1': 70 },
  'us-west-2': { 'eu-central-1': 145, 'ap-southeast-1': 165 },
  'eu-central-1': { 'ap-southeast-1': 155 },
};

export function generatePlannerInstance(spec: SyntheticInstanceSpec): PlannerInput {
  const random = seededRandom(spec.seed);
  const steps = spec.steps ?? 24;
  const stepSeconds = spec.stepSeconds ?? 300;
  const nowMs = spec.nowMs ?? Date.parse('2026-01-15T12:00:00Z');
  const R = Math.max(1, Math.min(REGIONS.length, spec.regions));
  const regionNames = REGIONS.slice(0, R).map(([name]) => name);
  const regions: Record<string, RegionInfo> = {};
  const latencyMs: Record<string, Record<string, number>> = {};
  for (const [name, offset] of REGIONS.slice(0, R)) {
    regions[name] = { utcOffsetHours: offset };
    latencyMs[name] = {};
  }
  for (const a of regionNames) {
    for (const b of regionNames) {
      const ms = LATENCY[a]?.[b];
      if (ms !== undefined) latencyMs[a][b] = ms;
    }
  }

  // Daily cycle per region and step: 0.5..1.5 around the local afternoon peak.
  const cycle = regionNames.map((_, r) => {
    const offset = REGIONS[r][1];
    return Float64Array.from({ length: steps }, (_, t) => {
      const hourUtc = ((nowMs + t * stepSeconds * 1000) / 3_600_000) % 24;
      const local = (hourUtc + offset + 24) % 24;
      return 1 + 0.5 * Math.cos((2 * Math.PI * (local - 15)) / 24);
    });
  });

  const P = spec.partitions;
  const medianOps = spec.medianOpsPerSec ?? 20;
  const medianBytes = spec.medianBytes ?? 2 ** 30;
  const surgeFraction = spec.surgeFraction ?? 0.05;
  const homes = new Int32Array(P);
  const forecasts: Record<string, Float64Array>[] = [];
  const sizes = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const home = Math.floor(random() * R);
    homes[p] = home;
    const rate = medianOps * Math.exp(1.1 * gaussian(random));
    sizes[p] = Math.round(
      Math.min(64 * 2 ** 30, Math.max(2 ** 20, medianBytes * Math.exp(gaussian(random)))),
    );
    const shares = new Map<number, number>([[home, 0.7 + 0.25 * random()]]);
    const others = R > 1 ? Math.floor(random() * Math.min(3, R)) : 0;
    for (let i = 0; i < others; i++) {
      const r = Math.floor(random() * R);
      if (r !== home)
        shares.set(r, (shares.get(r) ?? 0) + (1 - (shares.get(home) as number)) / Math.max(1, others));
    }
    // A surge: the demand of one (often a foreign) region multiplies for a few steps.
    let surgeRegion = -1;
    let surgeStart = 0;
    let surgeLength = 0;
    let surgeFactor = 1;
    if (random() < surgeFraction) {
      surgeRegion = Math.floor(random() * R);
      surgeStart = Math.floor(random() * steps * 0.75);
      surgeLength = 1 + Math.floor(random() * Math.max(1, steps / 4));
      surgeFactor = 3 + 7 * random();
      if (!shares.has(surgeRegion)) shares.set(surgeRegion, 0.05);
    }
    const forecast: Record<string, Float64Array> = {};
    for (const [r, share] of shares) {
      const series = new Float64Array(steps);
      for (let t = 0; t < steps; t++) {
        let v = rate * share * cycle[r][t];
        if (r === surgeRegion && t >= surgeStart && t < surgeStart + surgeLength) v *= surgeFactor;
        series[t] = Math.round(v * 1000) / 1000;
      }
      forecast[regionNames[r]] = series;
    }
    forecasts.push(forecast);
  }

  // Placement: home region, except the misplaced ones.
  const misplaced = spec.misplacedFraction ?? 0.1;
  const regionOf = Int32Array.from(homes, (home) =>
    R > 1 && random() < misplaced ? (home + 1 + Math.floor(random() * (R - 1))) % R : home,
  );
  const cellsPerRegion = Math.max(1, spec.cellsPerRegion);
  const cellOf = Int32Array.from(regionOf, (r) => r * cellsPerRegion + Math.floor(random() * cellsPerRegion));

  // Size the cells to the target utilization of the busiest region step.
  const utilization = spec.utilization ?? 0.6;
  const bytesUtilization = spec.bytesUtilization ?? 0.5;
  const hostedPeak = new Float64Array(R);
  const hostedBytes = new Float64Array(R);
  const hosted = Array.from({ length: R }, () => new Float64Array(steps));
  for (let p = 0; p < P; p++) {
    const r = regionOf[p];
    hostedBytes[r] += sizes[p];
    for (const series of Object.values(forecasts[p]))
      for (let t = 0; t < steps; t++) hosted[r][t] += series[t];
  }
  for (let r = 0; r < R; r++) hostedPeak[r] = Math.max(...hosted[r]);
  const meanPeak = hostedPeak.reduce((a, b) => a + b, 0) / R;
  const meanBytes = hostedBytes.reduce((a, b) => a + b, 0) / R;
  const capOps = Math.max(100, Math.ceil(meanPeak / (cellsPerRegion * utilization)));
  const capBytes = Math.max(2 ** 30, Math.ceil(meanBytes / (cellsPerRegion * bytesUtilization)));
  const cells: CellSpec[] = [];
  for (let r = 0; r < R; r++) {
    for (let i = 0; i < cellsPerRegion; i++) {
      cells.push({
        id: `${regionNames[r]}-c${i + 1}`,
        region: regionNames[r],
        capacityOpsPerSec: capOps,
        capacityBytes: capBytes,
      });
    }
  }
  const cellStatus: Record<string, CellStatus> = {};
  for (let i = 0; i < (spec.provisioningCells ?? 0); i++) {
    const id = `${regionNames[0]}-new${i + 1}`;
    cells.push({ id, region: regionNames[0], capacityOpsPerSec: capOps, capacityBytes: capBytes });
    cellStatus[id] = 'PROVISIONING';
  }

  const coolingFraction = spec.coolingFraction ?? 0;
  const partitions: PlannerPartition[] = [];
  for (let p = 0; p < P; p++) {
    const cooling = random() < coolingFraction;
    partitions.push({
      id: `p${String(p).padStart(6, '0')}`,
      sizeBytes: sizes[p],
      cell: cells[cellOf[p]].id,
      forecast: forecasts[p],
      writeFraction: Math.round(random() * 50) / 100,
      ...(cooling ? { lastMovedAtMs: nowMs - random() * 3_600_000 } : {}),
    });
  }

  // Co-access between partitions of one home region.
  const relationships: Relationship[] = [];
  const byHome: number[][] = Array.from({ length: R }, () => []);
  for (let p = 0; p < P; p++) byHome[homes[p]].push(p);
  const relCount = Math.round(P * (spec.relationshipsPerPartition ?? 0.5));
  for (let i = 0; i < relCount; i++) {
    const group = byHome[Math.floor(random() * R)];
    if (group.length < 2) continue;
    const a = group[Math.floor(random() * group.length)];
    const b = group[Math.floor(random() * group.length)];
    if (a === b) continue;
    relationships.push({
      a: partitions[a].id,
      b: partitions[b].id,
      coAccessPerSec: Math.round(medianOps * 0.5 * Math.exp(gaussian(random)) * 1000) / 1000,
    });
  }

  const inFlight: InFlightMove[] = [];
  const inFlightFraction = spec.inFlightFraction ?? 0;
  if (inFlightFraction > 0 && R * cellsPerRegion > 1) {
    // In-flight moves were started under the same throttles: at most half the slots of a cell, half the bytes.
    const perCell = Math.floor((spec.limits?.maxConcurrentMovesPerCell ?? 5) / 2);
    let bytesLeft = (spec.limits?.maxBytesPerCycle ?? 50 * 2 ** 30) / 2;
    const busy = new Int32Array(R * cellsPerRegion);
    for (let p = 0; p < P; p++) {
      if (random() >= inFlightFraction) continue;
      const from = cellOf[p];
      const to = (from + 1 + Math.floor(random() * (R * cellsPerRegion - 1))) % (R * cellsPerRegion);
      if (busy[from] >= perCell || busy[to] >= perCell || sizes[p] > bytesLeft) continue;
      busy[from]++;
      busy[to]++;
      bytesLeft -= sizes[p];
      inFlight.push({
        partition: partitions[p].id,
        from: partitions[p].cell,
        to: cells[to].id,
        bytes: sizes[p],
      });
    }
  }

  const topology: Topology = {
    regions,
    latencyMs,
    transferCostPerGB: 0.02,
    migrationBandwidthBytesPerSec: spec.migrationBandwidthBytesPerSec ?? 200e6,
    cells,
    scalingEvents: [],
  };
  return {
    nowMs,
    stepSeconds,
    topology,
    cellStatus,
    partitions,
    relationships,
    inFlight,
    ...(spec.limits ? { limits: spec.limits } : {}),
  };
}
