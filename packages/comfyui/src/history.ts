/**
 * A ComfyUI `/history/<prompt_id>` entry: the prompt id, when execution started and ended (the `execution_start` and
 * `execution_success`/`execution_error`/`execution_interrupted` messages' millisecond timestamps), the output files,
 * and the prompt it ran (`prompt[2]`), which must be the prompt given.
 */
import { ComfyReceiptError } from "./errors.js";
import { isJsonObject, type ComfyJson, type ComfyJsonObject } from "./lossless-json.js";

/** One file a node wrote, as `outputs.<node>.<kind>[]` lists it. */
export interface OutputFile {
  readonly nodeId: string;
  /** The output list it came from: images, gifs, videos, audio, … */
  readonly kind: string;
  readonly filename: string;
  readonly subfolder: string;
  readonly type: string;
}

/** How the run ended. */
export type RunOutcome = "succeeded" | "failed" | "running";

/** What the history entry says. */
export interface HistoryEntry {
  readonly promptId: string | undefined;
  readonly startedAt: Date | undefined;
  readonly completedAt: Date | undefined;
  readonly outcome: RunOutcome;
  /** The node and message of an execution_error. */
  readonly error: string | undefined;
  readonly outputs: readonly OutputFile[];
  /** The prompt the entry ran (`prompt[2]`), when present. */
  readonly prompt: ComfyJson | undefined;
}

const fail: (message: string) => never = (message) => {
  throw new ComfyReceiptError("history", message);
};

function entryOf(json: ComfyJson): { promptId: string | undefined; entry: ComfyJsonObject } {
  if (!isJsonObject(json)) return fail("the history must be a JSON object: the answer of /history/<prompt_id>, or one entry of it");
  const looksLikeEntry = "outputs" in json || "status" in json || Array.isArray(json.prompt);
  if (looksLikeEntry) return { promptId: undefined, entry: json };
  const ids = Object.keys(json);
  if (ids.length !== 1) {
    return fail(`the history holds ${ids.length} prompts (${ids.slice(0, 3).join(", ")}${ids.length > 3 ? ", …" : ""}); give the /history/<prompt_id> answer of one`);
  }
  const entry = json[ids[0]!];
  if (!isJsonObject(entry)) return fail(`history entry ${ids[0]} must be an object with prompt, outputs and status`);
  return { promptId: ids[0], entry };
}

function timestamp(kind: string, data: ComfyJsonObject): Date | undefined {
  const t = data.timestamp;
  if (t === undefined) return undefined;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0 || t > 253_402_300_799_999) {
    return fail(`status message ${kind}: timestamp must be milliseconds since 1970, got ${JSON.stringify(typeof t === "bigint" ? String(t) : t)}`);
  }
  return new Date(Math.trunc(t));
}

/** Reads a parsed history answer (`{"<prompt_id>": entry}`) or a bare entry. */
export function readHistory(json: ComfyJson): HistoryEntry {
  const { promptId: keyId, entry } = entryOf(json);
  const promptTuple = Array.isArray(entry.prompt) ? entry.prompt : undefined;
  const tupleId = typeof promptTuple?.[1] === "string" ? promptTuple[1] : undefined;
  if (keyId !== undefined && tupleId !== undefined && keyId !== tupleId) fail(`entry ${keyId} says its prompt id is ${tupleId}`);

  let startedAt: Date | undefined;
  let completedAt: Date | undefined;
  let outcome: RunOutcome = "running";
  let error: string | undefined;
  let messageId: string | undefined;
  const status = entry.status;
  if (status !== undefined && !isJsonObject(status)) fail("status must be an object with status_str, completed and messages");
  const messages = status?.messages ?? [];
  if (!Array.isArray(messages)) fail("status.messages must be a list of [kind, data] pairs");
  for (const [i, m] of (messages as ComfyJson[]).entries()) {
    if (!Array.isArray(m) || typeof m[0] !== "string" || !isJsonObject(m[1])) {
      fail(`status.messages[${i}] must be a [kind, {prompt_id, timestamp, …}] pair`);
    }
    const [kind, data] = m as [string, ComfyJsonObject];
    if (typeof data.prompt_id === "string") messageId ??= data.prompt_id;
    if (kind === "execution_start") startedAt = timestamp(kind, data);
    else if (kind === "execution_success") {
      completedAt = timestamp(kind, data);
      outcome = "succeeded";
    } else if (kind === "execution_error" || kind === "execution_interrupted") {
      completedAt = timestamp(kind, data);
      outcome = "failed";
      const node = typeof data.node_id === "string" ? ` in node ${data.node_id}${typeof data.node_type === "string" ? ` (${data.node_type})` : ""}` : "";
      const text = typeof data.exception_message === "string" ? `: ${data.exception_message.trim().split("\n")[0]}` : "";
      error = kind === "execution_interrupted" ? `interrupted${node}` : `error${node}${text}`;
    }
  }
  if (outcome === "running" && status?.status_str === "success") outcome = "succeeded";
  if (outcome === "running" && status?.status_str === "error") outcome = "failed";

  return {
    promptId: keyId ?? tupleId ?? messageId,
    startedAt,
    completedAt,
    outcome,
    error,
    outputs: readOutputs(entry.outputs),
    prompt: promptTuple?.[2],
  };
}

function readOutputs(outputs: ComfyJson | undefined): OutputFile[] {
  if (outputs === undefined) return [];
  if (!isJsonObject(outputs)) return fail("outputs must be an object of node id → output lists");
  const files: OutputFile[] = [];
  for (const [nodeId, lists] of Object.entries(outputs)) {
    if (!isJsonObject(lists)) continue;
    for (const [kind, items] of Object.entries(lists)) {
      if (!Array.isArray(items)) continue;
      for (const item of items) {
        if (!isJsonObject(item) || typeof item.filename !== "string") continue;
        const subfolder = typeof item.subfolder === "string" ? item.subfolder : "";
        const type = typeof item.type === "string" ? item.type : "output";
        files.push({ nodeId, kind, filename: item.filename, subfolder, type });
      }
    }
  }
  const key = (f: OutputFile) => `${f.type}\u0000${f.subfolder}\u0000${f.filename}\u0000${f.kind}`;
  return files.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
