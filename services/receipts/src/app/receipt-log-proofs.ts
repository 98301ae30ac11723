/**
 * GetCheckpoint / GetReceiptProof / GetConsistencyProof: read the signed checkpoints and prove from the stored tree.
 * Sizes are those a checkpoint was signed at (tree_size) or bounded by the newest (consistency sizes). A receipt not
 * integrated yet is answered with the entries integrated so far (none right after its commit; its leaves follow
 * within a second).
 */
import type { DataSource } from "typeorm";
import { invalidArgument, notFound, unavailable } from "@provenance/shared";
import { MAX_TREE_SIZE, consistencyProof, hashToHex, inclusionProof, type NoteVerifier, type ReceiptLeafEvent } from "@provenance/shared/receipt-log";
import { isReceiptId } from "../domain/receipt-id.js";
import { PgTreeNodeStore, checkpointAt, latestCheckpoint, leavesOfReceipt, type StoredCheckpoint } from "../persistence/receipt-log-repository.js";
import { receiptProjects } from "../persistence/receipt-repository.js";

/** One leaf of a receipt with its audit path. */
export interface ProvedEntry {
  event: ReceiptLeafEvent;
  leafIndex: number;
  leaf: string;
  inclusionPath: string[];
}

async function head(ds: DataSource): Promise<StoredCheckpoint> {
  const latest = await latestCheckpoint(ds.manager);
  if (!latest) throw unavailable("the receipt log has not signed its first checkpoint yet");
  return latest;
}

/** A uint64 request field as a tree size, INVALID_ARGUMENT naming it past what a tree can hold. */
function size(field: string, value: bigint): number {
  if (value > BigInt(MAX_TREE_SIZE)) throw invalidArgument(field, `must be at most ${MAX_TREE_SIZE}`);
  return Number(value);
}

/** The newest signed checkpoint and the key it verifies with. */
export async function getCheckpoint(ds: DataSource, verifier: NoteVerifier): Promise<{ checkpoint: string; verifierKey: string }> {
  return { checkpoint: (await head(ds)).note, verifierKey: verifier.verifierKey };
}

/** A receipt's leaves within the checkpoint at `treeSize` (0: the newest), each with its inclusion path. */
export async function getReceiptProof(ds: DataSource, receiptId: string, treeSize: bigint): Promise<{ checkpoint: string; entries: ProvedEntry[] }> {
  const requested = size("tree_size", treeSize);
  if (!isReceiptId(receiptId) || !(await receiptProjects(ds.manager, [receiptId])).has(receiptId)) throw notFound("receipt", receiptId);
  const checkpoint = requested === 0 ? await head(ds) : await checkpointAt(ds.manager, requested);
  if (!checkpoint) throw invalidArgument("tree_size", `no checkpoint was signed at tree size ${requested}; 0 asks for the newest`);
  const leaves = await leavesOfReceipt(ds.manager, receiptId, checkpoint.treeSize);
  const store = new PgTreeNodeStore(ds.manager);
  const entries = await Promise.all(
    leaves.map(async (l) => ({
      event: l.event,
      leafIndex: l.leafIndex,
      leaf: l.leaf,
      inclusionPath: (await inclusionProof(store, l.leafIndex, checkpoint.treeSize)).map(hashToHex),
    })),
  );
  return { checkpoint: checkpoint.note, entries };
}

/** The consistency proof between two tree sizes, 0 ≤ first_size ≤ second_size ≤ the newest checkpoint's size. */
export async function getConsistencyProof(ds: DataSource, firstSize: bigint, secondSize: bigint): Promise<string[]> {
  const first = size("first_size", firstSize);
  const second = size("second_size", secondSize);
  const latest = await head(ds);
  if (second > latest.treeSize) throw invalidArgument("second_size", `must be at most ${latest.treeSize}, the newest checkpoint's tree size`);
  if (first > second) throw invalidArgument("first_size", `must be at most second_size (${second})`);
  return (await consistencyProof(new PgTreeNodeStore(ds.manager), first, second)).map(hashToHex);
}
