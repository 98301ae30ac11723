/** Graph shapes beyond the fixtures: other loaders and samplers, two-pass workflows, and every refusal naming its node. */
import { describe, expect, it } from "vitest";
import { ComfyReceiptError, receiptFromComfyPrompt, type ComfyJson, type ComfyReceiptOptions } from "../src/index.js";
import { FIXTURE_OPTIONS, fixture, promptOf, sha } from "./fixture-helpers.js";

type Nodes = Record<string, { inputs: Record<string, unknown>; class_type: string; _meta?: { title: string } }>;

const assets = fixture("assets.json");
const options: ComfyReceiptOptions = { ...FIXTURE_OPTIONS["text-to-image"], idempotencyKey: "k", startedAt: new Date(0) };

/** The text-to-image prompt after `edit`. */
function t2i(edit: (p: Nodes) => void = () => {}): Nodes {
  const p = promptOf("text-to-image") as unknown as Nodes;
  edit(p);
  return p;
}

function run(prompt: Nodes | ComfyJson, more: Partial<ComfyReceiptOptions> = {}, extra: { history?: ComfyJson; assets?: ComfyJson } = {}) {
  return receiptFromComfyPrompt({ prompt: prompt as ComfyJson, assets: "assets" in extra ? extra.assets : assets, history: extra.history, options: { ...options, ...more } });
}

/** The error `fn` throws, checked to be the library's own. */
function refusal(fn: () => unknown): ComfyReceiptError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ComfyReceiptError);
    return err as ComfyReceiptError;
  }
  throw new Error("expected a ComfyReceiptError, got none");
}

