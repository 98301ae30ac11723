/**
 * The receipt log's rules over stored receipts, pure: a receipt's leaves as served (toReceiptMessage → the shared
 * leaf builder), what the auditor checks of a stored receipt against its leaf, and a tree kept as its frontier only.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { type AssetRef, type Receipt } from "@provenance/shared";
import {
  appendLeaves,
  rootFromNodes,
  rootNodeIds,
  receiptCompletedLeaf,
  receiptCreatedLeaf,
  recomputeInputsHash,
  type ReceiptLeafEvent,
} from "@provenance/shared/receipt-log";
import type { InputRow } from "./new-receipt.js";
import { receiptStatusOf, toReceiptMessage, type ReceiptRecord } from "./receipt-record.js";

/** The leaf bytes (a string) of `event` for a stored receipt, built from the receipt exactly as it is served. */
export function leafOfReceipt(record: ReceiptRecord, event: ReceiptLeafEvent): string {
  return leafOf(toReceiptMessage(record), event);
}

function leafOf(served: Receipt, event: ReceiptLeafEvent): string {
  return event === "receipt.created" ? receiptCreatedLeaf(served, served.recordedBy) : receiptCompletedLeaf(served, served.completedBy);
}

type ServedFields = Pick<
  Receipt,
  | "receiptId" | "segmentId" | "sceneId" | "projectId" | "characterName" | "sequenceIndex" | "sourceImage" | "variantImage"
  | "workflow" | "model" | "loras" | "workflowVersion" | "promptText" | "negativePrompt" | "cfgScale" | "seed" | "steps"
  | "sampler" | "resolutionWidth" | "resolutionHeight" | "additionalParams" | "inputsHash" | "status" | "generationStartedAt"
  | "generationCompletedAt" | "generationDurationMs" | "outputHash" | "regenerationJobId" | "supersedesSegmentId"
  | "idempotencyKey" | "createdAt" | "recordedBy" | "completedBy"
>;

/**
 * The fields of the served message that leaves and the inputs hash read, as toReceiptMessage maps them, without
 * building the message (the integrator's hot path: a fifth of the cost). The auditor's rescan checks every leaf
 * against the message itself, so a mapping that drifted from toReceiptMessage shows there at once.
 */
export function servedView(r: ReceiptRecord): Receipt {
  const ref = (i: InputRow | undefined) => (i ? ({ assetId: i.assetId, contentHash: i.contentHash, version: i.version ?? 0 } as AssetRef) : undefined);
  const single = (role: InputRow["role"]) => r.inputs.find((i) => i.role === role);
  const view: ServedFields = {
    receiptId: r.receiptId,
    segmentId: r.segment.segmentId,
    sceneId: r.segment.sceneId,
    projectId: r.segment.projectId,
    characterName: r.segment.characterName,
    sequenceIndex: r.segment.sequenceIndex,
    sourceImage: ref(single("source_image")),
    variantImage: ref(single("variant_image")),
    workflow: ref(single("workflow")),
    model: ref(single("model")),
    loras: r.inputs
      .filter((i) => i.role === "lora")
      .sort((a, b) => a.position - b.position)
      .map((i) => ({ asset: ref(i), weight: i.weight ?? 0 }) as Receipt["loras"][number]),
    workflowVersion: r.workflowVersion,
    promptText: r.promptText,
    negativePrompt: r.negativePrompt,
    cfgScale: r.cfgScale,
    seed: r.seed,
    steps: r.steps,
    sampler: r.sampler,
    resolutionWidth: r.resolutionWidth,
    resolutionHeight: r.resolutionHeight,
    additionalParams: r.additionalParams,
    inputsHash: r.inputsHash,
    status: receiptStatusOf(r.status),
    generationStartedAt: timestampFromDate(r.generationStartedAt),
    generationCompletedAt: r.generationCompletedAt ? timestampFromDate(r.generationCompletedAt) : undefined,
    generationDurationMs: BigInt(r.generationDurationMs ?? 0),
    outputHash: r.outputHash ?? "",
    regenerationJobId: r.regenerationJobId ?? "",
    supersedesSegmentId: r.supersedesSegmentId ?? "",
    idempotencyKey: r.idempotencyKey,
    createdAt: timestampFromDate(r.createdAt),
    recordedBy: r.recordedBy ?? "",
    completedBy: r.completedBy ?? "",
  };
  return view as Receipt;
}

/** A receipt's completion columns as stored. */
export interface CompletionColumns {
  receiptId: string;
  status: string;
  generationCompletedAt: Date | null;
  generationDurationMs: number | null;
  outputHash: string | null;
  completedBy: string | null;
}

/** The fields of the served message a `receipt.completed` leaf reads, from the completion columns alone (see {@link servedView}). */
export function completionView(c: CompletionColumns): Receipt {
  const view: Pick<Receipt, "receiptId" | "status" | "generationCompletedAt" | "generationDurationMs" | "outputHash" | "completedBy"> = {
    receiptId: c.receiptId,
    status: receiptStatusOf(c.status as ReceiptRecord["status"]),
    generationCompletedAt: c.generationCompletedAt ? timestampFromDate(c.generationCompletedAt) : undefined,
    generationDurationMs: BigInt(c.generationDurationMs ?? 0),
    outputHash: c.outputHash ?? "",
    completedBy: c.completedBy ?? "",
  };
  return view as Receipt;
}

/** The leaf of `event` for a stored receipt through {@link servedView}: the same bytes as {@link leafOfReceipt}. */
export function leafOfView(view: Receipt, event: ReceiptLeafEvent): string {
  return leafOf(view, event);
}

/** The inputs hash recomputed from a served receipt (spec inputs-hash.md), or undefined when it carries none. */
export function recomputedInputsHash(served: Receipt): string | undefined {
  if (served.inputsHash === "") return undefined;
  try {
    return recomputeInputsHash(served);
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

/**
 * What the auditor finds checking one stored leaf against its stored receipt (nothing when both hold). `rebuild:
 * false` checks only the inputs hash: for a leaf just built from this very record, the rebuild is the same bytes
 * (`served`: the view it was built from, {@link servedView}; else the served message).
 */
export function checkLeaf(
  leaf: { leafIndex: number; receiptId: string; event: ReceiptLeafEvent; leaf: string },
  record: ReceiptRecord | undefined,
  { rebuild = true, served }: { rebuild?: boolean; served?: Receipt } = {},
): LogFinding[] {
  const at = { receiptId: leaf.receiptId, leafIndex: leaf.leafIndex };
  if (!record) return [{ ...at, projectId: "", check: "missing_receipt", reason: `the receipt of ${leaf.event} leaf ${leaf.leafIndex} is not stored` }];
  const projectId = record.segment.projectId;
  const findings: LogFinding[] = [];
  if (leaf.event === "receipt.created") {
    const view = served ?? toReceiptMessage(record);
    const recomputed = recomputedInputsHash(view);
    if (recomputed !== undefined && recomputed !== view.inputsHash) {
      findings.push({ ...at, projectId, check: "inputs_hash", reason: "inputs hash recomputed from the stored receipt differs from its inputs_hash" });
    }
  }
  if (!rebuild) return findings;
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
