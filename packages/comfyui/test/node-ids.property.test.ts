/** Property: renumbering a prompt's nodes changes nothing in the request but the node ids inside additional_params keys. */
import { create } from "@bufbuild/protobuf";
import { CreateReceiptRequestSchema, type CreateReceiptRequest } from "@provenance/shared";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { receiptFromComfyPrompt, type ComfyJson, type ComfyJsonObject } from "../src/index.js";
import { FIXTURES, FIXTURE_OPTIONS, fixture, promptOf } from "./fixture-helpers.js";

const assets = fixture("assets.json");

/** `prompt` with every node id replaced through `rename`, links included, nodes in `order`. */
function renumber(prompt: ComfyJsonObject, rename: ReadonlyMap<string, string>, order: readonly string[]): ComfyJsonObject {
  const out: ComfyJsonObject = {};
  for (const id of order) {
    const node = prompt[id] as { inputs: Record<string, ComfyJson> } & ComfyJsonObject;
    const inputs: ComfyJsonObject = {};
    for (const [name, v] of Object.entries(node.inputs)) {
      const link = Array.isArray(v) && v.length === 2 && typeof v[0] === "string";
      inputs[name] = link ? [rename.get(v[0] as string)!, v[1]!] : v;
    }
    out[rename.get(id)!] = { ...node, inputs };
  }
  return out;
}

/** The history entry of `name` for the renumbered prompt (its prompt[2] and output keys renamed too). */
function renumberedHistory(name: string, prompt: ComfyJsonObject, rename: ReadonlyMap<string, string>): ComfyJson {
  const history = fixture(`${name}.history.json`) as Record<string, { prompt: ComfyJson[]; outputs: ComfyJsonObject }>;
  const [id, entry] = Object.entries(history)[0]!;
  const outputs = Object.fromEntries(Object.entries(entry.outputs).map(([k, v]) => [rename.get(k)!, v]));
  return { [id]: { ...entry, prompt: [entry.prompt[0]!, entry.prompt[1]!, prompt, ...entry.prompt.slice(3)], outputs } } as ComfyJson;
}

/** The request with additional_params keys' node ids mapped back through `back`. */
function withOriginalIds(req: CreateReceiptRequest, back: ReadonlyMap<string, string>): CreateReceiptRequest {
  const params = Object.fromEntries(
    Object.entries(req.additionalParams ?? {}).map(([key, v]) => {
      const dot = key.indexOf(".");
      return [dot > 0 && back.has(key.slice(0, dot)) ? `${back.get(key.slice(0, dot))}${key.slice(dot)}` : key, v];
    }),
  );
  return create(CreateReceiptRequestSchema, { ...req, additionalParams: params });
}

/** Distinct new ids for `count` nodes: digits, or ComfyUI's group-node form "12:3". */
const newIds = (count: number) =>
  fc.uniqueArray(fc.oneof(fc.nat({ max: 99_999 }).map(String), fc.tuple(fc.nat({ max: 999 }), fc.nat({ max: 99 })).map(([a, b]) => `${a}:${b}`)), {
    minLength: count,
    maxLength: count,
  });

describe("renumbering the nodes of a prompt", () => {
  it.each(FIXTURES)("%s: gives the same request, workflow hash and roles, up to the ids in additional_params keys", (name) => {
    const prompt = promptOf(name);
    const ids = Object.keys(prompt);
    const original = receiptFromComfyPrompt({ prompt, history: fixture(`${name}.history.json`), assets, options: FIXTURE_OPTIONS[name] });
    fc.assert(
      fc.property(newIds(ids.length), fc.shuffledSubarray(ids, { minLength: ids.length }), (fresh, order) => {
        const rename = new Map(ids.map((id, i) => [id, fresh[i]!]));
        const back = new Map(ids.map((id, i) => [fresh[i]!, id]));
        const moved = renumber(prompt, rename, order);
        const r = receiptFromComfyPrompt({ prompt: moved, history: renumberedHistory(name, moved, rename), assets, options: FIXTURE_OPTIONS[name] });
        expect(withOriginalIds(r.request, back)).toEqual(original.request);
        expect(r.workflowHash).toBe(original.workflowHash);
        expect(r.nodes.loras.map((id) => back.get(id))).toEqual(original.nodes.loras);
        expect(r.outputs.map((o) => ({ ...o, nodeId: back.get(o.nodeId) }))).toEqual(original.outputs);
      }),
      { numRuns: 60 },
    );
  });

  it("changes the additional_params keys, so the property above is not vacuous", () => {
    const prompt = promptOf("wan-image-to-video");
    const rename = new Map(Object.keys(prompt).map((id) => [id, `9${id}`]));
    const moved = renumber(prompt, rename, Object.keys(prompt));
    const r = receiptFromComfyPrompt({ prompt: moved, assets, options: { ...FIXTURE_OPTIONS["wan-image-to-video"], idempotencyKey: "k", startedAt: new Date(0) } });
    expect(Object.keys(r.request.additionalParams!)).toContain("937.UNETLoader.weight_dtype");
    expect(Object.keys(r.request.additionalParams!)).not.toContain("37.UNETLoader.weight_dtype");
  });
});
