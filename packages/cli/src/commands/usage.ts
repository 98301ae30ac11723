/** `provenance usage <asset-id>`: the segments whose receipts used an asset (optionally one version). */
import { create } from "@bufbuild/protobuf";
import { MAX_PAGE_SIZE, GetAssetUsageResponseSchema, InputRole, ReceiptStatus, type AssetUsage } from "@provenance/shared";
import { flag, intValue, parseContentHash, stringValue } from "../args.js";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";
import { enumLabel, formatNumber, formatTime, formatVersion, shortHash } from "../output/format.js";
import { renderTable } from "../output/table.js";

/** Rows of the usage table. */
export function usageRows(usages: readonly AssetUsage[]): string[][] {
  return usages.map((u) => [
    u.segmentId,
    u.sceneId,
    u.projectId,
    enumLabel(InputRole, u.role),
    formatVersion(u.version),
    shortHash(u.contentHash),
    u.role === InputRole.LORA ? formatNumber(u.weight) : "",
    enumLabel(ReceiptStatus, u.status),
    u.segmentActive ? "yes" : "no",
    formatTime(u.generationStartedAt),
  ]);
}

/** `usage <asset-id> [--version N] [--content-hash H] [--limit N] [--all]`. */
export const usage: Command = {
  path: ["usage"],
  positionals: ["asset-id"],
  summary: "segments whose receipts used an asset, with scene, project, role, version and time",
  options: {
    version: { type: "string", value: "N", description: "only receipts that used version N" },
    "content-hash": { type: "string", value: "HASH", description: "only receipts that used this content hash" },
    limit: { type: "string", value: "N", description: `rows per page (default the server's, at most ${MAX_PAGE_SIZE})` },
    all: { type: "boolean", description: "page through every result" },
  },
  async run(ctx, args) {
    const assetId = args.positionals[0]!;
    const version = intValue(args, "version") ?? 0;
    const rawHash = stringValue(args, "content-hash");
    const contentHash = rawHash === undefined ? "" : parseContentHash(rawHash, "--content-hash");
    const pageSize = intValue(args, "limit", 1, MAX_PAGE_SIZE) ?? 0;
    const all = flag(args, "all");
    const usages: AssetUsage[] = [];
    let pageToken = "";
    do {
      const res = await ctx.clients.receipts.call((c, o) =>
        c.getAssetUsage({ assetId, version, contentHash, pageSize, pageToken }, o),
      );
      usages.push(...res.usages);
      pageToken = res.nextPageToken;
    } while (all && pageToken !== "");
    if (ctx.json) {
      return writeJson(ctx, GetAssetUsageResponseSchema, create(GetAssetUsageResponseSchema, { usages, nextPageToken: pageToken }));
    }
    ctx.io.stdout.write(
      renderTable(
        [
          { header: "SEGMENT" },
          { header: "SCENE" },
          { header: "PROJECT" },
          { header: "ROLE" },
          { header: "VERSION", align: "right" },
          { header: "HASH" },
          { header: "WEIGHT", align: "right" },
          { header: "STATUS" },
          { header: "ACTIVE" },
          { header: "STARTED" },
        ],
        usageRows(usages),
        `no segment used ${assetId}${version ? ` v${version}` : ""}`,
      ),
    );
    if (pageToken !== "") ctx.io.stderr.write(`more results: add --all to page through every one\n`);
  },
};
