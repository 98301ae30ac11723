/**
 * Every widget value the receipt does not map to a field of its own, as flat additional_params entries
 * `"<node id>.<class_type>.<input>": value`, in node-id then input order. Bounded: a value whose JSON exceeds
 * {@link MAX_PARAM_VALUE_BYTES} bytes or nests deeper than {@link MAX_PARAM_VALUE_DEPTH} levels is replaced by
 * `"sha256:<hex of its canonical JSON> (<n> bytes)"`, which still changes whenever the value does.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "@provenance/shared";
import { inputKey } from "./graph-reader.js";
import { setOwn, toPlainJson, type PlainJson } from "./lossless-json.js";
import { compareNodeIds, type PromptGraph } from "./prompt-graph.js";

/** Longest JSON of one value kept as is. */
export const MAX_PARAM_VALUE_BYTES = 1024;

/** Deepest nesting of one value kept as is (the service allows 32 levels for the whole Struct). */
export const MAX_PARAM_VALUE_DEPTH = 8;

function depth(v: PlainJson): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depth));
  if (v !== null && typeof v === "object") return 1 + Math.max(0, ...Object.values(v).map(depth));
  return 0;
}

/** The value as stored: itself, or its digest when it is over the bounds. */
export function boundedValue(value: PlainJson): PlainJson {
  const json = canonicalJson(value)!;
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes <= MAX_PARAM_VALUE_BYTES && depth(value) <= MAX_PARAM_VALUE_DEPTH) return value;
  return `sha256:${createHash("sha256").update(json, "utf8").digest("hex")} (${bytes} bytes)`;
}

/** The flat per-node entries of every value input not in `mapped`. */
export function unmappedWidgetParams(graph: PromptGraph, mapped: ReadonlySet<string>): { [key: string]: PlainJson } {
  const out: { [key: string]: PlainJson } = {};
  const nodes = [...graph.nodes.values()].sort((a, b) => compareNodeIds(a.id, b.id));
  for (const node of nodes) {
    const names = [...node.inputs.keys()].sort();
    for (const name of names) {
      const input = node.inputs.get(name)!;
      if (input.kind !== "value" || mapped.has(inputKey(node.id, name))) continue;
      setOwn(out, `${node.id}.${node.classType}.${name}`, boundedValue(toPlainJson(input.value)));
    }
  }
  return out;
}
