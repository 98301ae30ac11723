/**
 * The storage contract of the tree and the few steps that run over it: append a batch, a root at a past size, an
 * inclusion or a consistency proof. Each reads the nodes it needs in one `getNodes` call and writes in one `putNodes`
 * call, so a SQL store serves each in one statement. An in-memory store for tests and local tools.
 */
import { appendLeaves, rootFromNodes, type AppendResult, type NodeBatch } from "./tree-append.js";
import { assembleProof, consistencyProofPlan, inclusionProofPlan, rootNodeIds, type NodeId } from "./tree-layout.js";

/**
 * Where the nodes of the complete subtrees live (the service: a table keyed by (level, index)). Nodes are immutable
 * once written: a store never overwrites a node with a different hash, and the log has a single writer, which knows
 * the current size (e.g. from its latest checkpoint) and appends under a lock.
 */
export interface TreeNodeStore {
  /** The hashes of `ids`, in the same order. Rejects when any is missing: a caller asked past the tree's size. */
  getNodes(ids: readonly NodeId[]): Promise<readonly Uint8Array[]>;
  /** Stores the nodes of `batch` (they are new: an append writes each node once). */
  putNodes(batch: NodeBatch): Promise<void>;
}

/** Appends `leafHashes` to the tree of `size` leaves kept in `store`: reads its frontier, writes the completed nodes. */
export async function appendToStore(store: TreeNodeStore, size: number, leafHashes: readonly Uint8Array[]): Promise<AppendResult> {
  const ids = rootNodeIds(size);
  const frontier = ids.length === 0 ? [] : await store.getNodes(ids);
  const result = appendLeaves(size, frontier, leafHashes);
  if (result.nodes.levels.length > 0) await store.putNodes(result.nodes);
  return result;
}

/** The root of the tree at `size` (any size the store has reached), from at most log2(size) + 1 nodes. */
export async function rootAtSize(store: TreeNodeStore, size: number): Promise<Uint8Array> {
  const ids = rootNodeIds(size);
  return rootFromNodes(ids.length === 0 ? [] : await store.getNodes(ids));
}

/** The audit path of leaf `leafIndex` in the tree of `treeSize` leaves (RFC 6962 §2.1.1), leaf end first. */
export async function inclusionProof(store: TreeNodeStore, leafIndex: number, treeSize: number): Promise<Uint8Array[]> {
  const plan = inclusionProofPlan(leafIndex, treeSize);
  return assembleProof(plan, plan.nodeIds.length === 0 ? [] : await store.getNodes(plan.nodeIds));
}

/** The consistency proof from the tree of `firstSize` leaves to the tree of `secondSize` (RFC 6962 §2.1.2). */
export async function consistencyProof(store: TreeNodeStore, firstSize: number, secondSize: number): Promise<Uint8Array[]> {
  const plan = consistencyProofPlan(firstSize, secondSize);
  return assembleProof(plan, plan.nodeIds.length === 0 ? [] : await store.getNodes(plan.nodeIds));
}

/** A {@link TreeNodeStore} in memory: one array of hashes per level. Counts what it is asked, for tests of cost. */
export class MemoryTreeStore implements TreeNodeStore {
  private readonly levels: Uint8Array[][] = [];
  /** Nodes read so far, over every `getNodes` call. */
  nodesRead = 0;
  /** Nodes written so far, over every `putNodes` call. */
  nodesWritten = 0;
  /** `getNodes` calls so far. */
  reads = 0;

  /** Resolves the hashes of `ids`; rejects naming the first that was never stored. */
  getNodes(ids: readonly NodeId[]): Promise<readonly Uint8Array[]> {
    this.reads++;
    this.nodesRead += ids.length;
    const out: Uint8Array[] = [];
    for (const { level, index } of ids) {
      const hash = this.levels[level]?.[index];
      if (hash === undefined) return Promise.reject(new Error(`node (${level}, ${index}) is not stored`));
      out.push(hash);
    }
    return Promise.resolve(out);
  }

  /** Stores the batch; rejects, storing nothing, if a node exists with another hash. */
  putNodes(batch: NodeBatch): Promise<void> {
    for (let j = 0; j < batch.levels.length; j++) {
      const existing = this.levels[batch.levels[j]!]?.[batch.indexes[j]!];
      if (existing !== undefined && Buffer.compare(existing, batch.hashes[j]!) !== 0) {
        return Promise.reject(new Error(`node (${batch.levels[j]}, ${batch.indexes[j]}) is stored with another hash`));
      }
    }
    for (let j = 0; j < batch.levels.length; j++) {
      const level = batch.levels[j]!;
      (this.levels[level] ??= [])[batch.indexes[j]!] = batch.hashes[j]!;
    }
    this.nodesWritten += batch.levels.length;
    return Promise.resolve();
  }

  /** How many nodes the store holds. */
  get nodeCount(): number {
    return this.levels.reduce((sum, level) => sum + level.filter((h) => h !== undefined).length, 0);
  }
}
