/** The three fixture workflows → their exact CreateReceipt requests, the workflow hash by its documented rule, and the history. */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { CreateReceiptRequestSchema, canonicalJson } from "@provenance/shared";
import { describe, expect, it } from "vitest";
import { receiptFromComfyPrompt, type ComfyJsonObject } from "../src/index.js";
import { FIXTURE_OPTIONS, SEGMENT, fixture, promptOf, sha } from "./fixture-helpers.js";

// RFC 8785 through the shared module (the canonicalize package); the rule on top of it is re-stated here.
const canonicalize = (v: unknown) => canonicalJson(v)!;
const hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * The workflow hash as the README states it, written apart from the library: nodes as {class_type, inputs} without
 * the `excluded` inputs and filename_prefix, links as [key of the linked node, output], a node's key the SHA-256 of
 * its entry's JCS, the document {spec, nodes sorted by key}.
 */
function documentedWorkflowHash(prompt: ComfyJsonObject, excluded: Record<string, string[]>): string {
  const keys = new Map<string, string>();
  const entries = new Map<string, unknown>();
  const keyOf = (id: string): string => {
    if (keys.has(id)) return keys.get(id)!;
    const node = prompt[id] as { class_type: string; inputs: Record<string, unknown> };
    const inputs: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(node.inputs)) {
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string") inputs[name] = [keyOf(v[0]), v[1]];
      else if (!(excluded[id] ?? []).includes(name) && name !== "filename_prefix") inputs[name] = typeof v === "bigint" ? v.toString() : v;
    }
    const entry = { class_type: node.class_type, inputs };
    keys.set(id, hex(canonicalize(entry)));
    entries.set(id, entry);
    return keys.get(id)!;
  };
  const nodes = Object.keys(prompt)
    .map((id) => ({ key: keyOf(id), entry: entries.get(id) }))
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((x) => x.entry);
  return hex(canonicalize({ spec: "provenance/comfyui-workflow/v1", nodes }));
}

const assets = fixture("assets.json");
const reference = { assetId: "src-anna-reference", contentHash: sha("anna reference v1"), version: 0 };
const sdxl = { assetId: "model-sdxl-base", contentHash: sha("sd_xl_base_1.0.safetensors bytes"), version: 1 };
const segment = { segmentId: "seg-7", sceneId: "scene-2", projectId: "p1", characterName: "anna", sequenceIndex: 7 };

function read(name: keyof typeof FIXTURE_OPTIONS, withHistory = true) {
  return receiptFromComfyPrompt({
    prompt: fixture(`${name}.prompt.json`),
    history: withHistory ? fixture(`${name}.history.json`) : undefined,
    assets,
    options: withHistory ? FIXTURE_OPTIONS[name] : { ...FIXTURE_OPTIONS[name], idempotencyKey: "k1", startedAt: new Date("2026-01-02T03:04:05Z") },
  });
}

describe("text-to-image (CheckpointLoaderSimple + KSampler)", () => {
  it("is the exact request, with the seed above 2^53 exact", () => {
    const r = read("text-to-image");
    const hash = documentedWorkflowHash(promptOf("text-to-image"), {
      "3": ["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"],
      "4": ["ckpt_name"],
      "5": ["width", "height", "batch_size"],
      "6": ["text"],
      "7": ["text"],
    });
    expect(r.request).toEqual(
      create(CreateReceiptRequestSchema, {
        ...segment,
        sourceImage: reference,
        workflow: { assetId: "comfyui-workflow", contentHash: hash },
        model: sdxl,
        loras: [],
        promptText: "portrait of anna on the pier at golden hour, 35mm film",
        negativePrompt: "blurry, lowres, watermark",
        cfgScale: 7.5,
        seed: 18446744073709551557n,
        steps: 30,
        sampler: "dpmpp_2m",
        resolutionWidth: 1024,
        resolutionHeight: 1024,
        additionalParams: { denoise: 1, scheduler: "karras", batch_size: 1, "9.SaveImage.filename_prefix": "anna/portrait" },
        generationStartedAt: timestampFromDate(new Date("2025-11-21T10:00:00.123Z")),
        idempotencyKey: "comfyui:6f962d0e-40d9-45e8-b378-7247258cadde",
      }),
    );
    // JSON.parse would have rounded it to 18446744073709551616, past uint64.
    expect(BigInt(JSON.parse("18446744073709551557"))).not.toBe(r.request.seed);
    expect(r.workflowHash).toBe(hash);
    expect(r.nodes).toEqual({ sampler: "3", model: "4", loras: [] });
  });

  it("takes the run's id, times and outputs from the history", () => {
    const r = read("text-to-image");
    expect(r.promptId).toBe("6f962d0e-40d9-45e8-b378-7247258cadde");
    expect(r.run).toEqual({ outcome: "succeeded", completedAt: new Date("2025-11-21T10:00:12.456Z"), error: undefined });
    expect(r.outputs).toEqual([{ nodeId: "9", kind: "images", filename: "portrait_00001_.png", subfolder: "anna", type: "output" }]);
  });

  it("without a history, uses the given key and start time and says nothing of a run", () => {
    const r = read("text-to-image", false);
    expect(r.request.idempotencyKey).toBe("k1");
    expect(r.request.generationStartedAt).toEqual(timestampFromDate(new Date("2026-01-02T03:04:05Z")));
    expect(r.run).toBeUndefined();
    expect(r.outputs).toEqual([]);
    expect(r.promptId).toBeUndefined();
  });
});

