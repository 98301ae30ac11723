/**
 * Properties of the receipt log's tree for random sizes and leaves, checked against the naive recursive RFC 6962
 * implementation of the tests (receipt-log-naive-rfc6962.ts), never against the incremental tree itself.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MemoryTreeStore,
  appendLeaves,
  appendToStore,
  consistencyProof,
  consistencyProofPlan,
  hashLeaf,
  inclusionProof,
  inclusionProofPlan,
  rootAtSize,
  rootNodeIds,
  verifyConsistency,
  verifyInclusion,
  type NodeBatch,
  type NodeId,
  type TreeNodeStore,
} from "@provenance/shared/receipt-log";
import { naiveConsistency, naivePath, naiveRoot } from "./receipt-log-naive-rfc6962.js";

/** Distinct leaves, so that only a hash collision could make a proof pass for another index or size. */
const leafList = (min: number, max: number) =>
  fc.uniqueArray(fc.uint8Array({ maxLength: 12 }), {
    minLength: min,
    maxLength: max,
    selector: (leaf) => Buffer.from(leaf).toString("hex"),
  });

async function storeOf(leaves: readonly Uint8Array[]): Promise<MemoryTreeStore> {
  const store = new MemoryTreeStore();
  await appendToStore(store, 0, leaves.map((l) => hashLeaf(l)));
  return store;
}

/** A copy of `hash` with one bit flipped. */
function flipped(hash: Uint8Array, bit = 0): Buffer {
  const copy = Buffer.from(hash);
  copy[Math.floor(bit / 8) % copy.length]! ^= 1 << bit % 8;
  return copy;
}

/** Every node id of every complete subtree of a tree of `size` leaves. */
function allNodeIds(size: number): NodeId[] {
  const ids: NodeId[] = [];
  for (let level = 0; 2 ** level <= size; level++) {
    for (let index = 0; (index + 1) * 2 ** level <= size; index++) ids.push({ level, index });
  }
  return ids;
}

const hex = (hashes: readonly Uint8Array[]) => hashes.map((h) => Buffer.from(h).toString("hex"));

