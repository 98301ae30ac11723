/** Display helpers: hashes, times, durations and enum labels. */
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AssetKind, InputRole, ReceiptStatus } from "@gen/common_pb.js";
import { JobStatus } from "@gen/regeneration_pb.js";

/** The first 8 and last 4 characters of a hash ("3f9a1c0d…e41b"); short strings are returned whole. */
export function shortHash(hash: string): string {
  return hash.length <= 14 ? hash : `${hash.slice(0, 8)}…${hash.slice(-4)}`;
}

/** A timestamp as local date and time, or "—" when absent. */
export function formatTime(ts: Timestamp | undefined): string {
  if (!ts || (ts.seconds === 0n && ts.nanos === 0)) return "—";
  return timestampDate(ts).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** Milliseconds as "850 ms", "12.4 s" or "3 min 05 s". */
export function formatDuration(ms: bigint | number): string {
  const n = Number(ms);
  if (n <= 0) return "—";
  if (n < 1000) return `${n} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(1)} s`;
  const min = Math.floor(n / 60_000);
  const s = Math.round((n % 60_000) / 1000);
  return `${min} min ${String(s).padStart(2, "0")} s`;
}

/** "LoRA", "Source image", … */
export function kindLabel(kind: AssetKind): string {
  switch (kind) {
    case AssetKind.MODEL:
      return "Model";
    case AssetKind.LORA:
      return "LoRA";
    case AssetKind.WORKFLOW:
      return "Workflow";
    case AssetKind.SOURCE_IMAGE:
      return "Source image";
    case AssetKind.VARIANT_IMAGE:
      return "Variant image";
    default:
      return "Asset";
  }
}

/** "LoRA", "Source image", … for the role an input played. */
export function roleLabel(role: InputRole): string {
  switch (role) {
    case InputRole.SOURCE_IMAGE:
      return "Source image";
    case InputRole.VARIANT_IMAGE:
      return "Variant image";
    case InputRole.WORKFLOW:
      return "Workflow";
    case InputRole.MODEL:
      return "Model";
    case InputRole.LORA:
      return "LoRA";
    default:
      return "Input";
  }
}

/** "Running", "Succeeded", "Failed". */
export function receiptStatusLabel(status: ReceiptStatus): string {
  switch (status) {
    case ReceiptStatus.RUNNING:
      return "Running";
    case ReceiptStatus.SUCCEEDED:
      return "Succeeded";
    case ReceiptStatus.FAILED:
      return "Failed";
    case ReceiptStatus.LEGACY:
      return "Legacy";
    default:
      return "Unknown";
  }
}

/** "Submitted", "Running", "Succeeded", "Failed", "Inputs mismatch". */
export function jobStatusLabel(status: JobStatus): string {
  switch (status) {
    case JobStatus.SUBMITTED:
      return "Submitted";
    case JobStatus.RUNNING:
      return "Running";
    case JobStatus.SUCCEEDED:
      return "Succeeded";
    case JobStatus.FAILED:
      return "Failed";
    case JobStatus.INPUTS_MISMATCH:
      return "Inputs mismatch";
    default:
      return "Unknown";
  }
}

/** "1 segment", "3 segments". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** "Scene 3" for an id "3", the id itself when it already says scene ("scene-3", "demo-1.scene-3"). */
export function sceneLabel(sceneId: string): string {
  return /(^|[^a-z])scene/i.test(sceneId) ? sceneId : `Scene ${sceneId}`;
}

/**
 * The shot number people count with, from a segment's 0-based `sequence_index`: 1 for index 0, as the pipeline's prompts
 * number their shots ("shot 1 of scene 2").
 */
export function shotNumber(sequenceIndex: number): number {
  return sequenceIndex + 1;
}

/** "shot 1" for a segment's 0-based `sequence_index` 0 (see {@link shotNumber}). */
export function shotLabel(sequenceIndex: number): string {
  return `shot ${shotNumber(sequenceIndex)}`;
}
