/**
 * What the manifest says, from a receipt: the pure mapping from a generation receipt to a c2pa-rs ManifestDefinition
 * (its JSON form, as `WasmBuilder.fromJson` takes it). No I/O.
 *
 * - `c2pa.actions.v2`: one `c2pa.created` action with digital source type `trainedAlgorithmicMedia` (IPTC), when the
 *   generation completed, naming the ingredients it used.
 * - Ingredients: the source image and, when the receipt has one, the variant image, as `inputTo` ingredients
 *   (C2PA 2.x: an input to the computational process that made the asset). Their bytes are not at hand, so each is
 *   an ingredient without binary: no `data`, thumbnail or `c2pa_manifest` (the spec makes all three optional), and
 *   identified by content instead — `instance_id` is `urn:provenance:asset:<asset id>:sha256:<content hash>`, and the
 *   ingredient's assertion metadata carries `com.provenance.asset` {role, asset_id, version, content_hash, alg}.
 * - `com.provenance.receipt`: the receipt itself (see {@link ReceiptAssertion}).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { AssetRef, Receipt } from "@provenance/shared";

/** Label of the custom assertion that carries the receipt. */
export const RECEIPT_ASSERTION_LABEL = "com.provenance.receipt";

/** Key, in an ingredient's assertion metadata, of the asset it names. */
export const INGREDIENT_ASSET_METADATA_KEY = "com.provenance.asset";

/** IPTC digital source type of media made by a trained generative model. */
export const TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia";

/** An asset as the receipt assertion names it; `version` is absent when the receipt did not give one. */
export interface AssertedAsset {
  readonly asset_id: string;
  readonly content_hash: string;
  readonly version?: number;
}

/** A LoRA in application order, with its weight. */
export interface AssertedLora extends AssertedAsset {
  readonly weight: number;
}

/** The workflow, with the receipt's workflow version label when it has one. */
export interface AssertedWorkflow extends AssertedAsset {
  readonly workflow_version?: string;
}

/**
 * The data of the `com.provenance.receipt` assertion. Content hashes are SHA-256, 64 lowercase hex digits;
 * `output_hash` is the hash of the file as generated, before the manifest was embedded. `seed` is a decimal string
 * because it is a uint64, which JSON numbers cannot carry exactly. Prompts are not included.
 */
export interface ReceiptAssertion {
  readonly receipt_id: string;
  readonly segment_id: string;
  readonly scene_id: string;
  readonly project_id: string;
  readonly inputs_hash: string;
  readonly output_hash: string;
  readonly model?: AssertedAsset;
  readonly loras: readonly AssertedLora[];
  readonly workflow?: AssertedWorkflow;
  readonly source_image?: AssertedAsset;
  readonly variant_image?: AssertedAsset;
  readonly seed: string;
  /** RFC 3339, when the generation completed. */
  readonly generation_completed_at?: string;
}

/** Who wrote the manifest (`claim_generator_info`). */
export interface GeneratorInfo {
  readonly name: string;
  readonly version: string;
}

/** What a manifest needs besides the receipt. */
export interface ManifestOptions {
  /** `dc:title` of the signed asset, e.g. its file name. */
  readonly title: string;
  /** Its media type, e.g. `video/mp4`. */
  readonly format: string;
  readonly generator: GeneratorInfo;
}

