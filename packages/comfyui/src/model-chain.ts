/**
 * The model and LoRAs of a generation: the MODEL link into the sampler followed back, through LoRA loaders and
 * model patches, to the loader of the model file. LoRAs come out in the order ComfyUI applies them (loader first).
 */
import { isJsonObject } from "./lossless-json.js";
import { LORA_LOADERS, MODEL_LOADERS, MODEL_PASS_THROUGH, POWER_LORA_LOADER } from "./node-classes.js";
import { describeNode, type LinkInput, type PromptNode } from "./prompt-graph.js";
import { inputKey, type GraphReader } from "./graph-reader.js";

/** One LoRA as applied. */
export interface AppliedLora {
  readonly node: PromptNode;
  readonly file: string;
  readonly strengthModel: number;
  /** null when the loader has no CLIP side (LoraLoaderModelOnly). */
  readonly strengthClip: number | null;
}

/** The model loader and the LoRAs between it and the sampler. */
export interface ModelChain {
  readonly loader: PromptNode;
  readonly file: string;
  readonly loras: readonly AppliedLora[];
}

/** Follows `sampler`'s `model` input back to its model loader. */
export function readModelChain(reader: GraphReader, sampler: PromptNode): ModelChain {
  const notALoader: (why: string) => never = (why) => reader.fail(sampler, `input "model" is not linked to a model loader (${why})`);
  const groups: AppliedLora[][] = [];
  const seen = new Set<string>();
  let link: LinkInput = reader.link(sampler, "model", "a model loader");
  for (;;) {
    const node = reader.follow(link);
    if (seen.has(node.id)) notALoader(`the chain loops back to ${describeNode(node)}`);
    seen.add(node.id);
    if (link.output !== 0) notALoader(`it reaches output ${link.output} of ${describeNode(node)}, which is not its MODEL output`);
    const fileInput = MODEL_LOADERS[node.classType];
    if (fileInput !== undefined) {
      const file = reader.text(node, fileInput);
      // Application order is loader → sampler; the walk went sampler → loader.
      return { loader: node, file, loras: groups.reverse().flat() };
    }
    const lora = LORA_LOADERS[node.classType];
    if (lora !== undefined) {
      groups.push(oneLora(reader, node, lora.clip));
    } else if (node.classType === POWER_LORA_LOADER) {
      groups.push(powerLoras(reader, node));
    } else if (!MODEL_PASS_THROUGH.has(node.classType) && !isGenericModelPatch(node)) {
      if (/^ModelMerge/.test(node.classType)) notALoader(`${describeNode(node)} merges models; a receipt holds one model`);
      if ([...node.inputs.keys()].some((k) => /lora/i.test(k))) notALoader(`${describeNode(node)} looks like a LoRA loader this reader does not know`);
      notALoader(`it reaches ${describeNode(node)}, which is neither a loader, a LoRA loader nor a model patch`);
    }
    link = reader.link(node, "model", "a model");
  }
}

/** An unknown class with exactly one link input, named `model`, and no LoRA-like input: a model patch. */
function isGenericModelPatch(node: PromptNode): boolean {
  const links = [...node.inputs].filter(([, v]) => v.kind === "link");
  return links.length === 1 && links[0]![0] === "model" && ![...node.inputs.keys()].some((k) => /lora/i.test(k));
}

function oneLora(reader: GraphReader, node: PromptNode, hasClip: boolean): AppliedLora[] {
  const strengthModel = reader.number(node, "strength_model");
  const strengthClip = hasClip ? reader.number(node, "strength_clip") : null;
  // ComfyUI hands model and CLIP on untouched when both strengths are 0: such a LoRA is not applied.
  if (strengthModel === 0 && (strengthClip ?? 0) === 0) {
    reader.mapped.delete(inputKey(node.id, "strength_model"));
    reader.mapped.delete(inputKey(node.id, "strength_clip"));
    return [];
  }
  return [{ node, file: reader.text(node, "lora_name"), strengthModel, strengthClip }];
}

function powerLoras(reader: GraphReader, node: PromptNode): AppliedLora[] {
  const slots = [...node.inputs.keys()]
    .map((name) => ({ name, n: /^lora_(\d+)$/.exec(name)?.[1] }))
    .filter((s): s is { name: string; n: string } => s.n !== undefined)
    .sort((a, b) => Number(a.n) - Number(b.n));
  const out: AppliedLora[] = [];
  for (const { name } of slots) {
    const input = node.inputs.get(name)!;
    const v = input.kind === "value" ? input.value : undefined;
    if (!isJsonObject(v)) reader.fail(node, `input "${name}" must be an object {on, lora, strength}`);
    if (v.on !== true) continue;
    if (typeof v.lora !== "string" || v.lora === "" || typeof v.strength !== "number") {
      reader.fail(node, `input "${name}" must have a "lora" file name and a numeric "strength"`);
    }
    const clip = typeof v.strengthTwo === "number" ? v.strengthTwo : v.strength;
    if (v.strength === 0 && clip === 0) continue;
    reader.mapped.add(inputKey(node.id, name));
    out.push({ node, file: v.lora, strengthModel: v.strength, strengthClip: clip });
  }
  return out;
}
