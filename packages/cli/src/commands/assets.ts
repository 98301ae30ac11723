/** `provenance assets register|publish|rollback|history|list`: asset versions in the staleness service. */
import { create } from "@bufbuild/protobuf";
import {
  AssetKind,
  ListAssetsResponseSchema,
  ListVersionsResponseSchema,
  PublishVersionResponseSchema,
  RegisterAssetResponseSchema,
  SetCurrentVersionResponseSchema,
  type Asset,
  type AssetVersion,
} from "@provenance/shared";
import { KIND_NAMES, flag, intValue, parseAssetKind, parseContentHash, requiredString, stringValue } from "../args.js";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";
import { enumLabel, formatTime, formatVersion, shortHash } from "../output/format.js";
import { renderTable } from "../output/table.js";

function describeAsset(a: Asset | undefined): string {
  if (!a) return "?";
  return `${enumLabel(AssetKind, a.kind)} "${a.name}" (${a.assetId}${a.projectId ? `, project ${a.projectId}` : ""})`;
}

/** `assets register --kind K --name N [--id ID] [--project P]`. */
export const assetsRegister: Command = {
  path: ["assets", "register"],
  positionals: [],
  summary: "register an asset so its versions are tracked",
  options: {
    kind: { type: "string", value: "KIND", required: true, description: KIND_NAMES.join(" | ") },
    name: { type: "string", value: "NAME", required: true, description: "a readable name, e.g. anna_lora" },
    id: { type: "string", value: "ID", description: "the platform's id for it (the server assigns one when absent)" },
    project: { type: "string", value: "P", description: "the project it belongs to (absent: shared)" },
  },
  async run(ctx, args) {
    const kind = parseAssetKind(requiredString(args, "kind"));
    const res = await ctx.clients.assets.call((c, o) =>
      c.registerAsset(
        { kind, name: requiredString(args, "name"), assetId: stringValue(args, "id") ?? "", projectId: stringValue(args, "project") ?? "" },
        o,
      ),
    );
    if (ctx.json) return writeJson(ctx, RegisterAssetResponseSchema, res);
    ctx.io.stdout.write(`${res.created ? "registered" : "already registered:"} ${describeAsset(res.asset)}\n`);
  },
};

/** `assets publish <asset-id> --hash H --by USER [--note N] [--no-current]`. */
export const assetsPublish: Command = {
  path: ["assets", "publish"],
  positionals: ["asset-id"],
  summary: "publish a new version of an asset (made current unless --no-current)",
  options: {
    hash: { type: "string", value: "HASH", required: true, description: "SHA-256 of the content, 64 hex digits" },
    by: { type: "string", value: "USER", description: "ignored, kept for old scripts: the service records the token's subject as the uploader" },
    note: { type: "string", value: "TEXT", description: "what changed" },
    "no-current": { type: "boolean", description: "keep the current version as it is" },
  },
  async run(ctx, args) {
    const assetId = args.positionals[0]!;
    const res = await ctx.clients.assets.call((c, o) =>
      c.publishVersion(
        {
          assetId,
          contentHash: parseContentHash(requiredString(args, "hash")),
          uploadedBy: stringValue(args, "by") ?? "",
          note: stringValue(args, "note") ?? "",
          makeCurrent: !flag(args, "no-current"),
        },
        o,
      ),
    );
    if (ctx.json) return writeJson(ctx, PublishVersionResponseSchema, res);
    const v = res.version;
    const name = res.asset?.name || assetId;
    const current = v?.isCurrent ? "current" : `not current; current is ${formatVersion(res.asset?.currentVersion)}`;
    ctx.io.stdout.write(
      res.created
        ? `published ${name} ${formatVersion(v?.version)} (${shortHash(v?.contentHash)}), ${current}\n`
        : `${name} already has this content as ${formatVersion(v?.version)} (${shortHash(v?.contentHash)}), ${current}\n`,
    );
  },
};

