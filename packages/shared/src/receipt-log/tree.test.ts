import { describe, expect, it } from "vitest";
import { DomainError } from "../errors/domain-error.js";
import { appendLeaves, rootFromNodes } from "./tree-append.js";
import { verifyConsistency, verifyInclusion, rootFromInclusionProof } from "./proof-verify.js";
import { EMPTY_ROOT, hashChildren, hashFromHex, hashLeaf, hashToHex, sameHash } from "./tree-hash.js";
import { consistencyProofPlan, inclusionProofPlan, rootNodeIds, splitPoint } from "./tree-layout.js";
import { MemoryTreeStore, appendToStore, consistencyProof, inclusionProof, rootAtSize } from "./tree-store.js";

/** The field of the INVALID_ARGUMENT `f` throws. */
function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    if (err instanceof DomainError && err.code === "invalid_argument") return err.field;
    throw err;
  }
  throw new Error("no error was thrown");
}

describe("RFC 6962 hashing", () => {
  it("domain-separates leaves and nodes and hashes strings as UTF-8", () => {
    expect(hashToHex(EMPTY_ROOT)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hashLeaf("é")).toEqual(hashLeaf(Buffer.from("é", "utf8")));
    const a = hashLeaf("a");
    expect(hashChildren(a, a)).not.toEqual(hashLeaf(Buffer.concat([a, a])));
    expect(sameHash(a, Buffer.from(a))).toBe(true);
    expect(sameHash(a, a.subarray(1))).toBe(false);
  });

  it("reads hex hashes in either case and names the field of a bad one", () => {
    const h = hashLeaf("x");
    expect(hashFromHex("path[0]", hashToHex(h).toUpperCase())).toEqual(h);
    expect(fieldOf(() => hashFromHex("path[2]", "abc"))).toBe("path[2]");
    expect(fieldOf(() => hashFromHex("root", "g".repeat(64)))).toBe("root");
  });

  it("splits at the largest power of two below n", () => {
    expect([2, 3, 4, 5, 8, 9, 2 ** 40 + 1].map(splitPoint)).toEqual([1, 2, 2, 4, 4, 8, 2 ** 40]);
  });
});

