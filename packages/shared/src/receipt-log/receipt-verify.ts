/**
 * Verifying one served receipt against the receipt log, as an outside party does (docs/spec/receipt-log.md, "What a
 * verifier checks"): recompute its inputs hash and its leaves from what `GetReceipt` serves, compare them with the leaf
 * bytes `GetReceiptProof` serves, and check each inclusion path against a checkpoint the caller has already verified
 * (its signature, and its consistency with any earlier one). Pure: no I/O, never throws for bad data — every problem
 * is a finding with a reason.
 */
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { DomainError, invalidArgument } from "../errors/domain-error.js";
import { ReceiptSchema, ReceiptStatus, type Receipt } from "../gen/provenance/v1/common_pb.js";
import { InputsHashError } from "../hash/inputs-hash.js";
import { inputsHashOfMessage } from "../hash/message-inputs-hash.js";
import type { Checkpoint } from "./checkpoint.js";
import { verifyInclusion } from "./proof-verify.js";
import { receiptCompletedLeaf, receiptCreatedLeaf, receiptLeafHash, type ReceiptLeafEvent } from "./receipt-leaves.js";
import { hashFromHex } from "./tree-hash.js";

/** One leaf of a receipt as `GetReceiptProof` serves it (`ReceiptLogEntry`). */
export interface ServedLogEntry {
  readonly event: string;
  readonly leafIndex: bigint | number;
  readonly leaf: string;
  readonly inclusionPath: readonly string[];
}

/** What a finding is about. */
export type ReceiptLogCheck = "inputs_hash" | "leaf" | "inclusion";

/** One reason a receipt does not hold. */
export interface ReceiptLogFinding {
  readonly check: ReceiptLogCheck;
  /** The leaf it concerns, when it concerns one. */
  readonly event?: ReceiptLeafEvent;
  readonly reason: string;
}

/** The outcome for one receipt. */
export interface ReceiptLogVerification {
  readonly receiptId: string;
  /** True when every check passed. */
  readonly holds: boolean;
  readonly findings: readonly ReceiptLogFinding[];
  /** The log index of each leaf that verified. */
  readonly leafIndexes: Partial<Record<ReceiptLeafEvent, number>>;
}

/** What to verify a receipt with. */
export interface ReceiptLogClaim {
  /** The receipt as served (GetReceipt). */
  readonly receipt: Receipt;
  /** Its leaves as served with their inclusion paths (GetReceiptProof). */
  readonly entries: readonly ServedLogEntry[];
  /** The checkpoint the paths lead to, already opened with the trusted verifier key. */
  readonly checkpoint: Checkpoint;
}

const EVENTS: readonly ReceiptLeafEvent[] = ["receipt.created", "receipt.completed"];

