/**
 * The run's projects and their assets: a source image, a model, a workflow and a LoRA per project, registered before
 * the load starts. Receipts name the LoRA's current version; publishing a new one makes the project's earlier
 * segments stale, which is what the regeneration submits then select.
 */
import { createHash } from "node:crypto";
import { AssetKind } from "@provenance/shared";

/** The run's projects. */
export const CHAOS_PROJECTS = ["chaos-a", "chaos-b", "chaos-c", "chaos-d"] as const;

/** The asset roles a receipt of the run names, with their kinds. */
export const ASSET_ROLES = {
  source: AssetKind.SOURCE_IMAGE,
  model: AssetKind.MODEL,
  workflow: AssetKind.WORKFLOW,
  lora: AssetKind.LORA,
} as const;

/** One of {@link ASSET_ROLES}. */
export type AssetRole = keyof typeof ASSET_ROLES;

/** A version of an asset as receipts name it. */
export interface AssetVersionRef {
  readonly assetId: string;
  readonly contentHash: string;
  readonly version: number;
}

/** A SHA-256 (hex) content hash for a label. */
export function contentHash(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** The asset id of a project's asset in a role. */
export function assetIdOf(project: string, role: AssetRole): string {
  return `${project}-${role}`;
}

/** The content hash of version `version` of an asset (versions of the run are numbered from 1). */
export function versionHash(assetId: string, version: number): string {
  return contentHash(`${assetId} v${version}`);
}

/** The current version of every asset of the run, as the load generator last published it. */
export class AssetCatalog {
  private readonly current = new Map<string, number>();

  /** The asset's current version (1 until a new one is published). */
  versionOf(assetId: string): AssetVersionRef {
    const version = this.current.get(assetId) ?? 1;
    return { assetId, contentHash: versionHash(assetId, version), version };
  }

  /** Records that `version` of `assetId` is now current. */
  setCurrent(assetId: string, version: number): void {
    this.current.set(assetId, version);
  }

  /** Every (project, role) of the run. */
  all(): { project: string; role: AssetRole; assetId: string }[] {
    return CHAOS_PROJECTS.flatMap((project) =>
      (Object.keys(ASSET_ROLES) as AssetRole[]).map((role) => ({ project, role, assetId: assetIdOf(project, role) })),
    );
  }
}
