/**
 * The workflow's content hash: SHA-256 of the RFC 8785 canonical JSON of the prompt graph as a template —
 * independent of node ids, and without the values the receipt records in fields of its own. Exactly:
 *
 * - each node becomes the entry `{"class_type": …, "inputs": {…}}` (no `_meta`: titles do not change pixels);
 * - its inputs keep every value except those mapped to a receipt field or a named additional_params entry (model
 *   and LoRA files and strengths, seed, steps, cfg, sampler and its settings, prompt texts, image files, width,
 *   height, frame count, batch size) and except `filename_prefix` (it names output files);
 * - a link becomes `[<key of the linked node>, <output index>]`, where a node's key is the SHA-256 (hex) of its
 *   entry's canonical JSON — so a key covers everything upstream of it and no node id appears anywhere;
 * - integers beyond ±(2^53 − 1) are written as decimal strings (RFC 8785 numbers are doubles);
 * - the document is `{"spec": "provenance/comfyui-workflow/v1", "nodes": [entries sorted by key]}`.
 *
 * Two prompts that differ only in node ids, titles, output names or the per-generation values above hash the same,
 * so every segment made from one workflow shares its hash; the per-generation values are in the receipt itself.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "@provenance/shared";
import { ComfyReceiptError } from "./errors.js";
import { inputKey } from "./graph-reader.js";
import { setOwn, toPlainJson, type PlainJson } from "./lossless-json.js";
import { OUTPUT_NAMING_INPUTS } from "./node-classes.js";
import { describeNode, type PromptGraph, type PromptNode } from "./prompt-graph.js";

/** The `spec` value of the hashed document. */
export const WORKFLOW_HASH_SPEC = "provenance/comfyui-workflow/v1";

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The hashed document (for a reader who wants to see it) and its hash. */
export function workflowDocument(graph: PromptGraph, mapped: ReadonlySet<string>): { document: PlainJson; hash: string } {
  const keys = new Map<string, string>();
  const entries = new Map<string, PlainJson>();
  const visiting = new Set<string>();

  const keyOf = (node: PromptNode): string => {
    const known = keys.get(node.id);
    if (known !== undefined) return known;
    if (visiting.has(node.id)) throw new ComfyReceiptError("prompt", `${describeNode(node)}: its links form a cycle`, node.id);
    visiting.add(node.id);
    const inputs: { [name: string]: PlainJson } = {};
    for (const [name, input] of node.inputs) {
      if (input.kind === "link") {
        setOwn(inputs, name, [keyOf(graph.nodes.get(input.from)!), input.output]);
      } else if (!mapped.has(inputKey(node.id, name)) && !OUTPUT_NAMING_INPUTS.has(name)) {
        setOwn(inputs, name, toPlainJson(input.value));
      }
    }
    const entry: PlainJson = { class_type: node.classType, inputs };
    const key = sha256(canonicalJson(entry)!);
    visiting.delete(node.id);
    keys.set(node.id, key);
    entries.set(node.id, entry);
    return key;
  };

  const sorted = [...graph.nodes.values()].map((n) => ({ key: keyOf(n), entry: entries.get(n.id)! })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const document: PlainJson = { spec: WORKFLOW_HASH_SPEC, nodes: sorted.map((s) => s.entry) };
  return { document, hash: sha256(canonicalJson(document)!) };
}
