/** The one error type of this package: a kind callers branch on, and the input it is about. */

/** Why signing or reading failed. */
export type C2paErrorKind =
  /** The certificate or key cannot sign (unreadable, mismatched, expired, a CA, an unsupported algorithm). */
  | "invalid-credentials"
  /** The bytes are not a media type this package signs. */
  | "unsupported-format"
  /** The file is not the receipt's output: its SHA-256 differs from `output_hash`. */
  | "hash-mismatch"
  /** The receipt records no `output_hash`, so nothing can be checked against it. */
  | "missing-output-hash"
  /** The file has no C2PA manifest. */
  | "no-manifest"
  /** The manifest just written does not validate (it is not written out). */
  | "invalid-manifest";

/** A failure with a {@link C2paErrorKind} and, when it is about one input, that input's name. */
export class C2paError extends Error {
  constructor(
    readonly kind: C2paErrorKind,
    message: string,
    /** The input the message is about, e.g. "cert", "key", "file". */
    readonly field?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "C2paError";
  }
}
