/**
 * Appending a batch of leaves to a stored tree, as a pure function: given the tree's frontier (the nodes of
 * {@link rootNodeIds}) and the new leaf hashes, the nodes to store and the new root. A batch of k leaves onto a tree of
 * n reads popcount(n) ≤ log2 n + 1 nodes and writes at most 2k + log2 n (k leaf hashes and every perfect subtree they complete).
 */
import { invalidArgument } from "../errors/domain-error.js";
import { EMPTY_ROOT, HASH_SIZE, hashChildren } from "./tree-hash.js";
import { checkTreeSize, foldRight, rootNodeIds, MAX_TREE_SIZE } from "./tree-layout.js";

/**
 * Nodes to store, as parallel arrays (node j is level `levels[j]`, index `indexes[j]`, hash `hashes[j]`): the shape of
 * one `INSERT … SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`.
 */
export interface NodeBatch {
  readonly levels: number[];
  readonly indexes: number[];
  readonly hashes: Uint8Array[];
}

/** The outcome of an append: the new size and root, and the nodes the append completed (to store). */
export interface AppendResult {
  readonly size: number;
  readonly root: Uint8Array;
  readonly nodes: NodeBatch;
}

/** The Merkle Tree Hash from the hashes of {@link rootNodeIds}(size), read in that order ({@link EMPTY_ROOT} for none). */
export function rootFromNodes(hashes: readonly Uint8Array[]): Uint8Array {
  return foldRight(hashes) ?? EMPTY_ROOT;
}

function checkHash(field: string, hash: Uint8Array): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    throw invalidArgument(field, `must be a hash of ${HASH_SIZE} bytes`);
  }
}

/**
 * Appends `leafHashes` (each from {@link hashLeaf}) to the tree of `size` leaves whose frontier is `frontier` (the
 * hashes of {@link rootNodeIds}(size), in that order). Returns every node that becomes complete — the new leaves at
 * level 0 and each perfect subtree they close — and the root of the grown tree. Appending in any split of batches
 * stores the same nodes and reaches the same roots as appending one by one.
 */
export function appendLeaves(size: number, frontier: readonly Uint8Array[], leafHashes: readonly Uint8Array[]): AppendResult {
  checkTreeSize("tree_size", size);
  if (leafHashes.length > MAX_TREE_SIZE - size) throw invalidArgument("leaves", "would grow the tree past its largest size");
  const frontierIds = rootNodeIds(size);
  if (frontier.length !== frontierIds.length) {
    throw invalidArgument("frontier", `a tree of ${size} leaves has ${frontierIds.length} frontier nodes, got ${frontier.length}`);
  }
  frontier.forEach((h, j) => checkHash(`frontier[${j}]`, h));
  leafHashes.forEach((h, j) => checkHash(`leaves[${j}]`, h));

  // The frontier as a stack of (level, hash), levels strictly decreasing upwards: a binary counter of the size.
  const levels = frontierIds.map((id) => id.level);
  const stack = frontier.slice();
  const nodes: NodeBatch = { levels: [], indexes: [], hashes: [] };
  for (let t = 0; t < leafHashes.length; t++) {
    const leafIndex = size + t;
    let hash = leafHashes[t]!;
    let level = 0;
    nodes.levels.push(0);
    nodes.indexes.push(leafIndex);
    nodes.hashes.push(hash);
    // Each pair of equal levels on top is a perfect subtree this leaf completes.
    while (levels.length > 0 && levels[levels.length - 1] === level) {
      levels.pop();
      hash = hashChildren(stack.pop()!, hash);
      level++;
      nodes.levels.push(level);
      nodes.indexes.push((leafIndex + 1) / 2 ** level - 1);
      nodes.hashes.push(hash);
    }
    levels.push(level);
    stack.push(hash);
  }
  return { size: size + leafHashes.length, root: rootFromNodes(stack), nodes };
}