describe("image-to-video (Wan 2.1: UNETLoader + CLIPLoader + VAELoader + LoadImage + WanImageToVideo + KSampler + SaveVideo)", () => {
  it("is the exact request: texts through WanImageToVideo, frames from its length, source and variant by title", () => {
    const r = read("wan-image-to-video");
    const hash = documentedWorkflowHash(promptOf("wan-image-to-video"), {
      "3": ["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"],
      "6": ["text"],
      "7": ["text"],
      "37": ["unet_name"],
      "50": ["width", "height", "length", "batch_size"],
      "52": ["image"],
      "62": ["image"],
    });
    expect(r.request).toEqual(
      create(CreateReceiptRequestSchema, {
        ...segment,
        sourceImage: { assetId: "src-anna", contentHash: sha("anna source v1") },
        variantImage: { assetId: "var-anna-clothed", contentHash: sha("anna clothed v2"), version: 2 },
        workflow: { assetId: "comfyui-workflow", contentHash: hash },
        model: { assetId: "model-wan21-i2v-480p", contentHash: sha("wan2.1 i2v 480p bytes") },
        loras: [],
        promptText: "anna walks along the pier at dusk, her coat moving in the wind",
        negativePrompt: "static, blurry, overexposed, subtitles, worst quality, extra fingers",
        cfgScale: 6,
        seed: 987654321012345n,
        steps: 20,
        sampler: "uni_pc",
        resolutionWidth: 832,
        resolutionHeight: 480,
        additionalParams: {
          denoise: 1,
          scheduler: "simple",
          frame_count: 81,
          batch_size: 1,
          "37.UNETLoader.weight_dtype": "default",
          "38.CLIPLoader.clip_name": "umt5_xxl_fp8_e4m3fn_scaled.safetensors",
          "38.CLIPLoader.device": "default",
          "38.CLIPLoader.type": "wan",
          "39.VAELoader.vae_name": "wan_2.1_vae.safetensors",
          "49.CLIPVisionLoader.clip_name": "clip_vision_h.safetensors",
          "51.CLIPVisionEncode.crop": "none",
          "54.ModelSamplingSD3.shift": 8,
          "57.CreateVideo.fps": 16,
          "58.SaveVideo.codec": "auto",
          "58.SaveVideo.filename_prefix": "video/anna_pier",
          "58.SaveVideo.format": "auto",
        },
        generationStartedAt: timestampFromDate(new Date("2025-11-21T11:00:00Z")),
        idempotencyKey: "comfyui:b7e1c0d2-9a4f-4e3b-8c5d-2f1a0e9d8c7b",
      }),
    );
    expect(r.nodes).toEqual({ sampler: "3", model: "37", loras: [], sourceImage: "52", variantImage: "62" });
    expect(r.outputs.map((o) => `${o.subfolder}/${o.filename}`)).toEqual(["video/anna_pier_00001_.mp4"]);
    expect(r.run?.completedAt).toEqual(new Date("2025-11-21T11:06:54.500Z"));
  });

  it("accepts the bare prompt object as well as the /prompt body", () => {
    const body = read("wan-image-to-video").request;
    const bare = receiptFromComfyPrompt({ prompt: promptOf("wan-image-to-video"), history: fixture("wan-image-to-video.history.json"), assets, options: SEGMENT });
    expect(bare.request).toEqual(body);
  });

  it("lets options choose the roles: swapped by node id and title, or no variant", () => {
    const base = { prompt: promptOf("wan-image-to-video"), assets, options: { ...SEGMENT, idempotencyKey: "k", startedAt: new Date(0) } };
    const swapped = receiptFromComfyPrompt({ ...base, options: { ...base.options, sourceImage: "62", variantImage: "Source image" } }).request;
    expect(swapped.sourceImage?.assetId).toBe("var-anna-clothed");
    expect(swapped.variantImage?.assetId).toBe("src-anna");
    const none = receiptFromComfyPrompt({ ...base, options: { ...base.options, variantImage: "none" } });
    expect(none.request.variantImage).toBeUndefined();
    expect(none.request.sourceImage?.assetId).toBe("src-anna");
    // The LoadImage in no role keeps its file name among the widget values.
    expect(none.request.additionalParams?.["62.LoadImage.image"]).toBe("anna_clothed_v2.png");
  });
});

