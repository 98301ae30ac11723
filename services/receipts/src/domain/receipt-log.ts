/**
 * The receipt log's rules over stored receipts, pure: a receipt's leaves as served (toReceiptMessage → the shared
 * leaf builder), what the auditor checks of a stored receipt against its leaf, and a tree kept as its frontier only.
 */
import { computeInputsHash, type Receipt } from "@provenance/shared";
import {
  appendLeaves,
  rootFromNodes,
  rootNodeIds,
  receiptCompletedLeaf,
  receiptCreatedLeaf,
  type ReceiptLeafEvent,
} from "@provenance/shared/receipt-log";
import { toReceiptMessage, type ReceiptRecord } from "./receipt-record.js";

/** The leaf bytes (a string) of `event` for a stored receipt, built from the receipt exactly as it is served. */
export function leafOfReceipt(record: ReceiptRecord, event: ReceiptLeafEvent): string {
  const served = toReceiptMessage(record);
  return event === "receipt.created" ? receiptCreatedLeaf(served, served.recordedBy) : receiptCompletedLeaf(served, served.completedBy);
}

/** The inputs hash recomputed from a served receipt (spec inputs-hash.md), or undefined when it carries none. */
export function recomputedInputsHash(served: Receipt): string | undefined {
  if (served.inputsHash === "") return undefined;
  try {
    return computeInputsHash({
      sourceImageHash: served.sourceImage?.contentHash ?? "",
      variantImageHash: served.variantImage?.contentHash ?? null,
      workflowHash: served.workflow?.contentHash ?? "",
      modelHash: served.model?.contentHash ?? "",
      loras: served.loras.map((l) => ({ hash: l.asset?.contentHash ?? "", weight: l.weight })),
      promptText: served.promptText,
      negativePrompt: served.negativePrompt,
      cfgScale: served.cfgScale,
      seed: served.seed,
      steps: served.steps,
      sampler: served.sampler,
      width: served.resolutionWidth,
      height: served.resolutionHeight,
      params: served.additionalParams ?? {},
    });
  } catch (err) {
    return `(cannot be recomputed: ${(err as Error).message})`;
  }
}

/** One thing the auditor found not to hold. */
export interface LogFinding {
  /** "" when the finding is about the log itself. */
  receiptId: string;
  projectId: string;
  /** The metric's `check` label. */
  check: "inputs_hash" | "leaf" | "missing_leaf" | "missing_receipt" | "log" | "rollback";
  reason: string;
  leafIndex?: number;
}

/** What the auditor finds checking one stored leaf against its stored receipt (nothing when both hold). */
export function checkLeaf(leaf: { leafIndex: number; receiptId: string; event: ReceiptLeafEvent; leaf: string }, record: ReceiptRecord | undefined): LogFinding[] {
  const at = { receiptId: leaf.receiptId, leafIndex: leaf.leafIndex };
  if (!record) return [{ ...at, projectId: "", check: "missing_receipt", reason: `the receipt of ${leaf.event} leaf ${leaf.leafIndex} is not stored` }];
  const projectId = record.segment.projectId;
  const findings: LogFinding[] = [];
  if (leaf.event === "receipt.created") {
    const served = toReceiptMessage(record);
    const recomputed = recomputedInputsHash(served);
    if (recomputed !== undefined && recomputed !== served.inputsHash) {
      findings.push({ ...at, projectId, check: "inputs_hash", reason: "inputs hash recomputed from the stored receipt differs from its inputs_hash" });
    }
  }
  let rebuilt: string;
  try {
    rebuilt = leafOfReceipt(record, leaf.event);
  } catch (err) {
    rebuilt = `(cannot be rebuilt: ${(err as Error).message})`;
  }
  if (rebuilt !== leaf.leaf) {
    findings.push({ ...at, projectId, check: "leaf", reason: `${leaf.event} leaf rebuilt from the stored receipt differs from leaf ${leaf.leafIndex}` });
  }
  return findings;
}

/** A tree known only by its frontier (the nodes of `rootNodeIds(size)`): enough to append and to know the root. */
export class FrontierTree {
  private constructor(
    private treeSize: number,
    private frontier: readonly Uint8Array[],
  ) {}

  /** The empty tree. */
  static empty(): FrontierTree {
    return new FrontierTree(0, []);
  }

  /** The tree of `size` leaves whose frontier hashes are `frontier` (in `rootNodeIds(size)` order). */
  static of(size: number, frontier: readonly Uint8Array[]): FrontierTree {
    return new FrontierTree(size, frontier);
  }

  get size(): number {
    return this.treeSize;
  }

  get root(): Uint8Array {
    return rootFromNodes(this.frontier);
  }

  /** Appends leaf hashes; returns every node the append completes (to compare with a store). */
  append(leafHashes: readonly Uint8Array[]): ReturnType<typeof appendLeaves>["nodes"] {
    const result = appendLeaves(this.treeSize, this.frontier, leafHashes);
    const known = new Map<string, Uint8Array>();
    rootNodeIds(this.treeSize).forEach((id, j) => known.set(`${id.level}/${id.index}`, this.frontier[j]!));
    result.nodes.levels.forEach((level, j) => known.set(`${level}/${result.nodes.indexes[j]}`, result.nodes.hashes[j]!));
    this.frontier = rootNodeIds(result.size).map((id) => known.get(`${id.level}/${id.index}`)!);
    this.treeSize = result.size;
    return result.nodes;
  }
}