describe("inclusion proofs (random trees)", () => {
  it("every leaf's proof equals RFC 6962 PATH, verifies against the naive root, and fails when anything is altered", async () => {
    await fc.assert(
      fc.asyncProperty(leafList(1, 70), fc.nat(), async (leaves, pick) => {
        const store = await storeOf(leaves);
        const n = leaves.length;
        const root = naiveRoot(leaves);
        expect(Buffer.from(await rootAtSize(store, n)).equals(root)).toBe(true);
        for (let m = 0; m < n; m++) {
          const path = await inclusionProof(store, m, n);
          expect(hex(path)).toEqual(hex(naivePath(m, leaves)));
          const claim = { leafHash: hashLeaf(leaves[m]!), leafIndex: m, treeSize: n, path, root };
          expect(verifyInclusion(claim)).toBe(true);

          const other = Buffer.concat([leaves[m]!, Buffer.from([pick % 256])]);
          expect(verifyInclusion({ ...claim, leafHash: hashLeaf(other) })).toBe(false);
          const otherIndex = n === 1 ? 1 : (m + 1 + (pick % (n - 1))) % n;
          expect(otherIndex).not.toBe(m);
          expect(verifyInclusion({ ...claim, leafIndex: otherIndex })).toBe(false);
          // A path proves inclusion in the tree of one size: not in the tree with one leaf more or one fewer. (The
          // size itself is bound by the signed checkpoint that carries the root, so it is checked with its own root.)
          expect(verifyInclusion({ ...claim, treeSize: n + 1, root: naiveRoot([...leaves, other]) })).toBe(false);
          if (m < n - 1) expect(verifyInclusion({ ...claim, treeSize: n - 1, root: naiveRoot(leaves.slice(0, n - 1)) })).toBe(false);
          expect(verifyInclusion({ ...claim, root: flipped(root, pick % 256) })).toBe(false);
          path.forEach((_, j) => {
            expect(verifyInclusion({ ...claim, path: path.map((h, k) => (k === j ? flipped(h, pick % 256) : h)) })).toBe(false);
          });
          expect(verifyInclusion({ ...claim, path: [...path, root] })).toBe(false);
          if (path.length > 0) expect(verifyInclusion({ ...claim, path: path.slice(1) })).toBe(false);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe("consistency proofs (random trees)", () => {
  it("between every pair of sizes equal RFC 6962 PROOF, verify against the naive roots, and fail when altered", async () => {
    await fc.assert(
      fc.asyncProperty(leafList(1, 40), fc.nat(), async (leaves, pick) => {
        const store = await storeOf(leaves);
        const roots = Array.from({ length: leaves.length + 1 }, (_, size) => naiveRoot(leaves.slice(0, size)));
        for (let second = 0; second <= leaves.length; second++) {
          for (let first = 0; first <= second; first++) {
            const path = await consistencyProof(store, first, second);
            expect(hex(path)).toEqual(hex(naiveConsistency(first, leaves.slice(0, second))));
            const claim = { firstSize: first, secondSize: second, firstRoot: roots[first]!, secondRoot: roots[second]!, path };
            expect(verifyConsistency(claim)).toBe(true);
            expect(verifyConsistency({ ...claim, firstRoot: flipped(claim.firstRoot, pick % 256) })).toBe(false);
            // Every tree extends the empty one: a first size of 0 says nothing about the second root.
            expect(verifyConsistency({ ...claim, secondRoot: flipped(claim.secondRoot, pick % 256) })).toBe(first === 0 && second > 0);
            path.forEach((_, j) => {
              expect(verifyConsistency({ ...claim, path: path.map((h, k) => (k === j ? flipped(h, pick % 256) : h)) })).toBe(false);
            });
            if (path.length > 0) expect(verifyConsistency({ ...claim, path: path.slice(0, -1) })).toBe(false);
            expect(verifyConsistency({ ...claim, path: [...path, roots[second]!] })).toBe(false);
            if (first > 0 && first < second) {
              expect(verifyConsistency({ ...claim, firstSize: first + 1, firstRoot: roots[first + 1]! })).toBe(false);
              expect(verifyConsistency({ ...claim, secondSize: second - 1, secondRoot: roots[second - 1]! })).toBe(false);
            }
          }
        }
      }),
      { numRuns: 12 },
    );
  });
});

describe("appending in batches", () => {
  it("any split into batches stores the same nodes and reaches the same roots as one by one", async () => {
    await fc.assert(
      fc.asyncProperty(leafList(0, 150), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 20 }), async (leaves, cuts) => {
        const hashes = leaves.map((l) => hashLeaf(l));
        const single = new MemoryTreeStore();
        for (let n = 0; n < hashes.length; n++) await appendToStore(single, n, [hashes[n]!]);

        const batched = new MemoryTreeStore();
        let size = 0;
        for (const cut of [...cuts, hashes.length]) {
          const batch = hashes.slice(size, Math.min(hashes.length, size + cut));
          const readsBefore = batched.nodesRead;
          const writesBefore = batched.nodesWritten;
          const result = await appendToStore(batched, size, batch);
          // O(k + log n): the frontier read, and at most 2k + log2 n nodes written.
          expect(batched.nodesRead - readsBefore).toBe(rootNodeIds(size).length);
          expect(batched.nodesWritten - writesBefore).toBeLessThanOrEqual(2 * batch.length + Math.ceil(Math.log2(size + 1)));
          size = result.size;
          expect(Buffer.from(result.root).equals(naiveRoot(leaves.slice(0, size)))).toBe(true);
          if (size === hashes.length) break;
        }
        expect(size).toBe(hashes.length);
        expect(batched.nodeCount).toBe(single.nodeCount);
        const ids = allNodeIds(size);
        expect(ids).toHaveLength(single.nodeCount);
        if (ids.length > 0) expect(hex(await batched.getNodes(ids))).toEqual(hex(await single.getNodes(ids)));
      }),
      { numRuns: 60 },
    );
  });

  it("reads O(log n) nodes for a root or a proof at any size", async () => {
    await fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.nat(), fc.nat(), (n, a, b) => {
        let ceilLog2 = 0;
        while (2 ** ceilLog2 < n) ceilLog2++;
        const bound = 2 * ceilLog2;
        expect(rootNodeIds(n).length).toBeLessThanOrEqual(ceilLog2 + 1);
        expect(inclusionProofPlan(a % n, n).nodeIds.length).toBeLessThanOrEqual(bound);
        expect(consistencyProofPlan(b % (n + 1), n).nodeIds.length).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 500 },
    );
  });
});

const Z_LEAF = hashLeaf("z");

/**
 * A consistent store for trees far too big to build: every leaf hashes to hashLeaf("z") except a few `special`
 * indexes, so each node is computed on demand in O(level · specials). Its nodes obey the RFC 6962 relations exactly,
 * and the special leaves make left and right distinguishable along the paths under test.
 */
class SparseTreeStore implements TreeNodeStore {
  private readonly zero: Buffer[] = [Z_LEAF];

  constructor(private readonly special: ReadonlyMap<number, Buffer>) {
    for (let level = 1; level <= 53; level++) this.zero.push(nodeHash(this.zero[level - 1]!, this.zero[level - 1]!));
  }

  node(level: number, index: number): Buffer {
    const start = index * 2 ** level;
    const end = start + 2 ** level;
    const inside = [...this.special.keys()].some((i) => i >= start && i < end);
    if (!inside) return this.zero[level]!;
    if (level === 0) return this.special.get(index)!;
    return nodeHash(this.node(level - 1, 2 * index), this.node(level - 1, 2 * index + 1));
  }

  getNodes(ids: readonly NodeId[]): Promise<readonly Uint8Array[]> {
    return Promise.resolve(ids.map(({ level, index }) => this.node(level, index)));
  }

  putNodes(_batch: NodeBatch): Promise<void> {
    return Promise.reject(new Error("read only"));
  }
}

/** H(0x01 ‖ l ‖ r), written here again so the sparse store does not lean on the code under test. */
function nodeHash(l: Uint8Array, r: Uint8Array): Buffer {
  return createHash("sha256").update(Buffer.from([1])).update(l).update(r).digest();
}

describe("sizes past 2^32 (a sparse tree)", () => {
  const big = fc.integer({ min: 2 ** 32, max: 2 ** 50 });

  it("inclusion proofs verify and fail for a neighbouring index, with arithmetic exact past 32 bits", async () => {
    await fc.assert(
      fc.asyncProperty(big, fc.double({ min: 0, max: 1, noNaN: true }), async (n, at) => {
        const m = Math.min(n - 1, Math.floor(at * n));
        const neighbour = m === n - 1 ? m - 1 : m + 1;
        const store = new SparseTreeStore(new Map([[m, hashLeaf("m")], [neighbour, hashLeaf("neighbour")]]));
        const root = await rootAtSize(store, n);
        const path = await inclusionProof(store, m, n);
        expect(verifyInclusion({ leafHash: hashLeaf("m"), leafIndex: m, treeSize: n, path, root })).toBe(true);
        expect(verifyInclusion({ leafHash: hashLeaf("m"), leafIndex: neighbour, treeSize: n, path, root })).toBe(false);
        expect(verifyInclusion({ leafHash: hashLeaf("neighbour"), leafIndex: m, treeSize: n, path, root })).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it("consistency proofs verify between big sizes, and an append past 2^32 reaches the root the store implies", async () => {
    await fc.assert(
      fc.asyncProperty(big, big, async (x, y) => {
        const [first, second] = x <= y ? [x, y] : [y, x];
        const store = new SparseTreeStore(new Map([[first - 1, hashLeaf("last of first")], [second - 1, hashLeaf("last")]]));
        const firstRoot = await rootAtSize(store, first);
        const secondRoot = await rootAtSize(store, second);
        const path = await consistencyProof(store, first, second);
        expect(verifyConsistency({ firstSize: first, secondSize: second, firstRoot, secondRoot, path })).toBe(true);
        if (first < second) {
          expect(verifyConsistency({ firstSize: first, secondSize: second, firstRoot: secondRoot, secondRoot: firstRoot, path })).toBe(false);
        }

        const frontier = await store.getNodes(rootNodeIds(second - 1));
        const appended = appendLeaves(second - 1, frontier, [hashLeaf("last")]);
        expect(Buffer.from(appended.root).equals(Buffer.from(secondRoot))).toBe(true);
        expect(appended.nodes.indexes[0]).toBe(second - 1);
        appended.nodes.levels.forEach((level, j) => {
          expect(Buffer.from(appended.nodes.hashes[j]!).equals(store.node(level, appended.nodes.indexes[j]!))).toBe(true);
        });
      }),
      { numRuns: 60 },
    );
  });
});
