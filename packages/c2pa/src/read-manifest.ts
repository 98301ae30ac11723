/** Reading a file's C2PA manifest back with c2pa-rs: what it says and whether it validates. */
import { c2paWasm } from "./c2pa-runtime.js";
import { C2paError } from "./errors.js";
import { INGREDIENT_ASSET_METADATA_KEY, RECEIPT_ASSERTION_LABEL, type ReceiptAssertion } from "./manifest-definition.js";
import { detectFormat } from "./media-format.js";

/**
 * c2pa-rs's verdict: `Invalid` (a hash, signature or structure check failed), `Valid` (everything checks but the
 * signer is not on a trust list given to the reader) or `Trusted` (valid, and the signer chains to a trust anchor).
 */
export type ValidationState = "Invalid" | "Valid" | "Trusted";

/** One validation status of the C2PA spec, e.g. `claimSignature.validated` or `signingCredential.untrusted`. */
export interface ValidationStatus {
  readonly code: string;
  readonly explanation?: string;
  readonly url?: string;
}

/** The validation of the active manifest. */
export interface ManifestValidation {
  readonly state: ValidationState;
  readonly failures: readonly ValidationStatus[];
  readonly informational: readonly ValidationStatus[];
  readonly successes: readonly ValidationStatus[];
  /** Whether trust anchors were given to the reader (without any, a valid manifest is at most `Valid`). */
  readonly trustAnchorsGiven: boolean;
}

/** An action of the active manifest's actions assertion. */
export interface ManifestAction {
  readonly action: string;
  readonly digitalSourceType?: string;
  readonly when?: string;
  readonly description?: string;
  /** The JUMBF URLs of the ingredients the action names. */
  readonly ingredients: readonly string[];
}

/** An ingredient of the active manifest. */
export interface ManifestIngredient {
  readonly title?: string;
  readonly relationship?: string;
  readonly instanceId?: string;
  readonly description?: string;
  /** Its `com.provenance.asset` metadata: which asset, by id, version and SHA-256. */
  readonly asset?: Readonly<Record<string, unknown>>;
  /** Whether the ingredient embeds the bytes (`data`) or a manifest of its own. */
  readonly hasData: boolean;
  readonly hasManifest: boolean;
}

/** Who signed the active manifest, as c2pa-rs reads the certificate. */
export interface ManifestSignature {
  readonly alg?: string;
  readonly issuer?: string;
  readonly commonName?: string;
  readonly serialNumber?: string;
  readonly time?: string;
}

/** What a file's active manifest says. */
export interface ManifestReport {
  readonly format: string;
  readonly label: string;
  readonly title?: string;
  readonly claimGenerator: readonly { readonly name: string; readonly version?: string }[];
  readonly signature: ManifestSignature;
  readonly actions: readonly ManifestAction[];
  readonly ingredients: readonly ManifestIngredient[];
  /** The `com.provenance.receipt` assertion, when the manifest has a well-formed one. */
  readonly receipt?: ReceiptAssertion;
  /** Why a `com.provenance.receipt` assertion that is present could not be read. */
  readonly receiptProblem?: string;
  readonly validation: ManifestValidation;
}

