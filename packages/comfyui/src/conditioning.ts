/**
 * The prompt texts of a generation: the sampler's `positive` and `negative` conditioning followed back through nodes
 * that hand conditioning on (image-to-video, ControlNet, guidance, timestep ranges) to the text encoder, and the
 * encoder's text resolved even when it comes from another node (a primitive string, a concatenation).
 */
import { CONDITIONING_PASS_THROUGH, CONDITIONING_ZEROED, TEXT_ENCODERS } from "./node-classes.js";
import { describeNode, type LinkInput, type PromptNode } from "./prompt-graph.js";
import type { GraphReader } from "./graph-reader.js";

/** The resolved text behind `input` ("positive" or "negative") of `sampler`; "" for zeroed conditioning. */
export function readConditioningText(reader: GraphReader, sampler: PromptNode, input: "positive" | "negative"): string {
  const cannot: (why: string) => never = (why) => reader.fail(sampler, `input "${input}" does not lead to a text encoder (${why})`);
  const seen = new Set<string>();
  let link: LinkInput = reader.link(sampler, input, "conditioning from a text encoder");
  for (;;) {
    const node = reader.follow(link);
    if (seen.has(node.id)) cannot(`the chain loops back to ${describeNode(node)}`);
    seen.add(node.id);
    const textInput = TEXT_ENCODERS[node.classType];
    if (textInput !== undefined) {
      if (link.output !== 0) cannot(`it reaches output ${link.output} of ${describeNode(node)}, which is not its CONDITIONING`);
      return reader.text(node, textInput);
    }
    if (CONDITIONING_ZEROED.has(node.classType)) return "";
    const through = CONDITIONING_PASS_THROUGH[node.classType];
    const from = through?.[link.output] ?? (through === undefined && link.output === 0 ? genericConditioningInput(node) : undefined);
    if (from === undefined) {
      if (through !== undefined) cannot(`it reaches output ${link.output} of ${describeNode(node)}, which carries no text conditioning`);
      cannot(`it reaches ${describeNode(node)}, which this reader cannot follow to a text (one conditioning in, one out, or a known class)`);
    }
    link = reader.link(node, from, "conditioning");
  }
}

/** An unknown class whose only link input is `conditioning`: it hands that conditioning on. */
function genericConditioningInput(node: PromptNode): string | undefined {
  const links = [...node.inputs].filter(([, v]) => v.kind === "link");
  return links.length === 1 && links[0]![0] === "conditioning" ? "conditioning" : undefined;
}
