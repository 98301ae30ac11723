/** The inputs hash of an API message that carries generation inputs (GenerationInputs, Receipt). */
import type { GenerationInputs } from "../gen/provenance/v1/common_pb.js";
import { computeInputsHash } from "./inputs-hash.js";

/** The fields the hash covers, named as GenerationInputs and Receipt both name them. */
export type InputsHashFields = Pick<
  GenerationInputs,
  | "sourceImage" | "variantImage" | "workflow" | "model" | "loras" | "promptText" | "negativePrompt" | "cfgScale" | "seed"
  | "steps" | "sampler" | "resolutionWidth" | "resolutionHeight" | "additionalParams"
>;

/**
 * The canonical inputs hash (docs/spec/inputs-hash.md) of a message's inputs: a missing input counts as an empty
 * content hash (refused by the hash with InputsHashError), a missing variant image as none.
 */
export function inputsHashOfMessage(m: InputsHashFields): string {
  return computeInputsHash({
    sourceImageHash: m.sourceImage?.contentHash ?? "",
    variantImageHash: m.variantImage?.contentHash ?? null,
    workflowHash: m.workflow?.contentHash ?? "",
    modelHash: m.model?.contentHash ?? "",
    loras: m.loras.map((l) => ({ hash: l.asset?.contentHash ?? "", weight: l.weight })),
    promptText: m.promptText,
    negativePrompt: m.negativePrompt,
    cfgScale: m.cfgScale,
    seed: m.seed,
    steps: m.steps,
    sampler: m.sampler,
    width: m.resolutionWidth,
    height: m.resolutionHeight,
    params: m.additionalParams ?? {},
  });
}
