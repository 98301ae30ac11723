/**
 * A second, deliberately naive RFC 6962 implementation for tests: the recursive definitions of §2.1 (MTH), §2.1.1
 * (PATH) and §2.1.2 (PROOF / SUBPROOF) written out literally over the full list of leaves, with its own hashing. It
 * shares no code with the incremental tree of src/receipt-log, so agreement between the two means something.
 */
import { createHash } from "node:crypto";

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

/** k: the largest power of two smaller than n (n > 1). */
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of the leaf inputs `d` (raw bytes, not yet hashed). */
export function naiveRoot(d: readonly Uint8Array[]): Buffer {
  const n = d.length;
  if (n === 0) return sha256();
  if (n === 1) return sha256(Buffer.from([0x00]), d[0]!);
  const k = largestPowerOfTwoBelow(n);
  return sha256(Buffer.from([0x01]), naiveRoot(d.slice(0, k)), naiveRoot(d.slice(k)));
}

/** PATH(m, D[n]): the audit path of leaf m. */
export function naivePath(m: number, d: readonly Uint8Array[]): Buffer[] {
  const n = d.length;
  if (n <= 1) return [];
  const k = largestPowerOfTwoBelow(n);
  if (m < k) return [...naivePath(m, d.slice(0, k)), naiveRoot(d.slice(k))];
  return [...naivePath(m - k, d.slice(k)), naiveRoot(d.slice(0, k))];
}

function subproof(m: number, d: readonly Uint8Array[], b: boolean): Buffer[] {
  const n = d.length;
  if (m === n) return b ? [] : [naiveRoot(d)];
  const k = largestPowerOfTwoBelow(n);
  if (m <= k) return [...subproof(m, d.slice(0, k), b), naiveRoot(d.slice(k))];
  return [...subproof(m - k, d.slice(k), false), naiveRoot(d.slice(0, k))];
}

/** PROOF(m, D[n]): the consistency proof from the first m leaves to all of `d` (empty for m = 0 or m = n). */
export function naiveConsistency(m: number, d: readonly Uint8Array[]): Buffer[] {
  if (m === 0 || m === d.length) return [];
  return subproof(m, d, true);
}