describe("graphs it reads", () => {
  it("follows a seed and steps given by primitive nodes, and a text built by StringConcatenate", () => {
    const r = run(
      t2i((p) => {
        p["3"]!.inputs.seed = ["20", 0];
        p["20"] = { inputs: { value: 18446744073709551615n }, class_type: "PrimitiveInt" };
        p["6"]!.inputs.text = ["21", 0];
        p["21"] = { inputs: { string_a: ["22", 0], string_b: "golden hour", delimiter: ", " }, class_type: "StringConcatenate" };
        p["22"] = { inputs: { value: "anna on the pier" }, class_type: "PrimitiveString" };
      }),
    );
    expect(r.request.seed).toBe(18446744073709551615n);
    expect(r.request.promptText).toBe("anna on the pier, golden hour");
    const params = r.request.additionalParams!;
    expect(Object.keys(params).filter((k) => /^(20|21|22)\./.test(k))).toEqual([]);
  });

  it("reads a UNET model through a model patch it does not list, and a Power Lora Loader in slot order", () => {
    const r = run(
      t2i((p) => {
        p["3"]!.inputs.model = ["31", 0];
        p["31"] = { inputs: { ratio: 0.4, model: ["30", 0] }, class_type: "SomeModelPatch" };
        p["30"] = {
          class_type: "Power Lora Loader (rgthree)",
          inputs: {
            PowerLoraLoaderHeaderWidget: { type: "PowerLoraLoaderHeaderWidget" },
            lora_10: { on: true, lora: "detail_tweaker_xl.safetensors", strength: 0.3 },
            lora_2: { on: true, lora: "characters/anna_v3.safetensors", strength: 0.9, strengthTwo: 0.7 },
            lora_3: { on: false, lora: "styles/film_grain.safetensors", strength: 1 },
            "➕ Add Lora": "",
            model: ["32", 0],
            clip: ["4", 1],
          },
        };
        p["32"] = { inputs: { unet_name: "wan2.1_i2v_480p_14B_fp16.safetensors", weight_dtype: "fp8_e4m3fn" }, class_type: "UNETLoader" };
      }),
    );
    expect(r.request.model?.assetId).toBe("model-wan21-i2v-480p");
    expect(r.request.loras.map((l) => [l.asset?.assetId, l.weight])).toEqual([
      ["lora-anna", 0.9],
      ["lora-detail-tweaker", 0.3],
    ]);
    const params = r.request.additionalParams!;
    expect(params.lora_clip_strengths).toEqual([0.7, 0.3]);
    expect(params["30.Power Lora Loader (rgthree).lora_3"]).toEqual({ on: false, lora: "styles/film_grain.safetensors", strength: 1 });
    expect(params["31.SomeModelPatch.ratio"]).toBe(0.4);
    expect(params["32.UNETLoader.weight_dtype"]).toBe("fp8_e4m3fn");
  });

  it("leaves out a LoRA whose model and CLIP strengths are both 0 (ComfyUI does not apply it), keeping its values", () => {
    const r = run(
      t2i((p) => {
        p["3"]!.inputs.model = ["40", 0];
        p["40"] = { inputs: { lora_name: "unused.safetensors", strength_model: 0, strength_clip: 0, model: ["4", 0], clip: ["4", 1] }, class_type: "LoraLoader" };
      }),
    );
    expect(r.request.loras).toEqual([]);
    expect(r.request.additionalParams?.["40.LoraLoader.lora_name"]).toBe("unused.safetensors");
  });

  it("reads the final sampler of a two-pass workflow, with the upscaled resolution", () => {
    const r = run(
      t2i((p) => {
        p["50"] = { inputs: { upscale_method: "nearest-exact", scale_by: 1.5, samples: ["3", 0] }, class_type: "LatentUpscaleBy" };
        p["51"] = {
          inputs: { seed: 7, steps: 12, cfg: 6, sampler_name: "euler", scheduler: "normal", denoise: 0.45, model: ["4", 0], positive: ["6", 0], negative: ["7", 0], latent_image: ["50", 0] },
          class_type: "KSampler",
          _meta: { title: "Hires pass" },
        };
        p["8"]!.inputs.samples = ["51", 0];
      }),
    );
    expect(r.nodes.sampler).toBe("51");
    expect([r.request.seed, r.request.steps, r.request.resolutionWidth, r.request.resolutionHeight]).toEqual([7n, 12, 1536, 1536]);
    expect(r.request.additionalParams?.denoise).toBe(0.45);
    // The first pass's settings stay, under its node.
    expect(r.request.additionalParams?.["3.KSampler.seed"]).toBe("18446744073709551557");
    // Or the first pass, when chosen by title or id.
    expect(run(t2i((p) => (p["3"]!._meta = { title: "Base pass" })), { sampler: "Base pass" }).nodes.sampler).toBe("3");
  });

  it("resolves a zeroed negative (ConditioningZeroOut) to no text, and follows ControlNet and FluxGuidance", () => {
    const r = run(
      t2i((p) => {
        p["60"] = { inputs: { conditioning: ["6", 0] }, class_type: "ConditioningZeroOut" };
        p["61"] = { inputs: { guidance: 3.5, conditioning: ["6", 0] }, class_type: "FluxGuidance" };
        p["62"] = { inputs: { strength: 0.8, start_percent: 0, end_percent: 1, positive: ["61", 0], negative: ["60", 0], control_net: ["63", 0], image: ["64", 0] }, class_type: "ControlNetApplyAdvanced" };
        p["63"] = { inputs: { control_net_name: "depth.safetensors" }, class_type: "ControlNetLoader" };
        p["64"] = { inputs: { image: "depth.png" }, class_type: "LoadImage" };
        p["3"]!.inputs.positive = ["62", 0];
        p["3"]!.inputs.negative = ["62", 1];
      }),
    );
    expect(r.request.sourceImage?.assetId).toBe("src-anna-reference");
    expect(r.request.additionalParams?.["64.LoadImage.image"]).toBe("depth.png");
    expect(r.request.promptText).toBe("portrait of anna on the pier at golden hour, 35mm film");
    expect(r.request.negativePrompt).toBe("");
  });

  it("takes the resolution given for an image-to-image latent (VAEEncode), which the prompt does not say", () => {
    const prompt = t2i((p) => {
      p["70"] = { inputs: { image: "anna_source.png" }, class_type: "LoadImage", _meta: { title: "Load Image" } };
      p["71"] = { inputs: { pixels: ["70", 0], vae: ["4", 2] }, class_type: "VAEEncode" };
      p["3"]!.inputs.latent_image = ["71", 0];
      delete p["5"];
    });
    const e = refusal(() => run(prompt, { sourceFile: undefined }));
    expect(e.message).toBe("node 71 (VAEEncode) makes the latent from an image, whose size the prompt does not say: give the resolution");
    expect(e.option).toBe("resolution");
    const r = run(prompt, { sourceFile: undefined, fallbackResolution: { width: 768, height: 1024 } });
    expect([r.request.resolutionWidth, r.request.resolutionHeight]).toEqual([768, 1024]);
    expect(r.request.sourceImage?.assetId).toBe("src-anna");
  });

  it("records a file missing from the map as an untracked placeholder when allowed", () => {
    const r = run(t2i(), { allowUntracked: true }, { assets: undefined });
    expect(r.request.model).toMatchObject({
      assetId: "comfyui-untracked:sd_xl_base_1.0.safetensors",
      contentHash: sha("comfyui-untracked:sd_xl_base_1.0.safetensors"),
    });
    expect(r.untracked).toEqual(["sd_xl_base_1.0.safetensors", "anna_reference.png"]);
    expect(r.request.additionalParams?.untracked_files).toEqual(["sd_xl_base_1.0.safetensors", "anna_reference.png"]);
  });

  it("bounds widget values: a long one is stored as its digest; a prompt too big for additional_params is refused", () => {
    const long = "x".repeat(5000);
    const r = run(t2i((p) => (p["9"]!.inputs.filename_prefix = long)));
    expect(r.request.additionalParams?.["9.SaveImage.filename_prefix"]).toMatch(/^sha256:[0-9a-f]{64} \(5002 bytes\)$/);
    const e = refusal(() =>
      run(
        t2i((p) => {
          for (let i = 100; i < 200; i++) p[String(i)] = { inputs: { text: "y".repeat(1000), clip: ["4", 1] }, class_type: "CLIPTextEncode" };
        }),
      ),
    );
    expect(e.message).toMatch(/^the prompt's widget values take \d+ bytes as additional_params, over the receipt's 65536; it has 104 of them$/);
  });
});

