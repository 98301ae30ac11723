/** `provenance stale report|list`: which segments are out of date, and why. */
import { create } from "@bufbuild/protobuf";
import {
  AssetKind,
  GetStalenessReportResponseSchema,
  ListStaleSegmentsResponseSchema,
  type AssetStaleness,
  type GetStalenessReportResponse,
  type StaleSegment,
  type StalenessReason,
} from "@provenance/shared";
import { stringValue } from "../args.js";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";
import { usageError } from "../exit-codes.js";
import { enumLabel, formatVersion } from "../output/format.js";
import { renderTable } from "../output/table.js";
import { pinnedLine } from "./pins.js";

/** The totals line of a staleness report. */
export function reportTotals(r: GetStalenessReportResponse): string {
  const scope = r.projectId ? `project ${r.projectId}` : "all projects";
  const segments = r.totalStaleSegments === 1 ? "segment" : "segments";
  const scenes = r.totalStaleScenes === 1 ? "scene" : "scenes";
  return (
    `${scope}: ${r.totalStaleSegments} stale ${segments} in ${r.totalStaleScenes} ${scenes}` +
    ` of ${r.totalActiveSegments} active; ${r.untrackedInputs} untracked inputs` +
    (r.legacySegments > 0 ? `; ${r.legacySegments} legacy (made before receipts, never stale nor fresh)` : "")
  );
}

/** Rows of the report table, one per (asset, receipt version) group. */
export function reportRows(groups: readonly AssetStaleness[]): string[][] {
  return groups.map((g) => [
    g.assetName || g.assetId,
    enumLabel(AssetKind, g.kind),
    `${formatVersion(g.receiptVersion)} → ${formatVersion(g.currentVersion)}`,
    String(g.affectedSegments),
    String(g.affectedScenes),
    g.summary,
  ]);
}

/** One reason as "lora anna_lora v1 → v2". */
export function formatReason(r: StalenessReason): string {
  return `${enumLabel(AssetKind, r.kind)} ${r.assetName || r.assetId} ${formatVersion(r.receiptVersion)} → ${formatVersion(r.currentVersion)}`;
}

/** `stale report [--project P]`. */
export const staleReport: Command = {
  path: ["stale", "report"],
  positionals: [],
  summary: "stale segments grouped by the asset version that made them stale",
  options: { project: { type: "string", value: "P", description: "one project (default: all)" } },
  async run(ctx, args) {
    const projectId = stringValue(args, "project") ?? "";
    const res = await ctx.clients.staleness.call((c, o) => c.getStalenessReport({ projectId }, o));
    if (ctx.json) return writeJson(ctx, GetStalenessReportResponseSchema, res);
    ctx.io.stdout.write(`${reportTotals(res)}\n`);
    if (res.pinnedSegments > 0) {
      ctx.io.stdout.write(`pinned (${res.pinnedSegments}):\n${res.pinned.map((p) => `  ${pinnedLine(p)}\n`).join("")}`);
    }
    if (res.byAsset.length === 0) return;
    ctx.io.stdout.write(
      renderTable(
        [
          { header: "ASSET" },
          { header: "KIND" },
          { header: "VERSION" },
          { header: "SEGMENTS", align: "right" },
          { header: "SCENES", align: "right" },
          { header: "SUMMARY" },
        ],
        reportRows(res.byAsset),
      ),
    );
  },
};

/** `stale list [--project P | --asset A]`. */
export const staleList: Command = {
  path: ["stale", "list"],
  positionals: [],
  summary: "each stale segment with every reason",
  options: {
    project: { type: "string", value: "P", description: "one project's stale segments" },
    asset: { type: "string", value: "A", description: "segments stale because of this asset" },
  },
  async run(ctx, args) {
    const projectId = stringValue(args, "project") ?? "";
    const assetId = stringValue(args, "asset") ?? "";
    if (projectId && assetId) throw usageError("give --project or --asset, not both");
    const segments: StaleSegment[] = [];
    let pageToken = "";
    do {
      const res = await ctx.clients.staleness.call((c, o) => c.listStaleSegments({ projectId, assetId, pageToken }, o));
      segments.push(...res.segments);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    if (ctx.json) return writeJson(ctx, ListStaleSegmentsResponseSchema, create(ListStaleSegmentsResponseSchema, { segments }));
    ctx.io.stdout.write(
      renderTable(
        [{ header: "SEGMENT" }, { header: "SCENE" }, { header: "PROJECT" }, { header: "CHARACTER" }, { header: "REASONS" }],
        segments.map((s) => [
          s.segmentId,
          s.sceneId,
          s.projectId,
          `${s.characterName || "—"} #${s.sequenceIndex}`,
          s.reasons.map(formatReason).join("; "),
        ]),
        "no stale segments",
      ),
    );
  },
};
