/**
 * Verifying RFC 6962 proofs with the algorithms of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency). They
 * need nothing but the proof, the sizes and the roots; a malformed proof is simply not verified (false), never thrown.
 */
import { EMPTY_ROOT, HASH_SIZE, hashChildren, sameHash } from "./tree-hash.js";
import { MAX_TREE_SIZE } from "./tree-layout.js";

/** An inclusion proof to check: the leaf's hash and index, the tree size and root it claims, and the audit path. */
export interface InclusionClaim {
  readonly leafHash: Uint8Array;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly path: readonly Uint8Array[];
  readonly root: Uint8Array;
}

/** A consistency proof to check: two sizes with their roots, and the proof that the first tree prefixes the second. */
export interface ConsistencyClaim {
  readonly firstSize: number;
  readonly secondSize: number;
  readonly firstRoot: Uint8Array;
  readonly secondRoot: Uint8Array;
  readonly path: readonly Uint8Array[];
}

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= MAX_TREE_SIZE;
}

function allHashes(path: readonly Uint8Array[]): boolean {
  return path.every((p) => p instanceof Uint8Array && p.length === HASH_SIZE);
}

// Bit operations in arithmetic: tree sizes go past 2^31, where JavaScript's bitwise operators stop.
const odd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);

/**
 * The root the audit path leads to from the leaf (RFC 9162 §2.1.3.2 steps 1–3), or undefined when the path cannot be
 * one for that index and size (index out of range, wrong length, a hash of the wrong size).
 */
export function rootFromInclusionProof(leafHash: Uint8Array, leafIndex: number, treeSize: number, path: readonly Uint8Array[]): Uint8Array | undefined {
  if (!isSize(treeSize) || !isSize(leafIndex) || leafIndex >= treeSize) return undefined;
  if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE || !allHashes(path)) return undefined;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Uint8Array = leafHash;
  for (const p of path) {
    if (sn === 0) return undefined;
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/** Whether the audit path proves the leaf is at `leafIndex` in the tree of `treeSize` leaves with that root. */
export function verifyInclusion(claim: InclusionClaim): boolean {
  const computed = rootFromInclusionProof(claim.leafHash, claim.leafIndex, claim.treeSize, claim.path);
  return computed !== undefined && sameHash(computed, claim.root);
}

/**
 * Whether the proof shows the tree of `firstSize` leaves with `firstRoot` is a prefix of the tree of `secondSize`
 * leaves with `secondRoot`. Equal sizes need an empty proof and equal roots; size 0 an empty proof and the empty-tree
 * root; a first size above the second never verifies.
 */
export function verifyConsistency(claim: ConsistencyClaim): boolean {
  const { firstSize, secondSize, firstRoot, secondRoot, path } = claim;
  if (!isSize(firstSize) || !isSize(secondSize) || firstSize > secondSize) return false;
  if (!(firstRoot instanceof Uint8Array) || !(secondRoot instanceof Uint8Array) || !allHashes(path)) return false;
  if (firstSize === secondSize) return path.length === 0 && sameHash(firstRoot, secondRoot);
  if (firstSize === 0) return path.length === 0 && sameHash(firstRoot, EMPTY_ROOT) && secondRoot.length === HASH_SIZE;
  if (path.length === 0) return false;

  // RFC 9162 §2.1.4.2. When the first tree is a perfect subtree its root is the proof's implicit first element.
  const isPowerOfTwo = 2 ** Math.round(Math.log2(firstSize)) === firstSize;
  const c = isPowerOfTwo ? [firstRoot, ...path] : path;
  let fn = firstSize - 1;
  let sn = secondSize - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = c[0]!;
  let sr: Uint8Array = c[0]!;
  for (let j = 1; j < c.length; j++) {
    const p = c[j]!;
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = hashChildren(p, fr);
      sr = hashChildren(p, sr);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sameHash(fr, firstRoot) && sameHash(sr, secondRoot) && sn === 0;
}
