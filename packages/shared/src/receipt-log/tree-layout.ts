/**
 * Where the hashes a root or a proof needs live: every node of every complete (perfect) subtree, named by
 * (level, index). Pure arithmetic over sizes and indexes, no hashing and no I/O.
 *
 * Node (level ℓ, index i) is the root of the perfect subtree over leaves [i·2^ℓ, (i+1)·2^ℓ); level 0 holds the leaf
 * hashes. It exists, and never changes, once the tree has (i+1)·2^ℓ leaves. Every node of the RFC 6962 tree of any
 * size is either such a node or the right fold of a few of them (its "right border"), so a root or a proof at any size
 * is a fold of O(log n) stored nodes.
 */
import { invalidArgument } from "../errors/domain-error.js";
import { hashChildren } from "./tree-hash.js";

/** A node of a complete subtree: the root of the perfect subtree over leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/**
 * What to read for a proof: `nodeIds` (each at most once, in one query) and how to fold them into the proof's hashes:
 * proof element j is the right fold (see {@link foldRight}) of the next `groups[j]` hashes, in `nodeIds` order.
 */
export interface ProofPlan {
  readonly nodeIds: readonly NodeId[];
  readonly groups: readonly number[];
}

/** The largest tree size (and leaf index + 1) the arithmetic here is exact for. */
export const MAX_TREE_SIZE = Number.MAX_SAFE_INTEGER;

const POW2: readonly number[] = Array.from({ length: 54 }, (_, i) => 2 ** i);

/** Throws INVALID_ARGUMENT naming `field` unless `value` is a whole number in [0, MAX_TREE_SIZE]. */
export function checkTreeSize(field: string, value: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(field, `must be a whole number from 0 to ${MAX_TREE_SIZE}, got ${String(value)}`);
  }
  return value;
}

/** The level of the highest set bit of `n` (n ≥ 1). */
function highestLevel(n: number): number {
  let level = Math.floor(Math.log2(n));
  // log2 of values near 2^53 can round up past the true bit.
  while (POW2[level]! > n) level--;
  while (level + 1 < POW2.length && POW2[level + 1]! <= n) level++;
  return level;
}

/** The largest power of two strictly less than n (n ≥ 2): RFC 6962's split point k. */
export function splitPoint(n: number): number {
  return POW2[highestLevel(n - 1)]!;
}

/**
 * Appends the perfect-subtree nodes covering [start, end) to `out`, largest (leftmost) first. `start` must be a
 * multiple of the smallest power of two ≥ end − start, which holds for every node of an RFC 6962 tree.
 */
function pushRangeNodes(start: number, end: number, out: NodeId[]): number {
  let remaining = end - start;
  if (remaining <= 0) return 0;
  let position = start;
  let count = 0;
  for (let level = highestLevel(remaining); level >= 0 && remaining > 0; level--) {
    const width = POW2[level]!;
    if (remaining >= width) {
      out.push({ level, index: position / width });
      position += width;
      remaining -= width;
      count++;
    }
  }
  return count;
}

/**
 * The nodes whose right fold is the root of the tree of `size` leaves, largest (leftmost) first: one per set bit of
 * `size`, so at most 53. They are also the tree's frontier, all an append needs to know of what came before.
 */
export function rootNodeIds(size: number): NodeId[] {
  checkTreeSize("tree_size", size);
  const ids: NodeId[] = [];
  pushRangeNodes(0, size, ids);
  return ids;
}

/**
 * The right fold of subtree hashes, as RFC 6962 combines a node's right border: H(h0, H(h1, … H(hn-2, hn-1))).
 * Undefined for an empty list.
 */
export function foldRight(hashes: readonly Uint8Array[], from = 0, to = hashes.length): Uint8Array | undefined {
  if (to <= from) return undefined;
  let acc = hashes[to - 1]!;
  for (let j = to - 2; j >= from; j--) acc = hashChildren(hashes[j]!, acc);
  return acc;
}

function planOf(ranges: readonly (readonly [number, number])[]): ProofPlan {
  const nodeIds: NodeId[] = [];
  const groups: number[] = [];
  for (const [start, end] of ranges) groups.push(pushRangeNodes(start, end, nodeIds));
  return { nodeIds, groups };
}

/**
 * The plan of the RFC 6962 §2.1.1 audit path of leaf `leafIndex` in the tree of `treeSize` leaves: siblings from the
 * leaf up. All are stored nodes but at most one, the first right sibling that is not a perfect subtree, which is the
 * fold of its right border; in all O(log n) nodes.
 */
export function inclusionProofPlan(leafIndex: number, treeSize: number): ProofPlan {
  checkTreeSize("tree_size", treeSize);
  checkTreeSize("leaf_index", leafIndex);
  if (leafIndex >= treeSize) {
    throw invalidArgument("leaf_index", `must be less than the tree size ${treeSize}, got ${leafIndex}`);
  }
  const ranges: [number, number][] = [];
  let start = 0;
  let end = treeSize;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (leafIndex < start + k) {
      ranges.push([start + k, end]);
      end = start + k;
    } else {
      ranges.push([start, start + k]);
      start += k;
    }
  }
  return planOf(ranges.reverse());
}

/**
 * The plan of the RFC 6962 §2.1.2 consistency proof PROOF(firstSize, D[secondSize]): empty when the sizes are equal or
 * the first is 0, otherwise O(log n) nodes.
 */
export function consistencyProofPlan(firstSize: number, secondSize: number): ProofPlan {
  checkTreeSize("first_size", firstSize);
  checkTreeSize("second_size", secondSize);
  if (firstSize > secondSize) {
    throw invalidArgument("first_size", `must not exceed second_size ${secondSize}, got ${firstSize}`);
  }
  const ranges: [number, number][] = [];
  if (firstSize > 0 && firstSize < secondSize) {
    // SUBPROOF(m, D[start:end], whole) unrolled; `whole` is true while D[start:end] starts the first tree.
    let start = 0;
    let end = secondSize;
    let m = firstSize;
    let whole = true;
    for (;;) {
      if (m === end - start) {
        if (!whole) ranges.push([start, end]);
        break;
      }
      const k = splitPoint(end - start);
      if (m <= k) {
        ranges.push([start + k, end]);
        end = start + k;
      } else {
        ranges.push([start, start + k]);
        start += k;
        m -= k;
        whole = false;
      }
    }
  }
  return planOf(ranges.reverse());
}

/** Folds the hashes read for `plan` (in `plan.nodeIds` order) into the proof, one hash per element. */
export function assembleProof(plan: ProofPlan, hashes: readonly Uint8Array[]): Uint8Array[] {
  if (hashes.length !== plan.nodeIds.length) {
    throw new Error(`a proof plan of ${plan.nodeIds.length} nodes was given ${hashes.length} hashes`);
  }
  const proof: Uint8Array[] = [];
  let offset = 0;
  for (const count of plan.groups) {
    proof.push(foldRight(hashes, offset, offset + count)!);
    offset += count;
  }
  return proof;
}
