/** What the projection keeps of a receipt event: placement, order key, status and inputs. Pure, no I/O. */
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { ReceiptStatus, type AssetRef, type Receipt } from "@provenance/shared";
import type { InputRoleName } from "./asset-kinds.js";

/** One input of a receipt, as the projection stores it. */
export interface ProjectedInput {
  role: InputRoleName;
  /** 0 for single inputs; the LoRA's place in the stack. */
  position: number;
  assetId: string;
  contentHash: string;
}

/** A receipt reduced to what staleness needs. */
export interface ProjectedReceipt {
  receiptId: string;
  segmentId: string;
  projectId: string;
  sceneId: string;
  characterName: string;
  sequenceIndex: number;
  /** The monotonic order key of receipts of one segment (RFC 3339 with microseconds), with receiptId as the tie-break. */
  createdAt: string;
  succeeded: boolean;
  inputs: ProjectedInput[];
  /** The segment this receipt's success replaced ("" when none). */
  supersedesSegmentId: string;
  /** A LEGACY receipt (an imported segment made before receipts were recorded): never current, marks its segment legacy. */
  legacy?: boolean;
}

/** A Timestamp as RFC 3339 text keeping microseconds (PostgreSQL's precision), which a Date would round to milliseconds. */
export function timestampText(ts: Timestamp | undefined): string {
  if (!ts) return "1970-01-01T00:00:00.000000Z";
  const whole = new Date(Number(ts.seconds) * 1000).toISOString().slice(0, 19);
  return `${whole}.${String(Math.floor(ts.nanos / 1000)).padStart(6, "0")}Z`;
}

function inputOf(role: InputRoleName, position: number, ref: AssetRef | undefined): ProjectedInput[] {
  if (!ref || ref.assetId === "") return [];
  return [{ role, position, assetId: ref.assetId, contentHash: ref.contentHash.toLowerCase() }];
}

/** Every input of a receipt, each LoRA separately in stack order. */
export function inputsOf(r: Receipt): ProjectedInput[] {
  return [
    ...inputOf("source_image", 0, r.sourceImage),
    ...inputOf("variant_image", 0, r.variantImage),
    ...inputOf("workflow", 0, r.workflow),
    ...inputOf("model", 0, r.model),
    ...r.loras.flatMap((l, i) => inputOf("lora", i, l.asset)),
  ];
}

/**
 * Projects a receipt carried by a RECEIPT_CREATED or RECEIPT_COMPLETED event. `supersededSegmentId`
 * is what the completed event says this receipt's success superseded.
 */
export function projectReceipt(r: Receipt, supersededSegmentId = ""): ProjectedReceipt {
  const succeeded = r.status === ReceiptStatus.SUCCEEDED;
  const createdAt = r.createdAt ?? r.generationStartedAt;
  return {
    receiptId: r.receiptId,
    segmentId: r.segmentId,
    projectId: r.projectId,
    sceneId: r.sceneId,
    characterName: r.characterName,
    sequenceIndex: r.sequenceIndex,
    createdAt: timestampText(createdAt),
    succeeded,
    inputs: inputsOf(r),
    supersedesSegmentId: supersededSegmentId !== "" ? supersededSegmentId : succeeded ? r.supersedesSegmentId : "",
    legacy: r.status === ReceiptStatus.LEGACY,
  };
}