function describe(err: unknown): string {
  if (err instanceof DomainError || err instanceof InputsHashError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * The inputs hash recomputed from a served receipt per docs/spec/inputs-hash.md. Throws (`InputsHashError`) when the
 * served inputs cannot be hashed (a missing input, a bad content hash).
 */
export function recomputeInputsHash(receipt: Receipt): string {
  return inputsHashOfMessage(receipt);
}

/**
 * A receipt from its proto JSON as the API serves it (Connect JSON, REST), for verifiers that hold only that; fields
 * this version does not know are ignored. Anything else is INVALID_ARGUMENT `receipt`.
 */
export function receiptFromServedJson(json: JsonValue): Receipt {
  try {
    return fromJson(ReceiptSchema, json, { ignoreUnknownFields: true });
  } catch (err) {
    throw invalidArgument("receipt", `is not a receipt as served: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** Which leaves a served receipt must have in the log: created always, completed once it succeeded or failed. */
export function expectedLeafEvents(receipt: Receipt): ReceiptLeafEvent[] {
  const completed = receipt.status === ReceiptStatus.SUCCEEDED || receipt.status === ReceiptStatus.FAILED;
  return completed ? ["receipt.created", "receipt.completed"] : ["receipt.created"];
}

function rebuildLeaf(receipt: Receipt, event: ReceiptLeafEvent): string {
  return event === "receipt.created" ? receiptCreatedLeaf(receipt, receipt.recordedBy) : receiptCompletedLeaf(receipt, receipt.completedBy);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** How two leaves differ, for a reason line: the keys whose values differ, or the first character that does. */
function difference(served: string, logged: string): string {
  const a = parseObject(served);
  const b = parseObject(logged);
  if (a !== undefined && b !== undefined) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    const differing = keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    if (differing.length > 0) {
      const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v).slice(0, 80));
      return `in ${differing.map((k) => `${k} (served ${show(a[k])}, logged ${show(b[k])})`).join(", ")}`;
    }
  }
  let i = 0;
  while (i < served.length && i < logged.length && served[i] === logged[i]) i++;
  return `from character ${i}`;
}

function parsePath(path: readonly string[]): Uint8Array[] | undefined {
  try {
    return path.map((p, j) => hashFromHex(`inclusion_path[${j}]`, p));
  } catch {
    return undefined;
  }
}

/**
 * Verifies one served receipt against its served log entries and a verified checkpoint: (1) the recomputed inputs hash
 * equals the served one, (2) each leaf rebuilt from the receipt equals the logged leaf bytes, and the log has no leaf
 * of it the receipt does not account for, (3) each leaf's inclusion path leads to the checkpoint's root.
 */
export function verifyReceiptInLog(claim: ReceiptLogClaim): ReceiptLogVerification {
  const { receipt, entries, checkpoint } = claim;
  const findings: ReceiptLogFinding[] = [];
  const leafIndexes: Partial<Record<ReceiptLeafEvent, number>> = {};

  if (receipt.status !== ReceiptStatus.LEGACY) {
    try {
      const recomputed = recomputeInputsHash(receipt);
      if (recomputed !== receipt.inputsHash) {
        findings.push({
          check: "inputs_hash",
          reason: `the inputs hash recomputed from the served inputs is ${recomputed}, the receipt says ${receipt.inputsHash || "(none)"}`,
        });
      }
    } catch (err) {
      findings.push({ check: "inputs_hash", reason: `the served inputs cannot be hashed: ${describe(err)}` });
    }
  }

  const byEvent = new Map<string, ServedLogEntry[]>();
  for (const entry of entries) byEvent.set(entry.event, [...(byEvent.get(entry.event) ?? []), entry]);
  for (const event of byEvent.keys()) {
    if (!(EVENTS as readonly string[]).includes(event)) findings.push({ check: "leaf", reason: `the log holds a leaf of unknown event "${event.slice(0, 80)}"` });
  }

  const expected = expectedLeafEvents(receipt);
  for (const event of EVENTS) {
    const logged = byEvent.get(event) ?? [];
    if (!expected.includes(event)) {
      if (logged.length > 0) {
        findings.push({ check: "leaf", event, reason: `the log holds a ${event} leaf but the receipt is served as ${ReceiptStatus[receipt.status] ?? receipt.status}` });
      }
      continue;
    }
    if (logged.length === 0) {
      findings.push({ check: "leaf", event, reason: `no ${event} leaf in the log at size ${checkpoint.size}` });
      continue;
    }
    if (logged.length > 1) findings.push({ check: "leaf", event, reason: `the log holds ${logged.length} ${event} leaves for it` });
    const entry = logged[0]!;
    let rebuilt: string;
    try {
      rebuilt = rebuildLeaf(receipt, event);
    } catch (err) {
      findings.push({ check: "leaf", event, reason: `the ${event} leaf cannot be rebuilt from the served receipt: ${describe(err)}` });
      continue;
    }
    if (rebuilt !== entry.leaf) {
      findings.push({ check: "leaf", event, reason: `the ${event} leaf rebuilt from the served receipt differs from the logged one ${difference(rebuilt, entry.leaf)}` });
    }
    const leafIndex = Number(entry.leafIndex);
    const path = parsePath(entry.inclusionPath);
    // The logged bytes are what the path must bind; a leaf that differs is reported above already.
    const included =
      path !== undefined &&
      Number.isSafeInteger(leafIndex) &&
      verifyInclusion({ leafHash: receiptLeafHash(entry.leaf), leafIndex, treeSize: checkpoint.size, path, root: checkpoint.rootHash });
    if (!included) {
      findings.push({
        check: "inclusion",
        event,
        reason: `the inclusion path of the ${event} leaf (index ${String(entry.leafIndex)}) does not lead to the root of checkpoint ${checkpoint.size}`,
      });
    } else if (rebuilt === entry.leaf) {
      leafIndexes[event] = leafIndex;
    }
  }
  return { receiptId: receipt.receiptId, holds: findings.length === 0, findings, leafIndexes };
}
