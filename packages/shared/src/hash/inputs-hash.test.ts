import { describe, expect, it } from "vitest";
import { readSpecJson } from "../testing/spec-files.js";
import { buildInputsDocument, canonicalInputs, computeInputsHash, hashInputsDocument, type InputsDocument } from "./inputs-hash.js";

interface Vector {
  name: string;
  document: InputsDocument;
  canonical: string;
  inputs_hash: string;
}

const { vectors } = readSpecJson<{ vectors: Vector[] }>("inputs-hash-vectors.json");

/** The API-shaped inputs equivalent to a spec document. */
function apiInputsOf(doc: InputsDocument) {
  return {
    sourceImageHash: doc.source_image,
    variantImageHash: doc.variant_image,
    workflowHash: doc.workflow,
    modelHash: doc.model,
    loras: doc.loras,
    promptText: doc.prompt,
    negativePrompt: doc.negative_prompt,
    cfgScale: doc.cfg_scale,
    seed: BigInt(doc.seed),
    steps: doc.steps,
    sampler: doc.sampler,
    width: doc.width,
    height: doc.height,
    params: doc.params,
  };
}

describe("inputs hash v1 vectors", () => {
  it("has vectors to check", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(10);
  });

  for (const v of vectors) {
    it(`${v.name}: canonical form and hash from the document`, () => {
      expect(canonicalInputs(v.document)).toBe(v.canonical);
      expect(hashInputsDocument(v.document)).toBe(v.inputs_hash);
    });

    it(`${v.name}: hash from API inputs`, () => {
      expect(computeInputsHash(apiInputsOf(v.document))).toBe(v.inputs_hash);
    });
  }
});

describe("inputs hash rules", () => {
  const base = apiInputsOf(vectors[0]!.document);

  it("lower-cases upper-case hex before hashing", () => {
    const upper = { ...base, modelHash: base.modelHash.toUpperCase() };
    expect(computeInputsHash(upper)).toBe(vectors[0]!.inputs_hash);
  });

  it.each([
    ["sha256: prefix", "sha256:" + "a".repeat(64)],
    ["short", "abc"],
    ["non-hex", "g".repeat(64)],
  ])("rejects a content hash that is %s, naming the field", (_label, bad) => {
    expect(() => computeInputsHash({ ...base, workflowHash: bad })).toThrow(/^workflow\.content_hash: /);
  });

  it("rejects NaN, Infinity and fractional integers", () => {
    expect(() => computeInputsHash({ ...base, cfgScale: Number.NaN })).toThrow(/^cfg_scale: /);
    expect(() => computeInputsHash({ ...base, loras: [{ hash: "a".repeat(64), weight: Infinity }] })).toThrow(
      /^loras\[0\]\.weight: /,
    );
    expect(() => computeInputsHash({ ...base, steps: 1.5 })).toThrow(/^steps: /);
    expect(() => computeInputsHash({ ...base, width: 0 })).toThrow(/^resolution_width: /);
  });

  it("keeps seeds above 2^53 exact and rejects seeds beyond uint64", () => {
    expect(buildInputsDocument({ ...base, seed: 18446744073709551615n }).seed).toBe("18446744073709551615");
    expect(buildInputsDocument({ ...base, seed: 9007199254740993n }).seed).toBe("9007199254740993");
    expect(() => computeInputsHash({ ...base, seed: 18446744073709551616n })).toThrow(/^seed: /);
  });

  it("changes with the negative prompt and with any param", () => {
    const h = computeInputsHash(base);
    expect(computeInputsHash({ ...base, negativePrompt: "x" })).not.toBe(h);
    expect(computeInputsHash({ ...base, params: { fps: 16 } })).not.toBe(h);
  });
});
