/**
 * The canonical inputs hash, spec `provenance/inputs/v1` (docs/spec/inputs-hash.md):
 * an RFC 8785 (JCS) document of everything that can change the pixels, hashed with SHA-256.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";

/** The spec value of version 1. A change to the document is a new spec, never a change to this one. */
export const INPUTS_SPEC_V1 = "provenance/inputs/v1";

/** A JSON value as it may appear in `params`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The document the hash is taken over, keys exactly as the spec names them. */
export interface InputsDocument {
  spec: typeof INPUTS_SPEC_V1;
  source_image: string;
  variant_image: string | null;
  workflow: string;
  model: string;
  loras: { hash: string; weight: number }[];
  prompt: string;
  negative_prompt: string;
  cfg_scale: number;
  seed: string;
  steps: number;
  sampler: string;
  width: number;
  height: number;
  params: { [key: string]: JsonValue };
}

/** An input that cannot be hashed; `field` names it in the document's terms of the API. */
export class InputsHashError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "InputsHashError";
  }
}

const HEX64 = /^[0-9a-fA-F]{64}$/;
const MAX_UINT64 = 18446744073709551615n;

/** Lower-cases a content hash, rejecting anything that is not 64 hex digits. */
export function normalizeContentHash(field: string, value: string): string {
  if (!HEX64.test(value)) {
    throw new InputsHashError(field, `must be a SHA-256 of 64 hex digits (no prefix), got "${value.slice(0, 80)}"`);
  }
  return value.toLowerCase();
}

function finite(field: string, value: number): number {
  if (!Number.isFinite(value)) throw new InputsHashError(field, `must be a finite number, got ${value}`);
  return value;
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new InputsHashError(field, `must be a whole number of at least 1, got ${value}`);
  }
  return value;
}

function seedString(field: string, value: bigint | string | number): string {
  let seed: bigint;
  try {
    seed = BigInt(value);
  } catch {
    throw new InputsHashError(field, `must be an unsigned 64-bit integer, got "${String(value)}"`);
  }
  if (seed < 0n || seed > MAX_UINT64) {
    throw new InputsHashError(field, `must be between 0 and ${MAX_UINT64}, got ${seed}`);
  }
  return seed.toString(10);
}

function checkJson(field: string, value: unknown): JsonValue {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") return finite(field, value);
  if (Array.isArray(value)) return value.map((v, i) => checkJson(`${field}[${i}]`, v));
  if (typeof value === "object") {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = checkJson(`${field}.${k}`, v);
    return out;
  }
  throw new InputsHashError(field, `is not a JSON value`);
}

/** The generation inputs in API terms, as a receipt or a regeneration job carries them. */
export interface HashableInputs {
  sourceImageHash: string;
  variantImageHash?: string | null;
  workflowHash: string;
  modelHash: string;
  loras: readonly { hash: string; weight: number }[];
  promptText: string;
  negativePrompt: string;
  cfgScale: number;
  seed: bigint | string | number;
  steps: number;
  sampler: string;
  width: number;
  height: number;
  params?: { [key: string]: unknown } | null;
}

/**
 * Builds the spec document from API inputs, normalising hashes and rejecting what the spec
 * rejects. Error fields use the API's names (`source_image.content_hash`, `loras[1].weight`, …).
 */
export function buildInputsDocument(inputs: HashableInputs): InputsDocument {
  const params = checkJson("additional_params", inputs.params ?? {});
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    throw new InputsHashError("additional_params", "must be a JSON object");
  }
  return {
    spec: INPUTS_SPEC_V1,
    source_image: normalizeContentHash("source_image.content_hash", inputs.sourceImageHash),
    variant_image:
      inputs.variantImageHash == null || inputs.variantImageHash === ""
        ? null
        : normalizeContentHash("variant_image.content_hash", inputs.variantImageHash),
    workflow: normalizeContentHash("workflow.content_hash", inputs.workflowHash),
    model: normalizeContentHash("model.content_hash", inputs.modelHash),
    loras: inputs.loras.map((l, i) => ({
      hash: normalizeContentHash(`loras[${i}].asset.content_hash`, l.hash),
      weight: finite(`loras[${i}].weight`, l.weight),
    })),
    prompt: inputs.promptText,
    negative_prompt: inputs.negativePrompt,
    cfg_scale: finite("cfg_scale", inputs.cfgScale),
    seed: seedString("seed", inputs.seed),
    steps: positiveInteger("steps", inputs.steps),
    sampler: inputs.sampler,
    width: positiveInteger("resolution_width", inputs.width),
    height: positiveInteger("resolution_height", inputs.height),
    params,
  };
}

/** The RFC 8785 canonical form of a document (via the maintained `canonicalize` package). */
export function canonicalInputs(document: InputsDocument): string {
  const text = canonicalJson(document);
  if (text === undefined) throw new InputsHashError("document", "cannot be canonicalised");
  return text;
}

/** SHA-256 of the UTF-8 canonical document, as 64 lowercase hex digits. */
export function hashInputsDocument(document: InputsDocument): string {
  return createHash("sha256").update(canonicalInputs(document), "utf8").digest("hex");
}

/** The `inputs_hash` of API inputs: build the document, canonicalise, hash. */
export function computeInputsHash(inputs: HashableInputs): string {
  return hashInputsDocument(buildInputsDocument(inputs));
}
