/**
 * The regions a scenario may use, in the order a scenario with N regions takes them (the first N), with
 * their audience's UTC offset and the round-trip latency between them.
 *
 * Latencies are typical median inter-region round trips in milliseconds, rounded to 5 ms, as public
 * inter-region ping tables (cloudping.co, AWS Network Manager's published medians) show them; the three
 * regions the bundled traces use keep the values of data/traces (80 / 145 / 212 ms) so the two agree.
 * They are an order-of-magnitude model of the geography, not measurements of this project.
 */
export interface ScenarioRegion {
  readonly name: string;
  /** UTC offset of the region's audience (standard time): its daily cycle peaks at local hours. */
  readonly utcOffsetHours: number;
  /** Default share of the demand whose home is this region, before normalization over the regions in use. */
  readonly audienceWeight: number;
}

export const REGION_CATALOG: readonly ScenarioRegion[] = [
  { name: 'us-east-1', utcOffsetHours: -5, audienceWeight: 0.36 },
  { name: 'eu-west-1', utcOffsetHours: 0, audienceWeight: 0.26 },
  { name: 'ap-northeast-1', utcOffsetHours: 9, audienceWeight: 0.16 },
  { name: 'us-west-2', utcOffsetHours: -8, audienceWeight: 0.1 },
  { name: 'ap-southeast-2', utcOffsetHours: 10, audienceWeight: 0.07 },
  { name: 'sa-east-1', utcOffsetHours: -3, audienceWeight: 0.05 },
];

export const MIN_REGIONS = 2;
export const MAX_REGIONS = REGION_CATALOG.length;

/** Round-trip latency (ms) between two catalog regions, each pair listed once. */
const ROUND_TRIP_MS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'us-east-1': {
    'eu-west-1': 80,
    'ap-northeast-1': 145,
    'us-west-2': 65,
    'ap-southeast-2': 200,
    'sa-east-1': 115,
  },
  'eu-west-1': { 'ap-northeast-1': 212, 'us-west-2': 125, 'ap-southeast-2': 255, 'sa-east-1': 180 },
  'ap-northeast-1': { 'us-west-2': 100, 'ap-southeast-2': 105, 'sa-east-1': 255 },
  'us-west-2': { 'ap-southeast-2': 140, 'sa-east-1': 175 },
  'ap-southeast-2': { 'sa-east-1': 310 },
};

/** The first `count` catalog regions. */
export function scenarioRegions(count: number): readonly ScenarioRegion[] {
  if (!Number.isInteger(count) || count < MIN_REGIONS || count > MAX_REGIONS) {
    throw new RangeError(`a scenario has ${MIN_REGIONS} to ${MAX_REGIONS} regions, not ${count}`);
  }
  return REGION_CATALOG.slice(0, count);
}

/** The topology's `latencyMs` for these regions: each pair once, as topology.json writes it. */
export function latencyMatrix(regions: readonly ScenarioRegion[]): Record<string, Record<string, number>> {
  const matrix: Record<string, Record<string, number>> = {};
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i].name;
      const b = regions[j].name;
      const ms = ROUND_TRIP_MS[a]?.[b] ?? ROUND_TRIP_MS[b]?.[a];
      if (ms === undefined) throw new Error(`no latency between ${a} and ${b} in the region catalog`);
      matrix[a] = { ...matrix[a], [b]: ms };
    }
  }
  return matrix;
}
