/**
 * The API-format prompt as a graph: node id → {class_type, inputs, _meta.title}, where an input that is
 * `[node_id, output_index]` is a link (ComfyUI's own rule: a two-element list of a string and an integer).
 */
import { ComfyReceiptError } from "./errors.js";
import { isJsonObject, type ComfyJson, type ComfyJsonObject } from "./lossless-json.js";

/** An input linked to output `output` of node `from`. */
export interface LinkInput {
  readonly kind: "link";
  readonly from: string;
  readonly output: number;
}

/** An input holding a value (a widget value). */
export interface ValueInput {
  readonly kind: "value";
  readonly value: ComfyJson;
}

/** One input of a node. */
export type NodeInput = LinkInput | ValueInput;

/** One node of the prompt. */
export interface PromptNode {
  readonly id: string;
  readonly classType: string;
  /** `_meta.title`, when the prompt carries it (ComfyUI frontends since 2024 do). */
  readonly title: string | undefined;
  /** Inputs in the order the prompt lists them. */
  readonly inputs: ReadonlyMap<string, NodeInput>;
}

/** The prompt's nodes by id. */
export interface PromptGraph {
  readonly nodes: ReadonlyMap<string, PromptNode>;
}

/** "node 12 (KSampler)": how every message names a node. */
export function describeNode(node: PromptNode): string {
  return `node ${node.id} (${node.classType})`;
}

function isLink(value: ComfyJson): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === "string" && typeof value[1] === "number" && Number.isInteger(value[1]);
}

/**
 * The prompt object out of what was given: the `prompt` object itself, or the whole `/prompt` request body
 * (`{"prompt": {...}, "client_id": ..., "extra_data": ...}`).
 */
export function promptObjectOf(json: ComfyJson): ComfyJsonObject {
  if (!isJsonObject(json)) throw new ComfyReceiptError("prompt", "the prompt must be a JSON object of node id → node");
  const inner = json.prompt;
  if (isJsonObject(inner) && !("class_type" in inner)) return inner;
  return json;
}

/** Reads and checks the graph: every node has a class_type and inputs, every link names a node of the prompt. */
export function readPromptGraph(json: ComfyJson): PromptGraph {
  const prompt = promptObjectOf(json);
  const nodes = new Map<string, PromptNode>();
  for (const [id, raw] of Object.entries(prompt)) {
    if (!isJsonObject(raw)) throw new ComfyReceiptError("prompt", `node ${id}: must be an object with "class_type" and "inputs"`, id);
    const classType = raw.class_type;
    if (typeof classType !== "string" || classType.trim() === "") {
      throw new ComfyReceiptError("prompt", `node ${id}: "class_type" must be a non-empty string`, id);
    }
    const rawInputs = raw.inputs ?? {};
    if (!isJsonObject(rawInputs)) throw new ComfyReceiptError("prompt", `node ${id} (${classType}): "inputs" must be an object`, id);
    const inputs = new Map<string, NodeInput>();
    for (const [name, value] of Object.entries(rawInputs)) {
      if (isLink(value)) {
        if (value[1] < 0) throw new ComfyReceiptError("prompt", `node ${id} (${classType}): input "${name}" links to a negative output index`, id);
        inputs.set(name, { kind: "link", from: value[0], output: value[1] });
      } else {
        inputs.set(name, { kind: "value", value });
      }
    }
    const meta = raw._meta;
    const title = isJsonObject(meta) && typeof meta.title === "string" ? meta.title : undefined;
    nodes.set(id, { id, classType, title, inputs });
  }
  if (nodes.size === 0) throw new ComfyReceiptError("prompt", "the prompt has no nodes");
  for (const node of nodes.values()) {
    for (const [name, input] of node.inputs) {
      if (input.kind === "link" && !nodes.has(input.from)) {
        throw new ComfyReceiptError("prompt", `${describeNode(node)}: input "${name}" links to node ${input.from}, which is not in the prompt`, node.id);
      }
    }
  }
  return { nodes };
}

/** The node at the other end of `link`. */
export function linkedNode(graph: PromptGraph, link: LinkInput): PromptNode {
  // readPromptGraph checked every link's target exists.
  return graph.nodes.get(link.from)!;
}

/** Finds the nodes named by `selector`: its node id, or else every node whose `_meta.title` is exactly `selector`. */
export function selectNodes(graph: PromptGraph, selector: string, candidates: readonly PromptNode[]): PromptNode[] {
  const byId = candidates.filter((n) => n.id === selector);
  if (byId.length > 0) return byId;
  return candidates.filter((n) => n.title === selector);
}

/** Node ids in a stable, human order: numeric ids by value, then the rest by code units. */
export function compareNodeIds(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb) && na !== nb) return na - nb;
  if (!Number.isNaN(na) !== !Number.isNaN(nb)) return Number.isNaN(na) ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
