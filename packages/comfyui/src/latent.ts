/**
 * Resolution and frame count: the sampler's `latent_image` followed back to the node that made the latent (an empty
 * latent or an image-to-video node), through earlier samplers (two-pass workflows) and latent upscales.
 */
import { LATENT_SOURCES, SAMPLERS } from "./node-classes.js";
import { describeNode, type LinkInput, type PromptNode } from "./prompt-graph.js";
import type { GraphReader } from "./graph-reader.js";

/** What the latent says about the output. */
export interface LatentShape {
  readonly width: number;
  readonly height: number;
  /** Frames of a video latent (`length`); undefined for images. */
  readonly frames: number | undefined;
  readonly batchSize: number | undefined;
}

/** Why a latent's size cannot be read from the graph alone; the caller may fall back to a given resolution. */
export class UnknownLatentSize extends Error {
  constructor(readonly node: PromptNode) {
    super(`${describeNode(node)} makes the latent from an image, whose size the prompt does not say`);
    this.name = "UnknownLatentSize";
  }
}

/** Reads the latent behind `sampler`'s `latent_image`. */
export function readLatentShape(reader: GraphReader, sampler: PromptNode): LatentShape {
  return shapeOf(reader, sampler, reader.link(sampler, "latent_image", "a latent"), new Set());
}

function shapeOf(reader: GraphReader, from: PromptNode, link: LinkInput, seen: Set<string>): LatentShape {
  const node = reader.follow(link);
  const cannot: (why: string) => never = (why) => reader.fail(from, `input "${from.classType in SAMPLERS ? "latent_image" : "samples"}" ${why}`);
  if (seen.has(node.id)) cannot(`loops back to ${describeNode(node)}`);
  seen.add(node.id);
  const source = LATENT_SOURCES[node.classType];
  if (source !== undefined) {
    if (link.output !== source.output) cannot(`is linked to output ${link.output} of ${describeNode(node)}, which is not its latent`);
    return {
      width: reader.integer(node, "width", 1, 65_536),
      height: reader.integer(node, "height", 1, 65_536),
      frames: source.frames ? reader.integer(node, "length", 1) : undefined,
      batchSize: node.inputs.has("batch_size") ? reader.integer(node, "batch_size", 1) : undefined,
    };
  }
  if (node.classType in SAMPLERS) return shapeOf(reader, node, reader.link(node, "latent_image", "a latent"), seen);
  if (node.classType === "LatentUpscale") {
    const base = shapeOf(reader, node, reader.link(node, "samples", "a latent"), seen);
    const width = reader.integer(node, "width", 0, 65_536);
    const height = reader.integer(node, "height", 0, 65_536);
    // ComfyUI keeps the aspect ratio for a side given as 0.
    const w = width || Math.round((base.width * height) / base.height);
    const h = height || Math.round((base.height * width) / base.width);
    if (w < 1 || h < 1) reader.fail(node, "width and height must not both be 0");
    return { ...base, width: w, height: h };
  }
  if (node.classType === "LatentUpscaleBy") {
    const base = shapeOf(reader, node, reader.link(node, "samples", "a latent"), seen);
    const scale = reader.number(node, "scale_by");
    // ComfyUI scales the latent (1/8 of the pixels) and rounds there.
    return { ...base, width: Math.round((base.width / 8) * scale) * 8, height: Math.round((base.height / 8) * scale) * 8 };
  }
  if (node.classType === "VAEEncode" || node.classType === "VAEEncodeForInpaint") throw new UnknownLatentSize(node);
  return cannot(`is linked to ${describeNode(node)}, which is not a latent this reader knows (an empty latent, an image-to-video node, a sampler or a latent upscale)`);
}