describe("graphs it refuses, naming the node", () => {
  it.each([
    [
      "a model input with no link",
      (p: Nodes) => (p["3"]!.inputs.model = "sd_xl_base_1.0.safetensors"),
      'node 3 (KSampler): input "model" is not linked to a model loader',
    ],
    [
      "a model input reaching something else",
      (p: Nodes) => (p["3"]!.inputs.model = ["8", 0]),
      'node 3 (KSampler): input "model" is not linked to a model loader (it reaches node 8 (VAEDecode), which is neither a loader, a LoRA loader nor a model patch)',
    ],
    [
      "a model input on the checkpoint's CLIP output",
      (p: Nodes) => (p["3"]!.inputs.model = ["4", 1]),
      'node 3 (KSampler): input "model" is not linked to a model loader (it reaches output 1 of node 4 (CheckpointLoaderSimple), which is not its MODEL output)',
    ],
    [
      "merged models",
      (p: Nodes) => {
        p["80"] = { inputs: { ratio: 0.5, model1: ["4", 0], model2: ["4", 0] }, class_type: "ModelMergeSimple" };
        p["3"]!.inputs.model = ["80", 0];
      },
      'node 3 (KSampler): input "model" is not linked to a model loader (node 80 (ModelMergeSimple) merges models; a receipt holds one model)',
    ],
    [
      "a link to a node not in the prompt",
      (p: Nodes) => (p["3"]!.inputs.latent_image = ["99", 0]),
      'node 3 (KSampler): input "latent_image" links to node 99, which is not in the prompt',
    ],
    [
      "two conditionings combined",
      (p: Nodes) => {
        p["81"] = { inputs: { conditioning_1: ["6", 0], conditioning_2: ["7", 0] }, class_type: "ConditioningCombine" };
        p["3"]!.inputs.positive = ["81", 0];
      },
      'node 3 (KSampler): input "positive" does not lead to a text encoder (it reaches node 81 (ConditioningCombine), which this reader cannot follow to a text (one conditioning in, one out, or a known class))',
    ],
    [
      "a text from a node it cannot read",
      (p: Nodes) => {
        p["82"] = { inputs: { seed: 1, path: "prompts.txt" }, class_type: "RandomLineFromFile" };
        p["6"]!.inputs.text = ["82", 0];
      },
      'node 6 (CLIPTextEncode): input "text" is linked to node 82 (RandomLineFromFile), which is not a value this reader can resolve (PrimitiveInt, PrimitiveFloat, PrimitiveBoolean, PrimitiveString, PrimitiveStringMultiline, StringConcatenate)',
    ],
    ["a negative seed", (p: Nodes) => (p["3"]!.inputs.seed = -1), 'node 3 (KSampler): input "seed" must be a whole number from 0 to 18446744073709551615, got -1'],
    ["zero steps", (p: Nodes) => (p["3"]!.inputs.steps = 0), 'node 3 (KSampler): input "steps" must be a whole number from 1 to 100000, got 0'],
    ["a text that is not text", (p: Nodes) => (p["7"]!.inputs.text = 12), 'node 7 (CLIPTextEncode): input "text" must be text, got 12'],
    [
      "a latent from an unknown node",
      (p: Nodes) => {
        p["83"] = { inputs: { amount: 2, samples: ["5", 0] }, class_type: "RepeatLatentBatch" };
        p["3"]!.inputs.latent_image = ["83", 0];
      },
      'node 3 (KSampler): input "latent_image" is linked to node 83 (RepeatLatentBatch), which is not a latent this reader knows (an empty latent, an image-to-video node, a sampler or a latent upscale)',
    ],
    [
      "only a SamplerCustomAdvanced",
      (p: Nodes) => {
        p["3"]!.class_type = "SamplerCustomAdvanced";
      },
      "node 3 (SamplerCustomAdvanced): this sampler class is not read; use KSampler or KSamplerAdvanced",
    ],
    [
      "a cycle",
      (p: Nodes) => {
        p["84"] = { inputs: { shift: 3, model: ["85", 0] }, class_type: "ModelSamplingSD3" };
        p["85"] = { inputs: { shift: 3, model: ["84", 0] }, class_type: "ModelSamplingSD3" };
        p["3"]!.inputs.model = ["84", 0];
      },
      'node 3 (KSampler): input "model" is not linked to a model loader (the chain loops back to node 84 (ModelSamplingSD3))',
    ],
  ])("%s", (_what, edit, message) => {
    const e = refusal(() => run(t2i(edit)));
    expect(e.message).toBe(message);
    expect(e.source).toBe("prompt");
    expect(e.nodeId).toMatch(/^\d+$/);
  });

  it("names the node whose file is not in the asset map", () => {
    const e = refusal(() => run(t2i((p) => (p["4"]!.inputs.ckpt_name = "juggernaut_xl.safetensors"))));
    expect(e.message).toBe('node 4 (CheckpointLoaderSimple): file "juggernaut_xl.safetensors" is not in the asset map');
    expect([e.source, e.nodeId]).toEqual(["assets", "4"]);
  });

  it("refuses a malformed prompt, map or history with the place named", () => {
    expect(refusal(() => run({ "3": { inputs: {} } })).message).toBe('node 3: "class_type" must be a non-empty string');
    expect(refusal(() => run({})).message).toBe("the prompt has no nodes");
    expect(refusal(() => run({ "1": { class_type: "VAELoader", inputs: { vae_name: "v" } } })).message).toBe("the prompt has no sampler node (KSampler or KSamplerAdvanced)");
    expect(refusal(() => run(t2i(), {}, { assets: { "a.png": { asset_id: "a", content_hash: "abc" } } })).message).toBe('entry "a.png": content_hash must be a SHA-256 of 64 hex digits');
    expect(refusal(() => run(t2i(), {}, { history: { a: {}, b: {} } })).message).toBe("the history holds 2 prompts (a, b); give the /history/<prompt_id> answer of one");
  });

  it("refuses a history whose prompt is not the one given", () => {
    const history = fixture("text-to-image.history.json") as Record<string, { prompt: [number, string, Nodes] }>;
    history["6f962d0e-40d9-45e8-b378-7247258cadde"]!.prompt[2]["3"]!.inputs.seed = 5;
    const e = refusal(() => run(t2i(), {}, { history: history as never }));
    expect(e.message).toBe("prompt 6f962d0e-40d9-45e8-b378-7247258cadde ran a different prompt than the one given: node 3 differs");
    expect([e.source, e.nodeId]).toEqual(["history", "3"]);
  });

  it("reads a failed run from the history, and a bare entry", () => {
    const entry = {
      prompt: [4, "p-failed", promptOf("text-to-image"), {}, ["9"]],
      outputs: {},
      status: {
        status_str: "error",
        completed: false,
        messages: [
          ["execution_start", { prompt_id: "p-failed", timestamp: 1000 }],
          ["execution_error", { prompt_id: "p-failed", node_id: "3", node_type: "KSampler", exception_message: "CUDA out of memory\nat ...", timestamp: 5000 }],
        ],
      },
    };
    const r = run(t2i(), { idempotencyKey: undefined }, { history: entry as never });
    expect(r.run).toEqual({ outcome: "failed", completedAt: new Date(5000), error: "error in node 3 (KSampler): CUDA out of memory" });
    expect(r.request.idempotencyKey).toBe("comfyui:p-failed");
  });

  it("asks for what the options must say", () => {
    const noKey = refusal(() => run(t2i(), { idempotencyKey: undefined }));
    expect([noKey.option, noKey.message]).toEqual(["idempotencyKey", "no idempotency key: give one, or a history entry whose prompt id makes comfyui:<prompt_id>"]);
    const noSource = refusal(() => run(t2i(), { sourceFile: undefined }));
    expect(noSource.option).toBe("sourceFile");
    expect(noSource.message).toBe("the prompt loads no image (no LoadImage node), and a receipt needs a source image: give the file to record as the source image");
    const twoImages = promptOf("wan-image-to-video") as unknown as Nodes;
    twoImages["52"]!._meta = { title: "Load Image" };
    twoImages["62"]!._meta = { title: "Load Image" };
    const ambiguous = refusal(() => run(twoImages, { sourceFile: undefined }));
    expect(ambiguous.option).toBe("sourceImage");
    expect(ambiguous.message).toBe(
      'cannot tell which image is the source: node 52 (LoadImage) "Load Image", node 62 (LoadImage) "Load Image" load images; title one "source" (and the variant "variant") or name its node',
    );
    const sampler = refusal(() => run(t2i(), { sampler: "nope" }));
    expect([sampler.option, sampler.message]).toEqual(["sampler", '"nope" matches no KSampler or KSamplerAdvanced node (by id or title)']);
    const twoFinal = refusal(() => run(t2i((p) => (p["90"] = { ...p["3"]!, inputs: { ...p["3"]!.inputs } }))));
    expect(twoFinal.message).toBe("the prompt has 2 final samplers (node 3 (KSampler), node 90 (KSampler)): choose one");
  });
});
