/**
 * A ComfyUI API-format prompt (plus, optionally, its /history entry and an asset map) → the CreateReceipt request
 * that records it. Pure: no I/O, no clock; the same input always gives the same request.
 */
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreateReceiptRequestSchema, type CreateReceiptRequest } from "@provenance/shared";
import { readAssetMap, resolveAsset, type AssetResolution, type MappedAsset } from "./asset-map.js";
import { readConditioningText } from "./conditioning.js";
import { ComfyReceiptError } from "./errors.js";
import { GraphReader } from "./graph-reader.js";
import { readHistory, type HistoryEntry, type OutputFile, type RunOutcome } from "./history.js";
import { readImageRoles, type ImageRoleOptions } from "./images.js";
import { readLatentShape, UnknownLatentSize, type LatentShape } from "./latent.js";
import { setOwn, type ComfyJson, type PlainJson } from "./lossless-json.js";
import { readModelChain } from "./model-chain.js";
import { SAMPLER_FIELDS, SAMPLERS, UNSUPPORTED_SAMPLERS } from "./node-classes.js";
import { compareNodeIds, describeNode, readPromptGraph, selectNodes, type PromptGraph, type PromptNode } from "./prompt-graph.js";
import { boundedValue, unmappedWidgetParams } from "./widget-params.js";
import { workflowDocument } from "./workflow-hash.js";

/** The workflow asset id used when none is given. */
export const DEFAULT_WORKFLOW_ASSET_ID = "comfyui-workflow";

/** Most bytes additional_params may take as JSON (the receipts service's bound). */
export const MAX_ADDITIONAL_PARAMS_BYTES = 64 * 1024;

/** Everything about the receipt that the prompt does not say. */
export interface ComfyReceiptOptions extends ImageRoleOptions {
  readonly segmentId: string;
  readonly sceneId: string;
  readonly projectId: string;
  readonly characterName?: string;
  readonly sequenceIndex?: number;
  /** Default `comfyui:<prompt_id>` when the history gives the prompt id; required otherwise. */
  readonly idempotencyKey?: string;
  /** When generation started, for a prompt without a history entry (the history's execution_start wins). */
  readonly startedAt?: Date;
  /** The workflow's asset id (default {@link DEFAULT_WORKFLOW_ASSET_ID}); its content hash is computed. */
  readonly workflowAssetId?: string;
  /** The receipt's workflow_version label. */
  readonly workflowVersion?: string;
  /** Node id or exact title of the sampler to read, when the prompt has several final samplers. */
  readonly sampler?: string;
  /** Width and height for a latent whose size the prompt does not say (image-to-image from VAEEncode). */
  readonly fallbackResolution?: { readonly width: number; readonly height: number };
  /** Record files missing from the asset map as untracked placeholders instead of failing. */
  readonly allowUntracked?: boolean;
}

/** What to read. `prompt`, `history` and `assets` are parsed JSON (parse with `parseComfyJson` to keep big seeds exact). */
export interface ComfyReceiptInput {
  /** The `prompt` object of a /prompt request body, or the whole body. */
  readonly prompt: ComfyJson;
  /** The /history/<prompt_id> answer, or one entry of it. */
  readonly history?: ComfyJson;
  /** MAP.json: `{"<file name>": {"asset_id", "content_hash", "version"?}}`. */
  readonly assets?: ComfyJson;
  readonly options: ComfyReceiptOptions;
}

/** How the run went, from the history. */
export interface ComfyRun {
  readonly outcome: RunOutcome;
  readonly completedAt: Date | undefined;
  readonly error: string | undefined;
}

/** The request and what else the inputs told. */
export interface ComfyReceipt {
  readonly request: CreateReceiptRequest;
  readonly promptId: string | undefined;
  /** The workflow content hash (also `request.workflow.contentHash`). */
  readonly workflowHash: string;
  /** The document the workflow hash is taken over. */
  readonly workflowDocument: PlainJson;
  /** Present when a history was given. */
  readonly run: ComfyRun | undefined;
  /** Files the run wrote, from the history; not part of the request (they are results, not inputs). */
  readonly outputs: readonly OutputFile[];
  /** Files that got an untracked placeholder. */
  readonly untracked: readonly string[];
  /** Which nodes were read for what, by node id. */
  readonly nodes: { readonly sampler: string; readonly model: string; readonly loras: readonly string[]; readonly sourceImage?: string; readonly variantImage?: string };
}

const LINKED_SAMPLER_INPUTS = new Set(["model", "positive", "negative", "latent_image"]);