describe("LoRA stack (LoraLoader → LoraLoaderModelOnly → LoraLoader, node ids out of order)", () => {
  it("is the exact request: LoRAs in application order with model and CLIP strengths, text from a primitive", () => {
    const r = read("lora-stack");
    const hash = documentedWorkflowHash(promptOf("lora-stack"), {
      "3": ["noise_seed", "steps", "cfg", "sampler_name", "scheduler", "add_noise", "start_at_step", "end_at_step", "return_with_leftover_noise"],
      "4": ["ckpt_name"],
      "5": ["width", "height", "batch_size"],
      "7": ["text"],
      "12": ["lora_name", "strength_model"],
      "21": ["lora_name", "strength_model", "strength_clip"],
      "30": ["lora_name", "strength_model", "strength_clip"],
      "40": ["value"],
    });
    expect(r.request).toEqual(
      create(CreateReceiptRequestSchema, {
        ...segment,
        sourceImage: reference,
        workflow: { assetId: "comfyui-workflow", contentHash: hash },
        model: sdxl,
        loras: [
          { asset: { assetId: "lora-anna", contentHash: sha("lora anna v3"), version: 3 }, weight: 0.85 },
          { asset: { assetId: "lora-film-grain", contentHash: sha("lora film grain v1") }, weight: 0.4 },
          { asset: { assetId: "lora-detail-tweaker", contentHash: sha("lora detail tweaker v1") }, weight: 0.6 },
        ],
        promptText: "anna in a red raincoat, full body, studio light",
        negativePrompt: "lowres, bad anatomy, jpeg artifacts",
        cfgScale: 5.5,
        seed: 9007199254740993n,
        steps: 28,
        sampler: "euler_ancestral",
        resolutionWidth: 832,
        resolutionHeight: 1216,
        additionalParams: {
          add_noise: "enable",
          end_at_step: 10000,
          return_with_leftover_noise: "disable",
          scheduler: "normal",
          start_at_step: 0,
          batch_size: 2,
          lora_clip_strengths: [0.9, null, 1],
          "9.SaveImage.filename_prefix": "anna/lookbook",
        },
        generationStartedAt: timestampFromDate(new Date("2025-11-21T12:00:00Z")),
        idempotencyKey: "comfyui:0d9c8b7a-6e5f-4d3c-9b2a-1f0e9d8c7b6a",
      }),
    );
    expect(r.nodes.loras).toEqual(["21", "12", "30"]);
    // 2^53 + 1: what JSON.parse would have turned into 2^53.
    expect(JSON.parse("9007199254740993")).toBe(9007199254740992);
    expect(r.outputs.map((o) => o.filename)).toEqual(["lookbook_00001_.png", "lookbook_00002_.png"]);
  });
});

describe("the workflow hash", () => {
  const base = (prompt: ComfyJsonObject) =>
    receiptFromComfyPrompt({ prompt, assets, options: { ...FIXTURE_OPTIONS["text-to-image"], idempotencyKey: "k", startedAt: new Date(0) } }).workflowHash;
  const edited = (edit: (p: Record<string, { inputs: Record<string, unknown>; _meta?: { title: string } }>) => void) => {
    const p = promptOf("text-to-image");
    edit(p as never);
    return base(p);
  };
  const original = base(promptOf("text-to-image"));

  it("stays the same when only per-generation values, titles or output names change", () => {
    expect(edited((p) => (p["3"]!.inputs.seed = 1))).toBe(original);
    expect(edited((p) => (p["6"]!.inputs.text = "another shot"))).toBe(original);
    expect(edited((p) => (p["5"]!.inputs.width = 768))).toBe(original);
    expect(edited((p) => (p["9"]!.inputs.filename_prefix = "shot-12"))).toBe(original);
    expect(edited((p) => (p["3"]!._meta = { title: "Sampler" }))).toBe(original);
  });

  it("changes when the graph or a value the receipt does not record changes", () => {
    expect(edited((p) => (p["8"]!.inputs.vae = ["4", 1]))).not.toBe(original);
    expect(
      edited((p) => {
        p["10"] = { inputs: { samples: ["3", 0], vae: ["4", 2] }, class_type: "VAEDecode" } as never;
      }),
    ).not.toBe(original);
    expect(
      edited((p) => {
        p["6"]!.inputs.clip = ["4", 1];
        p["11"] = { inputs: { stop_at_clip_layer: -2, clip: ["4", 1] }, class_type: "CLIPSetLastLayer" } as never;
        p["6"]!.inputs.clip = ["11", 0];
      }),
    ).not.toBe(original);
  });
});
