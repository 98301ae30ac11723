/**
 * @provenance/c2pa: C2PA manifests for delivered segments. Builds the manifest from a generation receipt (a
 * `c2pa.created` action with digital source type `trainedAlgorithmicMedia`, the source and variant images as
 * ingredients, and the receipt as the `com.provenance.receipt` assertion), signs and embeds it with c2pa-rs
 * (`@contentauth/c2pa-wasm`), and reads it back with its validation.
 */
export { encodeCbor } from "./cbor.js";
export type { CborMap, CborTagged, CborValue } from "./cbor.js";
export { createCoseSigner, reserveSizeFor } from "./cose-signer.js";
export type { C2paSigningAlg, SigningCredentials, WasmSignerDefinition } from "./cose-signer.js";
export { C2paError } from "./errors.js";
export type { C2paErrorKind } from "./errors.js";
export { ensureLocalSigner, LOCAL_CA_NAME, LOCAL_SIGNER_NAME } from "./local-signer.js";
export type { LocalSigner } from "./local-signer.js";
export {
  INGREDIENT_ASSET_METADATA_KEY,
  ingredientInstanceId,
  manifestDefinition,
  RECEIPT_ASSERTION_LABEL,
  receiptAssertion,
  receiptIngredients,
  TRAINED_ALGORITHMIC_MEDIA,
} from "./manifest-definition.js";
export type {
  AssertedAsset,
  AssertedLora,
  AssertedWorkflow,
  GeneratorInfo,
  IngredientDefinition,
  ManifestDefinition,
  ManifestOptions,
  ReceiptAssertion,
} from "./manifest-definition.js";
export { detectFormat, SUPPORTED_FORMATS } from "./media-format.js";
export { readManifest, receiptAssertionProblem } from "./read-manifest.js";
export type {
  ManifestAction,
  ManifestIngredient,
  ManifestReport,
  ManifestSignature,
  ManifestValidation,
  ReadOptions,
  ValidationState,
  ValidationStatus,
} from "./read-manifest.js";
export { checkOutputHash, defaultGenerator, sha256Hex, signAsset } from "./sign-asset.js";
export type { SignAssetInput, SignedAsset } from "./sign-asset.js";
export { parseCertificateChain, signingCredentialsFromPem } from "./signing-credentials.js";
export type { CredentialSources } from "./signing-credentials.js";