/** Builds the CreateReceipt request for one ComfyUI generation; throws {@link ComfyReceiptError} naming what it cannot read. */
export function receiptFromComfyPrompt(input: ComfyReceiptInput): ComfyReceipt {
  const { options } = input;
  const graph = readPromptGraph(input.prompt);
  const history = input.history === undefined ? undefined : readHistory(input.history);
  if (history?.prompt !== undefined) checkSamePrompt(graph, history);
  const resolution: AssetResolution = {
    map: input.assets === undefined ? new Map() : readAssetMap(input.assets),
    allowUntracked: options.allowUntracked === true,
    untracked: [],
  };
  const reader = new GraphReader(graph);

  const sampler = chooseSampler(reader, options.sampler);
  const seed = reader.seed(sampler, SAMPLERS[sampler.classType]!.seed);
  const steps = reader.integer(sampler, "steps", 1, 100_000);
  const cfg = reader.number(sampler, "cfg");
  const samplerName = reader.text(sampler, "sampler_name");
  if (samplerName.trim() === "") reader.fail(sampler, 'input "sampler_name" is empty');
  const samplerSettings: [string, PlainJson][] = [];
  for (const name of [...sampler.inputs.keys()].sort()) {
    if (SAMPLER_FIELDS.has(name) || LINKED_SAMPLER_INPUTS.has(name)) continue;
    samplerSettings.push([name, plain(reader.value(sampler, name))]);
  }

  const chain = readModelChain(reader, sampler);
  const promptText = readConditioningText(reader, sampler, "positive");
  const negativePrompt = readConditioningText(reader, sampler, "negative");
  const latent = latentShape(reader, sampler, options);
  const images = readImageRoles(reader, options);

  const asset = (a: MappedAsset) => ({ assetId: a.assetId, contentHash: a.contentHash, version: a.version });
  const model = resolveAsset(resolution, chain.file, describeNode(chain.loader), chain.loader.id);
  const loras = chain.loras.map((l) => ({ asset: asset(resolveAsset(resolution, l.file, describeNode(l.node), l.node.id)), weight: l.strengthModel }));
  const imageAsset = (img: { node: PromptNode | undefined; file: string }) =>
    asset(resolveAsset(resolution, img.file, img.node ? describeNode(img.node) : "sourceFile", img.node?.id));
  const sourceImage = imageAsset(images.source);
  const variantImage = images.variant && imageAsset(images.variant);

  const startedAt = history?.startedAt ?? options.startedAt;
  if (startedAt === undefined) {
    throw new ComfyReceiptError("options", "no start time: the history has no execution_start message; give the start time", undefined, "startedAt");
  }
  const promptId = history?.promptId;
  const idempotencyKey = options.idempotencyKey ?? (promptId !== undefined ? `comfyui:${promptId}` : undefined);
  if (idempotencyKey === undefined) {
    throw new ComfyReceiptError("options", "no idempotency key: give one, or a history entry whose prompt id makes comfyui:<prompt_id>", undefined, "idempotencyKey");
  }

  const params: { [key: string]: PlainJson } = {};
  for (const [name, value] of samplerSettings) setOwn(params, name, boundedValue(value));
  if (latent.frames !== undefined) params.frame_count = latent.frames;
  if (latent.batchSize !== undefined) params.batch_size = latent.batchSize;
  if (chain.loras.length > 0) params.lora_clip_strengths = chain.loras.map((l) => l.strengthClip);
  if (resolution.untracked.length > 0) params.untracked_files = [...resolution.untracked];
  Object.assign(params, unmappedWidgetParams(graph, reader.mapped));
  const bytes = Buffer.byteLength(JSON.stringify(params), "utf8");
  if (bytes > MAX_ADDITIONAL_PARAMS_BYTES) {
    throw new ComfyReceiptError(
      "prompt",
      `the prompt's widget values take ${bytes} bytes as additional_params, over the receipt's ${MAX_ADDITIONAL_PARAMS_BYTES}; ` +
        `it has ${Object.keys(params).length} of them`,
    );
  }

  const { document, hash } = workflowDocument(graph, reader.mapped);
  const request = create(CreateReceiptRequestSchema, {
    segmentId: options.segmentId,
    sceneId: options.sceneId,
    projectId: options.projectId,
    characterName: options.characterName ?? "",
    sequenceIndex: options.sequenceIndex ?? 0,
    sourceImage,
    variantImage,
    workflow: { assetId: options.workflowAssetId ?? DEFAULT_WORKFLOW_ASSET_ID, contentHash: hash },
    model: asset(model),
    loras,
    workflowVersion: options.workflowVersion ?? "",
    promptText,
    negativePrompt,
    cfgScale: cfg,
    seed,
    steps,
    sampler: samplerName,
    resolutionWidth: latent.width,
    resolutionHeight: latent.height,
    additionalParams: params as JsonObject,
    generationStartedAt: timestampFromDate(startedAt),
    idempotencyKey,
  });
  return {
    request,
    promptId,
    workflowHash: hash,
    workflowDocument: document,
    run: history && { outcome: history.outcome, completedAt: history.completedAt, error: history.error },
    outputs: history?.outputs ?? [],
    untracked: resolution.untracked,
    nodes: {
      sampler: sampler.id,
      model: chain.loader.id,
      loras: chain.loras.map((l) => l.node.id),
      ...(images.source.node && { sourceImage: images.source.node.id }),
      ...(images.variant?.node && { variantImage: images.variant.node.id }),
    },
  };
}

