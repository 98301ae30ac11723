/** Signing a delivered file: check it is the receipt's output, embed the manifest, and prove the result validates. */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Receipt } from "@provenance/shared";
import { BytesBlob, c2paWasm } from "./c2pa-runtime.js";
import { createCoseSigner, type SigningCredentials } from "./cose-signer.js";
import { C2paError } from "./errors.js";
import { manifestDefinition, type GeneratorInfo, type ManifestDefinition } from "./manifest-definition.js";
import { detectFormat } from "./media-format.js";
import { readManifest, type ManifestReport } from "./read-manifest.js";

/** What to sign and with what. */
export interface SignAssetInput {
  /** The file's bytes as the pipeline produced them. */
  readonly bytes: Uint8Array;
  /** The receipt the file is the output of (its `output_hash` must be the bytes' SHA-256). */
  readonly receipt: Receipt;
  readonly credentials: SigningCredentials;
  /** `dc:title` of the signed asset, e.g. the output file name. */
  readonly title: string;
  /** Named in messages, e.g. the file's path. */
  readonly what?: string;
  /** The media type; sniffed from the bytes when absent. */
  readonly format?: string;
  /** Trust anchors the result is checked against (e.g. the local CA); without them the result is at most `Valid`. */
  readonly trustAnchorsPem?: string;
  /** `claim_generator_info`; this package's name and version by default. */
  readonly generator?: GeneratorInfo;
}

/** A signed copy and what its manifest says. */
export interface SignedAsset {
  /** The file with the manifest embedded. */
  readonly bytes: Uint8Array;
  readonly format: string;
  /** SHA-256 of the input, which equals the receipt's `output_hash`. */
  readonly inputSha256: string;
  /** SHA-256 of the signed copy. */
  readonly outputSha256: string;
  readonly definition: ManifestDefinition;
  /** The manifest as read back from the signed copy. */
  readonly manifest: ManifestReport;
}

/** SHA-256 of `bytes`, 64 lowercase hex digits. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

let packageGenerator: GeneratorInfo | undefined;

/** This package as the claim generator: `provenance` and its version. */
export function defaultGenerator(): GeneratorInfo {
  packageGenerator ??= {
    name: "provenance",
    version: (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version,
  };
  return packageGenerator;
}

/**
 * Checks that `bytes` are the receipt's output: a `missing-output-hash` {@link C2paError} when the receipt records
 * none, a `hash-mismatch` one when their SHA-256 differs. Returns the SHA-256.
 */
export function checkOutputHash(bytes: Uint8Array, receipt: Receipt, what = "the file"): string {
  const actual = sha256Hex(bytes);
  const expected = receipt.outputHash.toLowerCase();
  if (expected === "") {
    throw new C2paError(
      "missing-output-hash",
      `receipt ${receipt.receiptId} of segment ${receipt.segmentId} records no output_hash, so ${what} cannot be shown to be its output`,
      "file",
    );
  }
  if (actual !== expected) {
    throw new C2paError(
      "hash-mismatch",
      `${what} is not the output of receipt ${receipt.receiptId} (segment ${receipt.segmentId}): its SHA-256 is ${actual}, the receipt's output_hash is ${expected}`,
      "file",
    );
  }
  return actual;
}

/**
 * The failures of c2pa-rs's own check after signing, from its error text (`InvalidManifest(ValidationResults { …
 * failure: [ValidationStatus { code: "…", …, explanation: Some("…") …`), as "code: explanation, …", leaving out
 * `signingCredential.untrusted` when other failures are the reason; undefined when the text is not such an error.
 */
function failuresOfInvalidManifest(message: string): string | undefined {
  if (!message.includes("InvalidManifest(")) return undefined;
  const failureLists = message.split("failure: [").slice(1);
  const found = failureLists.flatMap((list) =>
    [...list.matchAll(/ValidationStatus \{ code: "([^"]+)"(?:[^}]*?explanation: Some\("([^"]*)"\))?/g)].map((m) => ({ code: m[1]!, explanation: m[2] })),
  );
  const reasons = found.some((f) => f.code !== "signingCredential.untrusted") ? found.filter((f) => f.code !== "signingCredential.untrusted") : found;
  if (reasons.length === 0) return "c2pa-rs gave no failure";
  return [...new Set(reasons.map((f) => (f.explanation ? `${f.code}: ${f.explanation}` : f.code)))].join(", ");
}

/**
 * Embeds a C2PA manifest for `receipt` in a copy of `bytes`, signed with `credentials`, and reads the copy back: a
 * result that does not validate is an `invalid-manifest` {@link C2paError} and is not returned. Refuses (see
 * {@link checkOutputHash}) unless the bytes are the receipt's output. The input is never modified.
 */
export async function signAsset(input: SignAssetInput): Promise<SignedAsset> {
  const what = input.what ?? "the file";
  const format = input.format ?? detectFormat(input.bytes, what);
  const inputSha256 = checkOutputHash(input.bytes, input.receipt, what);
  const definition = manifestDefinition(input.receipt, { title: input.title, format, generator: input.generator ?? defaultGenerator() });
  const { WasmBuilder } = c2paWasm();
  const builder = WasmBuilder.fromJson(JSON.stringify(definition));
  let signed: Uint8Array;
  try {
    signed = await builder.sign(createCoseSigner(input.credentials), [], format, new BytesBlob(input.bytes, format));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const failures = failuresOfInvalidManifest(message);
    if (failures) throw new C2paError("invalid-manifest", `the manifest signed into ${what} does not validate (${failures}); nothing was written`, "file", { cause: err });
    throw new C2paError("invalid-manifest", `c2pa could not sign ${what}: ${message.split("\n")[0]}`, "file", { cause: err });
  } finally {
    builder.free();
  }
  const manifest = await readManifest(signed, { format, what: "the signed copy", ...(input.trustAnchorsPem ? { trustAnchorsPem: input.trustAnchorsPem } : {}) });
  if (manifest.validation.state === "Invalid") {
    const codes = manifest.validation.failures.map((f) => f.code).join(", ") || "no status given";
    throw new C2paError("invalid-manifest", `the manifest signed into ${what} does not validate (${codes}); nothing was written`, "file");
  }
  return { bytes: signed, format, inputSha256, outputSha256: sha256Hex(signed), definition, manifest };
}
