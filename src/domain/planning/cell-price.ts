import type { CellSpec, Topology } from '../topology.ts';

/**
 * What one cell costs per hour in service, when the topology does not say (`cellHourPriceUsd`).
 *
 * A cell is one DynamoDB table sized for `capacityOpsPerSec`; its hour is priced as that capacity provisioned in
 * DynamoDB, at the default write fraction (20%): us-east-1 provisioned capacity, Standard table class,
 * $0.00065 per WCU-hour and $0.00013 per RCU-hour (https://aws.amazon.com/dynamodb/pricing/provisioned/).
 * 0.8 × $0.00013 + 0.2 × $0.00065 = $0.000234 per ops/s-hour, so a 1,000 ops/s cell costs $0.234 per hour.
 */
export const DEFAULT_PRICE_PER_OPS_HOUR_USD = 0.8 * 0.00013 + 0.2 * 0.00065;

/** Price in US dollars of one hour of `cell` in service: the topology's flat price, else its capacity's. */
export function cellHourPriceUsd(
  topology: Pick<Topology, 'cellHourPriceUsd'>,
  cell: Pick<CellSpec, 'capacityOpsPerSec'>,
): number {
  return topology.cellHourPriceUsd ?? cell.capacityOpsPerSec * DEFAULT_PRICE_PER_OPS_HOUR_USD;
}