describe("layout", () => {
  it("names one frontier node per set bit of the size, largest first", () => {
    expect(rootNodeIds(0)).toEqual([]);
    expect(rootNodeIds(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(rootNodeIds(2 ** 40 + 2)).toEqual([
      { level: 40, index: 0 },
      { level: 1, index: 2 ** 39 },
    ]);
  });

  it("plans an inclusion proof with one folded right border at most", () => {
    // Leaf 0 of 7: siblings leaf 1, node (1,1), and the right border [4,7) = node (1,2) and leaf 6.
    expect(inclusionProofPlan(0, 7)).toEqual({
      nodeIds: [
        { level: 0, index: 1 },
        { level: 1, index: 1 },
        { level: 1, index: 2 },
        { level: 0, index: 6 },
      ],
      groups: [1, 1, 2],
    });
    expect(inclusionProofPlan(0, 1)).toEqual({ nodeIds: [], groups: [] });
  });

  it("rejects bad indexes and sizes naming the field, and a first size above the second", () => {
    expect(fieldOf(() => inclusionProofPlan(3, 3))).toBe("leaf_index");
    expect(fieldOf(() => inclusionProofPlan(-1, 3))).toBe("leaf_index");
    expect(fieldOf(() => inclusionProofPlan(0.5, 3))).toBe("leaf_index");
    expect(fieldOf(() => inclusionProofPlan(0, Number.MAX_SAFE_INTEGER + 1))).toBe("tree_size");
    expect(fieldOf(() => consistencyProofPlan(4, 3))).toBe("first_size");
    expect(fieldOf(() => consistencyProofPlan(1, Number.NaN))).toBe("second_size");
    expect(fieldOf(() => rootNodeIds(-2))).toBe("tree_size");
    expect(consistencyProofPlan(0, 5)).toEqual({ nodeIds: [], groups: [] });
    expect(consistencyProofPlan(5, 5)).toEqual({ nodeIds: [], groups: [] });
  });
});

describe("append", () => {
  it("checks the frontier against the size, naming what is wrong", () => {
    const h = hashLeaf("x");
    expect(fieldOf(() => appendLeaves(3, [h], [h]))).toBe("frontier");
    expect(fieldOf(() => appendLeaves(1, [h.subarray(0, 31)], [h]))).toBe("frontier[0]");
    expect(fieldOf(() => appendLeaves(0, [], [h, Buffer.alloc(3)]))).toBe("leaves[1]");
    expect(fieldOf(() => appendLeaves(1.5, [], []))).toBe("tree_size");
  });

  it("lists the new leaves and every subtree they complete, and an empty batch changes nothing", () => {
    const [a, b, c, d] = ["a", "b", "c", "d"].map((s) => hashLeaf(s)) as [Buffer, Buffer, Buffer, Buffer];
    const three = appendLeaves(0, [], [a, b, c]);
    expect(three.nodes.levels).toEqual([0, 0, 1, 0]);
    expect(three.nodes.indexes).toEqual([0, 1, 0, 2]);
    expect(three.root).toEqual(hashChildren(hashChildren(a, b), c));
    const four = appendLeaves(3, [hashChildren(a, b), c], [d]);
    expect(four.nodes.levels).toEqual([0, 1, 2]);
    expect(four.nodes.indexes).toEqual([3, 1, 0]);
    expect(four.root).toEqual(hashChildren(hashChildren(a, b), hashChildren(c, d)));
    const none = appendLeaves(3, [hashChildren(a, b), c], []);
    expect(none).toEqual({ size: 3, root: three.root, nodes: { levels: [], indexes: [], hashes: [] } });
    expect(rootFromNodes([])).toEqual(EMPTY_ROOT);
  });

  it("reads only the frontier and writes once per node through a store", async () => {
    const store = new MemoryTreeStore();
    await appendToStore(store, 0, ["a", "b", "c", "d", "e"].map((s) => hashLeaf(s)));
    expect(store.reads).toBe(0);
    await appendToStore(store, 5, [hashLeaf("f")]);
    expect(store.reads).toBe(1);
    expect(store.nodesRead).toBe(2);
    expect(store.nodeCount).toBe(2 * 6 - 2);
    expect(await rootAtSize(store, 0)).toEqual(EMPTY_ROOT);
    await expect(rootAtSize(store, 7)).rejects.toThrow(/not stored/);
    await expect(inclusionProof(store, 0, 8)).rejects.toThrow(/not stored/);
    await expect(store.putNodes({ levels: [0], indexes: [0], hashes: [hashLeaf("z")] })).rejects.toThrow(/another hash/);
    expect(await consistencyProof(store, 6, 6)).toEqual([]);
  });
});

describe("verification edge cases", () => {
  const leaf = hashLeaf("data");
  const other = hashLeaf("other");

  it("verifies a one-leaf tree only with its own hash and an empty path", () => {
    expect(verifyInclusion({ leafHash: leaf, leafIndex: 0, treeSize: 1, path: [], root: leaf })).toBe(true);
    expect(verifyInclusion({ leafHash: leaf, leafIndex: 0, treeSize: 1, path: [], root: Buffer.alloc(0) })).toBe(false);
    expect(verifyInclusion({ leafHash: Buffer.alloc(0), leafIndex: 0, treeSize: 1, path: [], root: Buffer.alloc(0) })).toBe(false);
  });

  it("never verifies an index outside the tree", () => {
    for (const [leafIndex, treeSize] of [[0, 0], [1, 0], [2, 1], [1, 1], [-1, 4], [0.5, 4]] as const) {
      expect(rootFromInclusionProof(leaf, leafIndex, treeSize, [])).toBeUndefined();
      expect(verifyInclusion({ leafHash: leaf, leafIndex, treeSize, path: [], root: EMPTY_ROOT })).toBe(false);
    }
  });

  it("treats equal sizes, the empty tree and going back in time as the RFC says", () => {
    const c = (firstSize: number, secondSize: number, firstRoot: Uint8Array, secondRoot: Uint8Array, path: Uint8Array[] = []) =>
      verifyConsistency({ firstSize, secondSize, firstRoot, secondRoot, path });
    expect(c(0, 0, EMPTY_ROOT, EMPTY_ROOT)).toBe(true);
    expect(c(0, 0, EMPTY_ROOT, leaf)).toBe(false);
    expect(c(0, 1, EMPTY_ROOT, leaf)).toBe(true);
    expect(c(0, 1, other, leaf)).toBe(false);
    expect(c(1, 1, leaf, leaf)).toBe(true);
    expect(c(1, 1, leaf, other)).toBe(false);
    expect(c(1, 1, leaf, leaf, [EMPTY_ROOT])).toBe(false);
    expect(c(0, 1, EMPTY_ROOT, leaf, [EMPTY_ROOT])).toBe(false);
    expect(c(1, 0, leaf, EMPTY_ROOT)).toBe(false);
    expect(c(2, 1, leaf, other)).toBe(false);
    expect(c(1, 2, leaf, hashChildren(leaf, other))).toBe(false);
    expect(c(1, 2, leaf, hashChildren(leaf, other), [other])).toBe(true);
  });
});
