/** The one error the library throws: a sentence naming the node (and input) it could not read, never a stack trace. */

/** Which of the inputs an error is about, so a caller can name its own flag or field. */
export type ComfyErrorSource = "prompt" | "history" | "assets" | "options";

/** A prompt, history entry, asset map or option the library cannot turn into a receipt. */
export class ComfyReceiptError extends Error {
  constructor(
    readonly source: ComfyErrorSource,
    message: string,
    /** The node the message is about, when there is one. */
    readonly nodeId?: string,
    /** For `source: "options"`: the option's name in {@link ComfyReceiptOptionName}. */
    readonly option?: ComfyReceiptOptionName,
  ) {
    super(message);
    this.name = "ComfyReceiptError";
  }
}

/** Names of the options an error may be about (those of `ComfyReceiptOptions`). */
export type ComfyReceiptOptionName =
  | "idempotencyKey"
  | "startedAt"
  | "sourceImage"
  | "variantImage"
  | "sourceFile"
  | "sampler"
  | "resolution"
  | "segment";
