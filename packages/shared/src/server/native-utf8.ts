/** Protobuf string encoding with Node's own UTF-8 encoder. */
import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

let configured = false;

/**
 * Makes protobuf-es encode strings with `Buffer.from(text, "utf8")` instead of a WHATWG TextEncoder: the same bytes
 * (lone surrogates become U+FFFD in both) at ~40% less cost per message. Receipts and reports are mostly short
 * strings (ids, hashes, prompts); measured on a Receipt: 92 → 56 µs per encode, and a write encodes each receipt
 * four times (its event and its answer, at creation and at completion). Process-wide and idempotent; decoding is
 * left as it is.
 */
export function encodeStringsNatively(): void {
  if (configured) return;
  configured = true;
  const encoding = getTextEncoding();
  configureTextEncoding({ ...encoding, encodeUtf8: (text) => Buffer.from(text, "utf8") });
}
