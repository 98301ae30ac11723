/**
 * Reads values out of a prompt graph while keeping count of which (node, input) values it has mapped to a receipt
 * field: those are left out of the per-node additional_params and of the workflow hash.
 */
import { ComfyReceiptError } from "./errors.js";
import { PRIMITIVES, STRING_CONCATENATE } from "./node-classes.js";
import type { ComfyJson } from "./lossless-json.js";
import { describeNode, linkedNode, type LinkInput, type PromptGraph, type PromptNode } from "./prompt-graph.js";

const MAX_UINT64 = 18446744073709551615n;

/** The key of one (node, input) pair in {@link GraphReader.mapped}. */
export function inputKey(nodeId: string, input: string): string {
  return `${nodeId}\u0000${input}`;
}

/** Reading state over one graph. */
export class GraphReader {
  /** The (node, input) pairs whose values went into a receipt field or a named additional_params entry. */
  readonly mapped = new Set<string>();

  constructor(readonly graph: PromptGraph) {}

  /** Fails with a message about `node`. */
  fail(node: PromptNode, message: string): never {
    throw new ComfyReceiptError("prompt", `${describeNode(node)}: ${message}`, node.id);
  }

  /** The link on `input` of `node`, or an error saying what it should have been linked to. */
  link(node: PromptNode, input: string, expected: string): LinkInput {
    const v = node.inputs.get(input);
    if (v === undefined) this.fail(node, `input "${input}" is missing: it must be linked to ${expected}`);
    if (v.kind !== "link") this.fail(node, `input "${input}" is not linked to ${expected}`);
    return v;
  }

  /** The node on the other end of `link`. */
  follow(link: LinkInput): PromptNode {
    return linkedNode(this.graph, link);
  }

  /**
   * The value of `input` of `node`, following a link to a primitive node (PrimitiveInt, PrimitiveString, …) or a
   * StringConcatenate; marks every value read as mapped.
   */
  value(node: PromptNode, input: string, seen: ReadonlySet<string> = new Set()): ComfyJson {
    const v = node.inputs.get(input);
    if (v === undefined) this.fail(node, `input "${input}" is missing`);
    if (v.kind === "value") {
      this.mapped.add(inputKey(node.id, input));
      return v.value;
    }
    const source = this.follow(v);
    if (seen.has(source.id)) this.fail(node, `input "${input}" loops back to node ${source.id}`);
    const next = new Set(seen).add(node.id);
    if (PRIMITIVES.has(source.classType)) return this.value(source, "value", next);
    if (source.classType === STRING_CONCATENATE) {
      const parts = ["string_a", "delimiter", "string_b"].map((name) => (source.inputs.has(name) ? this.value(source, name, next) : ""));
      if (parts.some((p) => typeof p !== "string")) this.fail(source, "inputs string_a, delimiter and string_b must be text");
      return parts.join("");
    }
    return this.fail(
      node,
      `input "${input}" is linked to ${describeNode(source)}, which is not a value this reader can resolve ` +
        `(${[...PRIMITIVES, STRING_CONCATENATE].join(", ")})`,
    );
  }

  /** A text value of `input`. */
  text(node: PromptNode, input: string): string {
    const v = this.value(node, input);
    if (typeof v !== "string") this.fail(node, `input "${input}" must be text, got ${shown(v)}`);
    return v;
  }

  /** A finite number of `input`. */
  number(node: PromptNode, input: string): number {
    const v = this.value(node, input);
    if (typeof v !== "number") this.fail(node, `input "${input}" must be a number, got ${shown(v)}`);
    return v;
  }

  /** A whole number of `input` from `min` to `max`. */
  integer(node: PromptNode, input: string, min: number, max = 2 ** 32 - 1): number {
    const v = this.value(node, input);
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      this.fail(node, `input "${input}" must be a whole number from ${min} to ${max}, got ${shown(v)}`);
    }
    return v;
  }

  /** An unsigned 64-bit seed of `input`, exact. */
  seed(node: PromptNode, input: string): bigint {
    const v = this.value(node, input);
    const ok = (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint";
    const seed = ok ? BigInt(v) : -1n;
    if (seed < 0n || seed > MAX_UINT64) this.fail(node, `input "${input}" must be a whole number from 0 to ${MAX_UINT64}, got ${shown(v)}`);
    return seed;
  }
}

/** A value as a message shows it: JSON, bigints as digits, at most 80 characters. */
export function shown(v: ComfyJson): string {
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
