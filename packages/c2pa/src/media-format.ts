/** The media type of a file from its first bytes, for the formats this package signs. */
import { C2paError } from "./errors.js";

/** Media types this package signs and reads, as c2pa-rs names them. */
export const SUPPORTED_FORMATS: readonly string[] = ["image/png", "image/jpeg", "image/webp", "video/mp4", "video/quicktime"];

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Sniffs the media type of `bytes`: PNG, JPEG, WebP, or ISO BMFF video (`ftyp` brand `qt  ` is QuickTime, any other
 * brand MP4). Anything else is an `unsupported-format` {@link C2paError} naming `what`.
 */
export function detectFormat(bytes: Uint8Array, what = "the file"): string {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "image/png";
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP") return "image/webp";
  if (bytes.length >= 12 && ascii(bytes, 4, 8) === "ftyp") {
    const brand = ascii(bytes, 8, 12);
    if (brand === "qt  ") return "video/quicktime";
    if (/^(avif|avis|heic|heix|mif1|msf1|M4A |M4B )$/.test(brand)) {
      throw new C2paError("unsupported-format", `${what} is ISO BMFF with brand "${brand.trim()}", not a video: expected ${SUPPORTED_FORMATS.join(", ")}`, "file");
    }
    return "video/mp4";
  }
  throw new C2paError("unsupported-format", `${what} is not a PNG, JPEG, WebP, MP4 or QuickTime file (by its first bytes)`, "file");
}