function plain(v: ComfyJson): PlainJson {
  return typeof v === "bigint" ? v.toString(10) : (v as PlainJson);
}

/** The sampler to read: the one selected, the only one, or the only one whose latent no other sampler refines. */
function chooseSampler(reader: GraphReader, selector: string | undefined): PromptNode {
  const all = [...reader.graph.nodes.values()].sort((a, b) => compareNodeIds(a.id, b.id));
  const samplers = all.filter((n) => n.classType in SAMPLERS);
  if (selector !== undefined) {
    const found = selectNodes(reader.graph, selector, samplers);
    if (found.length === 1) return found[0]!;
    const what = found.length === 0 ? "matches no KSampler or KSamplerAdvanced node (by id or title)" : `matches ${found.length} samplers (${found.map((n) => n.id).join(", ")})`;
    throw new ComfyReceiptError("options", `"${selector}" ${what}`, undefined, "sampler");
  }
  if (samplers.length === 0) {
    const other = all.find((n) => UNSUPPORTED_SAMPLERS.has(n.classType));
    if (other) throw new ComfyReceiptError("prompt", `${describeNode(other)}: this sampler class is not read; use KSampler or KSamplerAdvanced`, other.id);
    throw new ComfyReceiptError("prompt", "the prompt has no sampler node (KSampler or KSamplerAdvanced)");
  }
  if (samplers.length === 1) return samplers[0]!;
  const upstreamOf = (s: PromptNode) => upstream(reader.graph, s, "latent_image");
  const refined = new Set(samplers.flatMap((s) => [...upstreamOf(s)]));
  const finals = samplers.filter((s) => !refined.has(s.id));
  if (finals.length === 1) return finals[0]!;
  throw new ComfyReceiptError(
    "options",
    `the prompt has ${finals.length} final samplers (${finals.map(describeNode).join(", ")}): choose one`,
    finals[0]?.id,
    "sampler",
  );
}

/** Every node the `input` link of `node` depends on, transitively. */
function upstream(graph: PromptGraph, node: PromptNode, input: string): Set<string> {
  const out = new Set<string>();
  const first = node.inputs.get(input);
  const todo = first?.kind === "link" ? [first.from] : [];
  while (todo.length > 0) {
    const id = todo.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    for (const v of graph.nodes.get(id)!.inputs.values()) if (v.kind === "link") todo.push(v.from);
  }
  return out;
}

function latentShape(reader: GraphReader, sampler: PromptNode, options: ComfyReceiptOptions): LatentShape {
  try {
    return readLatentShape(reader, sampler);
  } catch (err) {
    if (!(err instanceof UnknownLatentSize)) throw err;
    const fallback = options.fallbackResolution;
    if (fallback === undefined) {
      throw new ComfyReceiptError("options", `${err.message}: give the resolution`, err.node.id, "resolution");
    }
    return { width: fallback.width, height: fallback.height, frames: undefined, batchSize: undefined };
  }
}

function sameJson(a: ComfyJson | undefined, b: ComfyJson | undefined): boolean {
  if (typeof a === "bigint" || typeof b === "bigint") return typeof a === typeof b && a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson(a[k], b[k]));
  }
  return Object.is(a, b) || a === b;
}

/** The history's `prompt[2]` must be the prompt given: same nodes, classes and inputs (titles may differ). */
function checkSamePrompt(graph: PromptGraph, history: HistoryEntry): void {
  let ran: PromptGraph;
  try {
    ran = readPromptGraph(history.prompt!);
  } catch (err) {
    throw new ComfyReceiptError("history", `the entry's prompt cannot be read: ${(err as Error).message}`);
  }
  const id = history.promptId ?? "?";
  const ids = [...new Set([...graph.nodes.keys(), ...ran.nodes.keys()])].sort(compareNodeIds);
  for (const nodeId of ids) {
    const a = graph.nodes.get(nodeId);
    const b = ran.nodes.get(nodeId);
    const same =
      a !== undefined &&
      b !== undefined &&
      a.classType === b.classType &&
      a.inputs.size === b.inputs.size &&
      [...a.inputs].every(([name, v]) => {
        const w = b.inputs.get(name);
        if (w === undefined || w.kind !== v.kind) return false;
        return v.kind === "link" ? w.kind === "link" && v.from === w.from && v.output === w.output : w.kind === "value" && sameJson(v.value, w.value);
      });
    if (!same) {
      const what = a === undefined ? "is only in the history's prompt" : b === undefined ? "is missing from the history's prompt" : "differs";
      throw new ComfyReceiptError("history", `prompt ${id} ran a different prompt than the one given: node ${nodeId} ${what}`, nodeId);
    }
  }
}
