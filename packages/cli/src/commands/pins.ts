/** `provenance pin|unpin|pins`: hold segments on an older asset version on purpose, end that, list it. */
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  ListPinsResponseSchema,
  PinSegmentsResponseSchema,
  PinState,
  UnpinSegmentsResponseSchema,
  type Pin,
  type PinnedSegment,
} from "@provenance/shared";
import { flag, intValue, requiredString, stringValue, stringValues } from "../args.js";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";
import { usageError } from "../exit-codes.js";
import { enumLabel, formatTime } from "../output/format.js";
import { renderTable } from "../output/table.js";

/** What a pin holds: "scene S" or "3 segments". */
export function pinTarget(p: Pin): string {
  if (p.sceneId) return `scene ${p.sceneId}`;
  return p.segmentIds.length === 1 ? `segment ${p.segmentIds[0]}` : `${p.segmentIds.length} segments`;
}

/** "anna_lora v1 while it is on v2". */
export function pinVersions(p: Pin): string {
  return `${p.assetName || p.assetId} v${p.version} while it is on v${p.acceptedVersion}`;
}

/** "until 2027-01-01 00:00:00Z" or "with no expiry". */
function until(p: { expiresAt?: Pin["expiresAt"] }): string {
  return p.expiresAt ? `until ${formatTime(p.expiresAt)}` : "with no expiry";
}

/** One line of the report's pinned list: `seg-1 (scene s1) anna_lora v1 (on v2) — by mia: "why", until …`. */
export function pinnedLine(p: PinnedSegment): string {
  return `${p.segmentId} (scene ${p.sceneId}) ${p.assetName || p.assetId} v${p.version} (on v${p.currentVersion}) — by ${p.pinnedBy}: "${p.reason}", ${until(p)}`;
}

/** `pin --project P (--scene S | --segment X…) --asset A --version V --reason "…" [--until T]`. */
export const pin: Command = {
  path: ["pin"],
  positionals: [],
  summary: "keep a scene's (or some segments') inputs of an asset on an older version on purpose: not stale, left out of plans",
  options: {
    project: { type: "string", value: "P", required: true, description: "the project" },
    scene: { type: "string", value: "S", description: "every segment of this scene" },
    segment: { type: "string", value: "X", multiple: true, description: "a segment (repeat for more); instead of --scene" },
    asset: { type: "string", value: "A", required: true, description: "the asset" },
    version: { type: "string", value: "V", required: true, description: "the older version the segments stay on" },
    reason: { type: "string", value: "TEXT", required: true, description: "why (shown in the report)" },
    until: { type: "string", value: "TIME", description: "when the pin expires (RFC 3339, e.g. 2027-01-01T00:00:00Z; default: never)" },
  },
  async run(ctx, args) {
    const sceneId = stringValue(args, "scene") ?? "";
    const segmentIds = stringValues(args, "segment");
    if ((sceneId === "") === (segmentIds.length === 0)) throw usageError("give --scene or --segment (one or more), not both");
    const rawUntil = stringValue(args, "until");
    const expires = rawUntil === undefined ? undefined : new Date(rawUntil);
    if (expires && (Number.isNaN(expires.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(rawUntil!))) {
      throw usageError(`--until must be an RFC 3339 time such as 2027-01-01T00:00:00Z, got "${rawUntil}"`);
    }
    const res = await ctx.clients.staleness.call((c, o) =>
      c.pinSegments(
        {
          projectId: requiredString(args, "project"),
          sceneId,
          segmentIds,
          assetId: requiredString(args, "asset"),
          version: intValue(args, "version", 1, 2_147_483_647)!,
          reason: requiredString(args, "reason"),
          expiresAt: expires ? timestampFromDate(expires) : undefined,
        },
        o,
      ),
    );
    if (ctx.json) return writeJson(ctx, PinSegmentsResponseSchema, res);
    const p = res.pin!;
    const count = `${res.pinnedSegments} ${res.pinnedSegments === 1 ? "segment" : "segments"} pinned now`;
    ctx.io.stdout.write(
      `${res.created ? "pinned" : "already pinned"} ${pinTarget(p)} of project ${p.projectId} to ${pinVersions(p)}, ${until(p)} (${count}; pin ${p.pinId}, by ${p.pinnedBy})\n`,
    );
  },
};

/** `unpin <pin-id> --project P`. */
export const unpin: Command = {
  path: ["unpin"],
  positionals: ["pin-id"],
  summary: "end a pin: its segments are stale again where an asset moved on",
  options: { project: { type: "string", value: "P", required: true, description: "the pin's project" } },
  async run(ctx, args) {
    const res = await ctx.clients.staleness.call((c, o) => c.unpinSegments({ projectId: requiredString(args, "project"), pinId: args.positionals[0]! }, o));
    if (ctx.json) return writeJson(ctx, UnpinSegmentsResponseSchema, res);
    const p = res.pin!;
    ctx.io.stdout.write(`unpinned ${p.pinId}: ${pinTarget(p)} of project ${p.projectId}, ${pinVersions(p)} (by ${p.unpinnedBy} at ${formatTime(p.unpinnedAt)})\n`);
  },
};

/** `pins --project P [--all]`. */
export const pins: Command = {
  path: ["pins"],
  positionals: [],
  summary: "a project's pins, newest first, with their state",
  options: {
    project: { type: "string", value: "P", required: true, description: "the project" },
    all: { type: "boolean", description: "also expired and unpinned pins" },
  },
  async run(ctx, args) {
    const projectId = requiredString(args, "project");
    const all: Pin[] = [];
    let pageToken = "";
    do {
      const res = await ctx.clients.staleness.call((c, o) => c.listPins({ projectId, includeEnded: flag(args, "all"), pageToken }, o));
      all.push(...res.pins);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    if (ctx.json) return writeJson(ctx, ListPinsResponseSchema, create(ListPinsResponseSchema, { pins: all }));
    ctx.io.stdout.write(
      renderTable(
        [{ header: "PIN" }, { header: "TARGET" }, { header: "PINNED TO" }, { header: "STATE" }, { header: "BY" }, { header: "UNTIL" }, { header: "REASON" }],
        all.map((p) => [p.pinId, pinTarget(p), pinVersions(p), enumLabel(PinState, p.state), p.pinnedBy, p.expiresAt ? formatTime(p.expiresAt) : "—", p.reason]),
        "no pins",
      ),
    );
  },
};
