/**
 * The `reordered` check: no two observed lists of a key may order two elements differently. Lists that are
 * prefixes of one another are grouped into shapes so that a correct run costs one pass over each read.
 */
import { describeRead } from './list-append-anomalies.ts';
import { type CheckContext, firstOccurrences, type KeyHistory } from './list-append-context.ts';

/** An observed list in first-occurrence order, so that duplicates (reported on their own) do not blur order. */
export interface OrderedList {
  readonly order: readonly string[];
  readonly label: () => string;
}

interface Inversion {
  /** Index in the first list at which its prefix first holds a pair the other list orders the other way. */
  readonly index: number;
  readonly before: string;
  readonly after: string;
}

/**
 * A set of observed lists that are all prefixes of one of them, the representative. Two lists of one shape
 * never disagree on order, and a member of length ℓ disagrees with some list of another shape iff it
 * disagrees with that shape's representative, iff ℓ exceeds the representative's first inversion against it.
 */
interface OrderShape {
  readonly rep: OrderedList;
  readonly pos: ReadonlyMap<string, number>;
  readonly members: OrderedList[];
  minInversion: number;
  witness: { readonly before: string; readonly after: string; readonly other: OrderedList } | null;
}

/**
 * Groups the key's observed lists into shapes (see OrderShape), then finds for each shape the shortest prefix of
 * its representative that some other shape contradicts. In a correct run every list is a prefix of the final
 * list, there is one shape, and this is a single pass over each read.
 */
export function checkOrder(
  context: CheckContext,
  history: KeyHistory,
  final: OrderedList,
  finalPos: ReadonlyMap<string, number>,
): void {
  const finalShape: OrderShape = {
    rep: final,
    pos: finalPos,
    members: [final],
    minInversion: Infinity,
    witness: null,
  };
  const divergent: OrderedList[] = [];
  for (const read of history.reads) {
    const list: OrderedList = {
      order: firstOccurrences(context, read.list!),
      label: () => describeRead(read),
    };
    if (isPrefix(list.order, final.order)) finalShape.members.push(list);
    else divergent.push(list);
  }
  if (divergent.length === 0) return;

  // Longest first, so that shorter lists join an existing shape instead of starting their own.
  divergent.sort((a, b) => b.order.length - a.order.length);
  const shapes: OrderShape[] = [finalShape];
  const overflow: OrderedList[] = [];
  for (const list of divergent) {
    const last = list.order[list.order.length - 1];
    const host = shapes.find(
      (shape, index) =>
        index > 0 && shape.pos.get(last) === list.order.length - 1 && isPrefix(list.order, shape.rep.order),
    );
    if (host) host.members.push(list);
    else if (shapes.length - 1 < context.maxOrderShapesPerKey)
      shapes.push({
        rep: list,
        pos: positions(list.order),
        members: [list],
        minInversion: Infinity,
        witness: null,
      });
    else overflow.push(list);
  }

  // Against the final list always: linear in the lists, and it finds every reorder of elements it holds.
  for (const shape of shapes.slice(1)) {
    compareShapes(shape, finalShape.rep, finalShape.pos);
    compareShapes(finalShape, shape.rep, shape.pos);
  }
  let skippedPairs = false;
  for (let i = 1; i < shapes.length && !skippedPairs; i++) {
    for (let j = 1; j < shapes.length; j++) {
      if (i === j) continue;
      const cost = shapes[i].rep.order.length;
      if (context.orderBudget < cost) {
        skippedPairs = true;
        break;
      }
      context.orderBudget -= cost;
      compareShapes(shapes[i], shapes[j].rep, shapes[j].pos);
    }
  }
  if (skippedPairs && !context.orderBudgetExhausted) {
    context.orderBudgetExhausted = true;
    context.notes.push(
      `reordered: the order comparison budget ran out at key ${history.key}; from there some divergent read ` +
        'orders were compared with the final list only, so the count is a lower bound',
    );
  }
  if (overflow.length > 0)
    context.notes.push(
      `reordered: key ${history.key} has more than ${context.maxOrderShapesPerKey} divergent read orders; ` +
        `${overflow.length} reads were compared with the final list only, so the count is a lower bound`,
    );

  const { reordered } = context.tallies;
  for (const list of overflow) {
    const inversion = firstInversion(list.order, finalPos);
    if (inversion) reordered.add(() => describeReorder(list, inversion, final));
    compareShapes(finalShape, list, positions(list.order));
  }
  for (const shape of shapes) {
    const witness = shape.witness;
    if (!witness) continue;
    for (const member of shape.members)
      if (member.order.length > shape.minInversion)
        reordered.add(() => describeReorder(member, witness, witness.other));
  }
}

function compareShapes(shape: OrderShape, other: OrderedList, otherPos: ReadonlyMap<string, number>): void {
  const inversion = firstInversion(shape.rep.order, otherPos);
  if (inversion && inversion.index < shape.minInversion) {
    shape.minInversion = inversion.index;
    shape.witness = { before: inversion.before, after: inversion.after, other };
  }
}

/** The first element of `order` that `otherPos` places before an element preceding it in `order`. */
function firstInversion(order: readonly string[], otherPos: ReadonlyMap<string, number>): Inversion | null {
  let maxPos = -1;
  let maxElement = '';
  for (let index = 0; index < order.length; index++) {
    const pos = otherPos.get(order[index]);
    if (pos === undefined) continue;
    if (pos < maxPos) return { index, before: maxElement, after: order[index] };
    maxPos = pos;
    maxElement = order[index];
  }
  return null;
}

function describeReorder(
  list: OrderedList,
  pair: { readonly before: string; readonly after: string },
  other: OrderedList,
): string {
  return `${list.label()} has ${pair.before} before ${pair.after}, but ${other.label()} has ${pair.after} before ${pair.before}`;
}

export function positions(order: readonly string[]): Map<string, number> {
  const pos = new Map<string, number>();
  for (let index = 0; index < order.length; index++) pos.set(order[index], index);
  return pos;
}

function isPrefix(list: readonly string[], of: readonly string[]): boolean {
  if (list.length > of.length) return false;
  for (let index = 0; index < list.length; index++) if (list[index] !== of[index]) return false;
  return true;
}
