/** Standard base64 (RFC 4648 §4) decoded strictly: padded, canonical, nothing ignored. Internal to the receipt log. */

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes of `text`, or undefined unless it is exactly the padded standard base64 of those bytes. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  // Node's decoder skips what it does not understand; only a round trip proves nothing was skipped or non-canonical.
  return bytes.toString("base64") === text ? bytes : undefined;
}