/** How to read. */
export interface ReadOptions {
  /** The media type; sniffed from the bytes when absent. */
  readonly format?: string;
  /** PEM certificates to trust as anchors (e.g. the local CA), so that their signatures read as `Trusted`. */
  readonly trustAnchorsPem?: string;
  /** Named in messages, e.g. the file's path. */
  readonly what?: string;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function statuses(v: unknown): ValidationStatus[] {
  return list(v).flatMap((s) => {
    const o = obj(s);
    const code = str(o?.code);
    return code ? [{ code, ...(str(o?.explanation) ? { explanation: str(o?.explanation) } : {}), ...(str(o?.url) ? { url: str(o?.url) } : {}) }] : [];
  });
}

const HASH = /^[0-9a-f]{64}$/;

function assetProblem(v: unknown, path: string, required: boolean): string | undefined {
  if (v === undefined) return required ? `${path} is missing` : undefined;
  const o = obj(v);
  if (!o) return `${path} is not an object`;
  if (typeof o.asset_id !== "string" || o.asset_id === "") return `${path}.asset_id is not a non-empty string`;
  if (typeof o.content_hash !== "string" || !HASH.test(o.content_hash)) return `${path}.content_hash is not 64 lowercase hex digits`;
  if (o.version !== undefined && !(Number.isInteger(o.version) && (o.version as number) > 0)) return `${path}.version is not a positive integer`;
  return undefined;
}

/** Why `data` is not a {@link ReceiptAssertion}, or undefined when it is one. */
export function receiptAssertionProblem(data: unknown): string | undefined {
  const o = obj(data);
  if (!o) return "the assertion is not an object";
  for (const field of ["receipt_id", "segment_id", "scene_id", "project_id", "seed"] as const) {
    if (typeof o[field] !== "string" || o[field] === "") return `${field} is not a non-empty string`;
  }
  if (!/^\d+$/.test(o.seed as string)) return "seed is not a decimal string";
  for (const field of ["inputs_hash", "output_hash"] as const) {
    if (typeof o[field] !== "string" || !HASH.test(o[field] as string)) return `${field} is not 64 lowercase hex digits`;
  }
  if (!Array.isArray(o.loras)) return "loras is not a list";
  for (const [i, lora] of o.loras.entries()) {
    const problem = assetProblem(lora, `loras[${i}]`, true);
    if (problem) return problem;
    if (typeof (lora as Json).weight !== "number") return `loras[${i}].weight is not a number`;
  }
  for (const field of ["model", "workflow", "source_image", "variant_image"] as const) {
    const problem = assetProblem(o[field], field, false);
    if (problem) return problem;
  }
  return undefined;
}

function actionsOf(manifest: Json): ManifestAction[] {
  const assertion = list(manifest.assertions)
    .map(obj)
    .find((a) => a?.label === "c2pa.actions.v2" || a?.label === "c2pa.actions");
  return list(obj(assertion?.data)?.actions).flatMap((a) => {
    const o = obj(a);
    const action = str(o?.action);
    if (!o || !action) return [];
    const ingredients = list(obj(o.parameters)?.ingredients).flatMap((i) => (str(obj(i)?.url) ? [str(obj(i)?.url)!] : []));
    const single = str(obj(obj(o.parameters)?.ingredient)?.url);
    return [
      {
        action,
        ...(str(o.digitalSourceType) ? { digitalSourceType: str(o.digitalSourceType) } : {}),
        ...(str(o.when) ? { when: str(o.when) } : {}),
        ...(str(o.description) ? { description: str(o.description) } : {}),
        ingredients: single ? [single, ...ingredients] : ingredients,
      },
    ];
  });
}

function ingredientsOf(manifest: Json): ManifestIngredient[] {
  return list(manifest.ingredients).flatMap((i) => {
    const o = obj(i);
    if (!o) return [];
    const asset = obj(obj(o.metadata)?.[INGREDIENT_ASSET_METADATA_KEY]);
    return [
      {
        ...(str(o.title) ? { title: str(o.title) } : {}),
        ...(str(o.relationship) ? { relationship: str(o.relationship) } : {}),
        ...(str(o.instance_id) ? { instanceId: str(o.instance_id) } : {}),
        ...(str(o.description) ? { description: str(o.description) } : {}),
        ...(asset ? { asset } : {}),
        hasData: o.data !== undefined,
        hasManifest: o.active_manifest !== undefined || o.manifest_data !== undefined,
      },
    ];
  });
}

function isMissingManifest(message: string): boolean {
  return /JumbfNotFound|ManifestNotFound|no JUMBF|not found|ProvenanceMissing/i.test(message);
}

/**
 * Reads and validates the active C2PA manifest of `bytes`. A file without one is a `no-manifest` {@link C2paError};
 * a manifest that does not validate is reported, not thrown (`validation.state` is `Invalid`).
 */
export async function readManifest(bytes: Uint8Array, options: ReadOptions = {}): Promise<ManifestReport> {
  const what = options.what ?? "the file";
  const format = options.format ?? detectFormat(bytes, what);
  const { WasmReader } = c2paWasm();
  const context = options.trustAnchorsPem ? JSON.stringify({ trust: { user_anchors: options.trustAnchorsPem } }) : undefined;
  let store: Json;
  try {
    const reader = await WasmReader.fromBytes(format, bytes, context);
    try {
      store = JSON.parse(reader.json()) as Json;
    } finally {
      reader.free();
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (isMissingManifest(message)) throw new C2paError("no-manifest", `${what} has no C2PA manifest`, "file", { cause: err });
    throw new C2paError("invalid-manifest", `the C2PA manifest of ${what} cannot be read: ${message}`, "file", { cause: err });
  }
  const label = str(store.active_manifest);
  const manifest = label ? obj(obj(store.manifests)?.[label]) : undefined;
  if (!label || !manifest) throw new C2paError("no-manifest", `${what} has no active C2PA manifest`, "file");
  const results = obj(obj(store.validation_results)?.activeManifest);
  const state = str(store.validation_state);
  const receiptData = obj(list(manifest.assertions).map(obj).find((a) => a?.label === RECEIPT_ASSERTION_LABEL))?.data;
  const receiptProblem = receiptData === undefined ? undefined : receiptAssertionProblem(receiptData);
  const signature = obj(manifest.signature_info) ?? {};
  return {
    format,
    label,
    ...(str(manifest.title) ? { title: str(manifest.title) } : {}),
    claimGenerator: list(manifest.claim_generator_info).flatMap((g) => {
      const name = str(obj(g)?.name);
      return name ? [{ name, ...(str(obj(g)?.version) ? { version: str(obj(g)?.version) } : {}) }] : [];
    }),
    signature: {
      ...(str(signature.alg) ? { alg: str(signature.alg) } : {}),
      ...(str(signature.issuer) ? { issuer: str(signature.issuer) } : {}),
      ...(str(signature.common_name) ? { commonName: str(signature.common_name) } : {}),
      ...(str(signature.cert_serial_number) ? { serialNumber: str(signature.cert_serial_number) } : {}),
      ...(str(signature.time) ? { time: str(signature.time) } : {}),
    },
    actions: actionsOf(manifest),
    ingredients: ingredientsOf(manifest),
    ...(receiptData !== undefined && !receiptProblem ? { receipt: receiptData as unknown as ReceiptAssertion } : {}),
    ...(receiptProblem ? { receiptProblem } : {}),
    validation: {
      state: state === "Trusted" || state === "Valid" ? state : "Invalid",
      // Without per-manifest results, c2pa-rs lists the failures in validation_status.
      failures: results ? statuses(results.failure) : statuses(store.validation_status),
      informational: statuses(results?.informational),
      successes: statuses(results?.success),
      trustAnchorsGiven: options.trustAnchorsPem !== undefined,
    },
  };
}
