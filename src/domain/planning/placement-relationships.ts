import { InputValidationError } from '../errors.ts';
import type { Relationship } from './movement-plan.ts';
import type { PlacementModel } from './placement-model.ts';

/**
 * The input's relationships compiled for the placement model: validated, priced over the horizon, duplicates
 * merged (sorted by pair), as merged pairs and as a symmetric adjacency list (CSR) by partition.
 */

export type CompiledRelationships = Pick<
  PlacementModel,
  'relStart' | 'relPartner' | 'relWeight' | 'pairA' | 'pairB' | 'pairWeight'
>;

/** Each relationship's pair of partitions (low < high) and its dollars over the horizon, in input order. */
interface PricedRelationships {
  readonly relLow: Int32Array;
  readonly relHigh: Int32Array;
  readonly relValue: Float64Array;
}

/** Merged pairs, once each (a < b), sorted by pair. */
type MergedPairs = Pick<PlacementModel, 'pairA' | 'pairB' | 'pairWeight'>;

/**
 * Relationships: merge duplicates (sorted by pair), build a symmetric adjacency list. A pair's weight is in
 * dollars per penalty-ms over `horizonSeconds` (co-access requests × `dollarsPerMs`).
 */
export function compileRelationships(
  rels: readonly Relationship[],
  partitionIndex: ReadonlyMap<string, number>,
  horizonSeconds: number,
  dollarsPerMs: number,
): CompiledRelationships {
  const pairs = mergePairs(priceRelationships(rels, partitionIndex, horizonSeconds, dollarsPerMs));
  return { ...adjacencyOf(pairs, partitionIndex.size), ...pairs };
}

/** Check each relationship and price it over the horizon; errors name the field. */
function priceRelationships(
  rels: readonly Relationship[],
  partitionIndex: ReadonlyMap<string, number>,
  horizonSeconds: number,
  dollarsPerMs: number,
): PricedRelationships {
  const relLow = new Int32Array(rels.length);
  const relHigh = new Int32Array(rels.length);
  const relValue = new Float64Array(rels.length);
  for (let i = 0; i < rels.length; i++) {
    const rel = rels[i];
    const a = partitionIndex.get(rel.a);
    const b = partitionIndex.get(rel.b);
    if (a === undefined) {
      throw new InputValidationError({ field: `relationships[${i}].a` }, `unknown partition '${rel.a}'`);
    }
    if (b === undefined) {
      throw new InputValidationError({ field: `relationships[${i}].b` }, `unknown partition '${rel.b}'`);
    }
    if (a === b) {
      throw new InputValidationError(
        { field: `relationships[${i}].b` },
        'a partition cannot relate to itself',
      );
    }
    const co = rel.coAccessPerSec;
    if (!(co >= 0 && co < Number.POSITIVE_INFINITY)) {
      throw new InputValidationError(
        { field: `relationships[${i}].coAccessPerSec` },
        `expected a number >= 0, found ${co}`,
      );
    }
    relLow[i] = Math.min(a, b);
    relHigh[i] = Math.max(a, b);
    relValue[i] = co * horizonSeconds * dollarsPerMs;
  }
  return { relLow, relHigh, relValue };
}

/** Sort the relationships by pair (then input order) and add up the values of duplicates, in that order. */
function mergePairs({ relLow, relHigh, relValue }: PricedRelationships): MergedPairs {
  const order = Int32Array.from(relLow.keys()).sort(
    (x, y) => relLow[x] - relLow[y] || relHigh[x] - relHigh[y] || x - y,
  );
  const pairAList: number[] = [];
  const pairBList: number[] = [];
  const pairWeightList: number[] = [];
  for (const i of order) {
    const last = pairAList.length - 1;
    if (last >= 0 && pairAList[last] === relLow[i] && pairBList[last] === relHigh[i]) {
      pairWeightList[last] += relValue[i];
    } else {
      pairAList.push(relLow[i]);
      pairBList.push(relHigh[i]);
      pairWeightList.push(relValue[i]);
    }
  }
  return {
    pairA: Int32Array.from(pairAList),
    pairB: Int32Array.from(pairBList),
    pairWeight: Float64Array.from(pairWeightList),
  };
}

/** The merged pairs as a symmetric adjacency list: partners of p at `relStart[p]..relStart[p+1]`. */
function adjacencyOf(
  { pairA, pairB, pairWeight }: MergedPairs,
  P: number,
): Pick<PlacementModel, 'relStart' | 'relPartner' | 'relWeight'> {
  const pairCount = pairA.length;
  const degree = new Int32Array(P + 1);
  for (let i = 0; i < pairCount; i++) {
    degree[pairA[i]]++;
    degree[pairB[i]]++;
  }
  const relStart = new Int32Array(P + 1);
  for (let p = 0; p < P; p++) relStart[p + 1] = relStart[p] + degree[p];
  const fill = relStart.slice(0, P);
  const relPartner = new Int32Array(2 * pairCount);
  const relWeight = new Float64Array(2 * pairCount);
  for (let i = 0; i < pairCount; i++) {
    const a = pairA[i];
    const b = pairB[i];
    relPartner[fill[a]] = b;
    relWeight[fill[a]++] = pairWeight[i];
    relPartner[fill[b]] = a;
    relWeight[fill[b]++] = pairWeight[i];
  }
  return { relStart, relPartner, relWeight };
}

/**
 * Latency-ms equivalent charged per co-access request when two related partitions sit on cells a and b:
 * nothing on one cell, else the cross-cell penalty plus the latency between the cells' regions.
 */
export function cellPairPenaltyMs(
  a: number,
  b: number,
  cellRegion: Int32Array,
  latency: Float64Array,
  R: number,
  crossCellMs: number,
): number {
  if (a === b) return 0;
  return crossCellMs + latency[cellRegion[a] * R + cellRegion[b]];
}
