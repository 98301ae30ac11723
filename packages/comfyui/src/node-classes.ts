/**
 * The ComfyUI node classes the reader understands, by `class_type`, with the inputs and outputs it reads.
 * Core ComfyUI classes unless noted; a class missing here is either followed by a stated generic rule or refused
 * with a message naming the node.
 */

/** Model loaders: class → the input holding the model file name. MODEL is output 0 of each. */
export const MODEL_LOADERS: Readonly<Record<string, string>> = {
  CheckpointLoaderSimple: "ckpt_name",
  CheckpointLoader: "ckpt_name",
  ImageOnlyCheckpointLoader: "ckpt_name",
  unCLIPCheckpointLoader: "ckpt_name",
  UNETLoader: "unet_name",
  // ComfyUI-GGUF.
  UnetLoaderGGUF: "unet_name",
  UnetLoaderGGUFAdvanced: "unet_name",
};

/** LoRA loaders of one LoRA each: MODEL in on `model`, out on output 0; `strength_clip` where the class has a CLIP side. */
export const LORA_LOADERS: Readonly<Record<string, { readonly clip: boolean }>> = {
  LoraLoader: { clip: true },
  LoraLoaderModelOnly: { clip: false },
};

/**
 * rgthree's Power Lora Loader: inputs `lora_1`, `lora_2`, … each `{on, lora, strength, strengthTwo?}`, applied in
 * number order; `strengthTwo` is the CLIP strength when the node shows separate strengths, else `strength` is both.
 */
export const POWER_LORA_LOADER = "Power Lora Loader (rgthree)";

/** Nodes that take MODEL on `model` and hand on a patched MODEL at output 0 (sampling shift, attention patches, …). */
export const MODEL_PASS_THROUGH: ReadonlySet<string> = new Set([
  "ModelSamplingSD3",
  "ModelSamplingFlux",
  "ModelSamplingDiscrete",
  "ModelSamplingAuraFlow",
  "ModelSamplingContinuousEDM",
  "ModelSamplingContinuousV",
  "ModelSamplingStableCascade",
  "ModelSamplingLTXV",
  "CFGZeroStar",
  "CFGNorm",
  "RescaleCFG",
  "FreeU",
  "FreeU_V2",
  "PerturbedAttentionGuidance",
  "SkipLayerGuidanceDiT",
  "DifferentialDiffusion",
  "TorchCompileModel",
  "PatchModelAddDownscale",
]);

/** Sampler classes this reader maps: class → the input holding the seed. */
export const SAMPLERS: Readonly<Record<string, { readonly seed: string }>> = {
  KSampler: { seed: "seed" },
  KSamplerAdvanced: { seed: "noise_seed" },
};

/** The sampler inputs that become receipt fields; every other value input of the sampler goes to additional_params. */
export const SAMPLER_FIELDS: ReadonlySet<string> = new Set(["seed", "noise_seed", "steps", "cfg", "sampler_name"]);

/** Sampler classes known but not read (their settings are spread over guider, sigma and noise nodes). */
export const UNSUPPORTED_SAMPLERS: ReadonlySet<string> = new Set(["SamplerCustom", "SamplerCustomAdvanced"]);

/** Text encoders: class → the input holding the prompt text. Their CONDITIONING is output 0. */
export const TEXT_ENCODERS: Readonly<Record<string, string>> = {
  CLIPTextEncode: "text",
  TextEncodeHunyuanVideo_ImageToVideo: "prompt",
};

/**
 * Nodes that hand conditioning through: class → output index → the input it comes from. Image-to-video and
 * ControlNet nodes take positive and negative and hand both on, adding image or control information.
 */
export const CONDITIONING_PASS_THROUGH: Readonly<Record<string, Readonly<Record<number, string>>>> = {
  WanImageToVideo: { 0: "positive", 1: "negative" },
  WanFirstLastFrameToVideo: { 0: "positive", 1: "negative" },
  WanFunInpaintToVideo: { 0: "positive", 1: "negative" },
  WanFunControlToVideo: { 0: "positive", 1: "negative" },
  WanVaceToVideo: { 0: "positive", 1: "negative" },
  HunyuanImageToVideo: { 0: "positive" },
  LTXVImgToVideo: { 0: "positive", 1: "negative" },
  LTXVConditioning: { 0: "positive", 1: "negative" },
  ControlNetApplyAdvanced: { 0: "positive", 1: "negative" },
  ControlNetApplySD3: { 0: "positive", 1: "negative" },
  InstructPixToPixConditioning: { 0: "positive", 1: "negative" },
  ControlNetApply: { 0: "conditioning" },
  FluxGuidance: { 0: "conditioning" },
  ConditioningSetTimestepRange: { 0: "conditioning" },
  ConditioningSetArea: { 0: "conditioning" },
  ConditioningSetAreaPercentage: { 0: "conditioning" },
  ConditioningSetAreaStrength: { 0: "conditioning" },
  ConditioningSetMask: { 0: "conditioning" },
};

/** Nodes whose conditioning output carries no text at all (it is zeroed): the resolved text is "". */
export const CONDITIONING_ZEROED: ReadonlySet<string> = new Set(["ConditioningZeroOut"]);

/** Nodes holding one value on `value` (core primitives): what a linked widget input or text resolves to. */
export const PRIMITIVES: ReadonlySet<string> = new Set([
  "PrimitiveInt",
  "PrimitiveFloat",
  "PrimitiveBoolean",
  "PrimitiveString",
  "PrimitiveStringMultiline",
]);

/** `StringConcatenate`: `string_a` + `delimiter` + `string_b`. */
export const STRING_CONCATENATE = "StringConcatenate";

/**
 * Latent sources: class → the output that is the latent, and whether `length` is its frame count. `width`,
 * `height` and `batch_size` are read from each.
 */
export const LATENT_SOURCES: Readonly<Record<string, { readonly output: number; readonly frames: boolean }>> = {
  EmptyLatentImage: { output: 0, frames: false },
  EmptySD3LatentImage: { output: 0, frames: false },
  EmptyHunyuanLatentVideo: { output: 0, frames: true },
  EmptyMochiLatentVideo: { output: 0, frames: true },
  EmptyLTXVLatentVideo: { output: 0, frames: true },
  EmptyCosmosLatentVideo: { output: 0, frames: true },
  WanImageToVideo: { output: 2, frames: true },
  WanFirstLastFrameToVideo: { output: 2, frames: true },
  WanFunInpaintToVideo: { output: 2, frames: true },
  WanFunControlToVideo: { output: 2, frames: true },
  WanVaceToVideo: { output: 2, frames: true },
  HunyuanImageToVideo: { output: 1, frames: true },
  LTXVImgToVideo: { output: 2, frames: true },
};

/** Image loaders whose `image` input names a file in ComfyUI's input folder. */
export const IMAGE_LOADERS: ReadonlySet<string> = new Set(["LoadImage"]);

/** Inputs that name output files and cannot change the pixels: left out of the workflow hash. */
export const OUTPUT_NAMING_INPUTS: ReadonlySet<string> = new Set(["filename_prefix"]);