/** `assets rollback <asset-id> --to-version N`. */
export const assetsRollback: Command = {
  path: ["assets", "rollback"],
  positionals: ["asset-id"],
  summary: "make an earlier (or any) version current again",
  options: {
    "to-version": { type: "string", value: "N", required: true, description: "the version to make current" },
  },
  async run(ctx, args) {
    const assetId = args.positionals[0]!;
    const version = intValue(args, "to-version")!;
    const res = await ctx.clients.assets.call((c, o) => c.setCurrentVersion({ assetId, version }, o));
    if (ctx.json) return writeJson(ctx, SetCurrentVersionResponseSchema, res);
    const name = res.asset?.name || assetId;
    ctx.io.stdout.write(
      res.previousVersion === res.asset?.currentVersion
        ? `${name} is already on ${formatVersion(version)}\n`
        : `${name}: current version ${formatVersion(res.previousVersion)} → ${formatVersion(res.asset?.currentVersion)}\n`,
    );
  },
};

/** Rows of the version history table. */
export function versionRows(versions: readonly AssetVersion[]): string[][] {
  return versions.map((v) => [
    v.isCurrent ? "*" : "",
    formatVersion(v.version),
    shortHash(v.contentHash),
    v.uploadedBy || "—",
    formatTime(v.createdAt),
    String(v.usageCount),
    v.note,
  ]);
}

/** `assets history <asset-id>`. */
export const assetsHistory: Command = {
  path: ["assets", "history"],
  positionals: ["asset-id"],
  summary: "every version of an asset: hash, uploader, time, usage; * marks the current one",
  options: {},
  async run(ctx, args) {
    const assetId = args.positionals[0]!;
    const versions: AssetVersion[] = [];
    let pageToken = "";
    do {
      const res = await ctx.clients.assets.call((c, o) => c.listVersions({ assetId, pageToken }, o));
      versions.push(...res.versions);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    if (ctx.json) return writeJson(ctx, ListVersionsResponseSchema, create(ListVersionsResponseSchema, { versions }));
    ctx.io.stdout.write(
      renderTable(
        [
          { header: "" },
          { header: "VERSION", align: "right" },
          { header: "HASH" },
          { header: "UPLOADED BY" },
          { header: "UPLOADED AT" },
          { header: "USED BY", align: "right" },
          { header: "NOTE" },
        ],
        versionRows(versions),
        `${assetId} has no versions yet`,
      ),
    );
  },
};

/** `assets list [--project P] [--kind K]`. */
export const assetsList: Command = {
  path: ["assets", "list"],
  positionals: [],
  summary: "registered assets with their current version",
  options: {
    project: { type: "string", value: "P", description: "only this project's assets" },
    kind: { type: "string", value: "KIND", description: KIND_NAMES.join(" | ") },
  },
  async run(ctx, args) {
    const rawKind = stringValue(args, "kind");
    const kind = rawKind === undefined ? AssetKind.UNSPECIFIED : parseAssetKind(rawKind);
    const projectId = stringValue(args, "project") ?? "";
    const assets: Asset[] = [];
    let pageToken = "";
    do {
      const res = await ctx.clients.assets.call((c, o) => c.listAssets({ projectId, kind, pageToken }, o));
      assets.push(...res.assets);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    if (ctx.json) return writeJson(ctx, ListAssetsResponseSchema, create(ListAssetsResponseSchema, { assets }));
    ctx.io.stdout.write(
      renderTable(
        [
          { header: "ASSET" },
          { header: "KIND" },
          { header: "NAME" },
          { header: "PROJECT" },
          { header: "CURRENT", align: "right" },
          { header: "HASH" },
          { header: "VERSIONS", align: "right" },
        ],
        assets.map((a) => [
          a.assetId,
          enumLabel(AssetKind, a.kind),
          a.name,
          a.projectId || "—",
          formatVersion(a.currentVersion),
          shortHash(a.currentContentHash),
          String(a.versionCount),
        ]),
        "no assets",
      ),
    );
  },
};
