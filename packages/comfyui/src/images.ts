/**
 * Which LoadImage node is the source image and which the variant image. The rule, in order:
 * 1. a selector given for a role (node id, or exact `_meta.title`) picks that node; the variant selector `none` says
 *    there is no variant;
 * 2. a role still open takes the one LoadImage whose title contains the role's word, "source" or "variant" (any case);
 * 3. the source, still open, is the only LoadImage left, when exactly one is left;
 * 4. otherwise the source is ambiguous (an error naming the candidates).
 * A `sourceFile` (a file name resolved through the asset map like any other) is the source image instead: for a prompt
 * that loads no image (text-to-image), or whose images are all something else (a ControlNet hint); the variant is then
 * only taken by selector or title.
 * LoadImage nodes that end up in neither role (a mask, a control image) keep their file names in additional_params.
 * None of this depends on node ids' order, so renumbering the prompt never swaps the roles.
 */
import { ComfyReceiptError } from "./errors.js";
import { IMAGE_LOADERS } from "./node-classes.js";
import { compareNodeIds, describeNode, selectNodes, type PromptNode } from "./prompt-graph.js";
import type { GraphReader } from "./graph-reader.js";

/** The variant selector meaning "this generation used no variant image". */
export const NO_VARIANT = "none";

/** How to pick the images; all optional. */
export interface ImageRoleOptions {
  /** Node id or exact title of the source image's LoadImage. */
  readonly sourceImage?: string;
  /** Node id or exact title of the variant image's LoadImage, or {@link NO_VARIANT}. */
  readonly variantImage?: string;
  /** The file name (as in the asset map) to record as the source image, for a prompt that does not load it. */
  readonly sourceFile?: string;
}

/** An image file and, when it comes from the graph, its node. */
export interface ImageFile {
  readonly node: PromptNode | undefined;
  readonly file: string;
}

/** The images of the two roles. */
export interface ImageRoles {
  readonly source: ImageFile;
  readonly variant: ImageFile | undefined;
}

/** Assigns the roles; marks the chosen nodes' `image` inputs as mapped. */
export function readImageRoles(reader: GraphReader, options: ImageRoleOptions): ImageRoles {
  const loaders = [...reader.graph.nodes.values()].filter((n) => IMAGE_LOADERS.has(n.classType)).sort((a, b) => compareNodeIds(a.id, b.id));
  const pick = (selector: string, option: "sourceImage" | "variantImage"): PromptNode => {
    const found = selectNodes(reader.graph, selector, loaders);
    if (found.length === 1) return found[0]!;
    const what = found.length === 0 ? "matches no LoadImage node (by id or title)" : `matches ${found.length} LoadImage nodes (${found.map((n) => n.id).join(", ")})`;
    const role = option === "sourceImage" ? "source image" : "variant image";
    throw new ComfyReceiptError("options", `${role} "${selector}" ${what}`, undefined, option);
  };
  let source = options.sourceImage !== undefined ? pick(options.sourceImage, "sourceImage") : undefined;
  let variant = options.variantImage !== undefined && options.variantImage !== NO_VARIANT ? pick(options.variantImage, "variantImage") : undefined;
  if (source !== undefined && source === variant) {
    throw new ComfyReceiptError("options", `${describeNode(source)} cannot be both the source and the variant image`, source.id, "variantImage");
  }
  const byTitle = (word: string): PromptNode | undefined => {
    const matches = loaders.filter((n) => n !== source && n !== variant && n.title?.toLowerCase().includes(word));
    if (matches.length > 1) {
      throw new ComfyReceiptError("prompt", `${matches.map(describeNode).join(" and ")} are all titled "${word}": name the ${word} image's node`, matches[0]!.id);
    }
    return matches[0];
  };
  const file = (node: PromptNode): ImageFile => {
    const name = reader.text(node, "image");
    if (name.trim() === "") reader.fail(node, `input "image" names no file`);
    return { node, file: name };
  };
  if (options.sourceFile !== undefined) {
    if (source !== undefined) {
      throw new ComfyReceiptError("options", `give either a source file or the source image's node (${describeNode(source)}), not both`, source.id, "sourceFile");
    }
    if (options.variantImage === undefined) variant ??= byTitle("variant");
    return { source: { node: undefined, file: options.sourceFile }, variant: variant && file(variant) };
  }
  source ??= byTitle("source");
  if (options.variantImage === undefined) variant ??= byTitle("variant");
  if (source === undefined) {
    const left = loaders.filter((n) => n !== variant);
    if (left.length === 1) source = left[0];
    else if (left.length > 1) {
      throw new ComfyReceiptError(
        "options",
        `cannot tell which image is the source: ${left.map((n) => `${describeNode(n)}${n.title ? ` "${n.title}"` : ""}`).join(", ")} load images; ` +
          `title one "source" (and the variant "variant") or name its node`,
        left[0]!.id,
        "sourceImage",
      );
    }
  }
  if (source === undefined) {
    throw new ComfyReceiptError(
      "options",
      `${loaders.length === 0 ? "the prompt loads no image (no LoadImage node)" : "no LoadImage node of the prompt is the source image"}, ` +
        "and a receipt needs a source image: give the file to record as the source image",
      undefined,
      "sourceFile",
    );
  }
  return { source: file(source), variant: variant && file(variant) };
}
