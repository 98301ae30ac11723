/** `provenance watch`: staleness changes as they are detected, one line each, until Ctrl-C. */
import { WatchStalenessResponseSchema, type StalenessDetected } from "@provenance/shared";
import { stringValue } from "../args.js";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";
import { cliErrorFromRpc } from "../exit-codes.js";
import { formatTime, formatVersion } from "../output/format.js";

/** One change as a line: time, project, asset, version move, counts, then the group summaries. */
export function formatChange(c: StalenessDetected): string {
  const move = `${formatVersion(c.previousVersion)} → ${formatVersion(c.currentVersion)}`;
  const summaries = c.groups.map((g) => g.summary).filter((s) => s !== "");
  return (
    `${formatTime(c.occurredAt)}  ${c.projectId || "—"}  ${c.assetId} ${move}: ` +
    `${c.staleSegmentIds.length} now stale, ${c.freshSegmentIds.length} fresh again; ` +
    `${c.totalStaleSegments} stale in ${c.totalStaleScenes} scenes` +
    (summaries.length ? ` — ${summaries.join("; ")}` : "")
  );
}

/** `watch [--project P]`. */
export const watch: Command = {
  path: ["watch"],
  positionals: [],
  summary: "stream staleness changes as they are detected (one line, or one JSON object, per change) until Ctrl-C",
  options: { project: { type: "string", value: "P", description: "only this project's changes" } },
  async run(ctx, args) {
    const projectId = stringValue(args, "project") ?? "";
    const target = ctx.clients.staleness.target;
    if (!ctx.json) ctx.io.stderr.write(`watching staleness at ${target.url}${projectId ? ` for project ${projectId}` : ""}; Ctrl-C to stop\n`);
    try {
      for await (const res of ctx.clients.staleness.client.watchStaleness({ projectId }, { signal: ctx.signal })) {
        if (!res.change) continue;
        if (ctx.json) writeJson(ctx, WatchStalenessResponseSchema, res, false);
        else ctx.io.stdout.write(`${formatChange(res.change)}\n`);
      }
    } catch (err) {
      if (ctx.signal.aborted) return;
      throw cliErrorFromRpc(err, target);
    }
  },
};