/** An ingredient of the manifest definition (c2pa-rs `Ingredient` JSON). */
export interface IngredientDefinition {
  readonly title: string;
  readonly relationship: "inputTo";
  readonly instance_id: string;
  readonly description: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** The manifest definition handed to `WasmBuilder.fromJson` (c2pa-rs `ManifestDefinition` JSON). */
export interface ManifestDefinition {
  readonly claim_generator_info: readonly GeneratorInfo[];
  readonly title: string;
  readonly format: string;
  readonly ingredients: readonly IngredientDefinition[];
  readonly assertions: readonly { readonly label: string; readonly data: unknown }[];
}

function asserted(ref: AssetRef | undefined): AssertedAsset | undefined {
  if (!ref || ref.assetId === "") return undefined;
  return { asset_id: ref.assetId, content_hash: ref.contentHash, ...(ref.version ? { version: ref.version } : {}) };
}

/** The `com.provenance.receipt` assertion of `receipt`. */
export function receiptAssertion(receipt: Receipt): ReceiptAssertion {
  const workflow = asserted(receipt.workflow);
  const model = asserted(receipt.model);
  const sourceImage = asserted(receipt.sourceImage);
  const variantImage = asserted(receipt.variantImage);
  return {
    receipt_id: receipt.receiptId,
    segment_id: receipt.segmentId,
    scene_id: receipt.sceneId,
    project_id: receipt.projectId,
    inputs_hash: receipt.inputsHash,
    output_hash: receipt.outputHash,
    ...(model ? { model } : {}),
    loras: receipt.loras.flatMap((l) => {
      const asset = asserted(l.asset);
      return asset ? [{ ...asset, weight: l.weight }] : [];
    }),
    ...(workflow ? { workflow: { ...workflow, ...(receipt.workflowVersion ? { workflow_version: receipt.workflowVersion } : {}) } } : {}),
    ...(sourceImage ? { source_image: sourceImage } : {}),
    ...(variantImage ? { variant_image: variantImage } : {}),
    seed: receipt.seed.toString(),
    ...(receipt.generationCompletedAt ? { generation_completed_at: timestampDate(receipt.generationCompletedAt).toISOString() } : {}),
  };
}

/** The instance id of an ingredient known only by asset id and content hash. */
export function ingredientInstanceId(asset: AssertedAsset): string {
  return `urn:provenance:asset:${encodeURIComponent(asset.asset_id)}:sha256:${asset.content_hash}`;
}

function ingredient(role: "source image" | "variant image", asset: AssertedAsset): IngredientDefinition {
  const version = asset.version ? ` v${asset.version}` : "";
  return {
    title: `${role} ${asset.asset_id}${version}`,
    relationship: "inputTo",
    instance_id: ingredientInstanceId(asset),
    description: `The ${role} the generation started from, identified by its SHA-256 content hash; its bytes are not embedded.`,
    metadata: {
      [INGREDIENT_ASSET_METADATA_KEY]: {
        role: role.replace(" ", "_"),
        asset_id: asset.asset_id,
        ...(asset.version ? { version: asset.version } : {}),
        content_hash: asset.content_hash,
        alg: "sha256",
      },
    },
  };
}

/** The ingredients of a receipt: its source image, then its variant image when it has one. */
export function receiptIngredients(receipt: Receipt): IngredientDefinition[] {
  const source = asserted(receipt.sourceImage);
  const variant = asserted(receipt.variantImage);
  const all = [...(source ? [ingredient("source image", source)] : []), ...(variant ? [ingredient("variant image", variant)] : [])];
  // The same bytes named as both images are one ingredient.
  return all.filter((item, i) => all.findIndex((other) => other.instance_id === item.instance_id) === i);
}

function actionDescription(r: ReceiptAssertion): string {
  const parts = [
    r.workflow ? `workflow ${r.workflow.asset_id}${r.workflow.workflow_version ? ` (${r.workflow.workflow_version})` : ""}` : undefined,
    r.model ? `model ${r.model.asset_id}${r.model.version ? ` v${r.model.version}` : ""}` : undefined,
    r.loras.length ? `${r.loras.length} LoRA${r.loras.length === 1 ? "" : "s"}` : undefined,
  ].filter((p): p is string => p !== undefined);
  return `Generated${parts.length ? ` with ${parts.join(", ")}` : ""}; receipt ${r.receipt_id}.`;
}

/** The whole manifest definition for the asset made under `receipt`. */
export function manifestDefinition(receipt: Receipt, options: ManifestOptions): ManifestDefinition {
  const assertion = receiptAssertion(receipt);
  const ingredients = receiptIngredients(receipt);
  const created = {
    action: "c2pa.created",
    digitalSourceType: TRAINED_ALGORITHMIC_MEDIA,
    description: actionDescription(assertion),
    ...(assertion.generation_completed_at ? { when: assertion.generation_completed_at } : {}),
    ...(ingredients.length ? { parameters: { ingredientIds: ingredients.map((i) => i.instance_id) } } : {}),
  };
  return {
    claim_generator_info: [options.generator],
    title: options.title,
    format: options.format,
    ingredients,
    assertions: [
      { label: "c2pa.actions.v2", data: { actions: [created] } },
      { label: RECEIPT_ASSERTION_LABEL, data: assertion },
    ],
  };
}
