/** `provenance reproduce`, `provenance reproduction show` and `provenance reproductions`: re-run a receipt with exactly its inputs, and its verdict. */
import { create } from "@bufbuild/protobuf";
import { EstimateBasis, GetReproductionResponseSchema, ListReproductionsResponseSchema, JobStatus, ReproduceSegmentResponseSchema, ReproductionVerdict, type Reproduction } from "@provenance/shared";
import { flag, requiredString, stringValue } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { writeJson } from "../command.js";
import { CliError, ExitCode, usageError, type ExitCodeValue } from "../exit-codes.js";
import { gpuTime } from "../output/estimate.js";
import { enumLabel, formatTime, shortHash } from "../output/format.js";
import { renderFields, renderTable } from "../output/table.js";
import { sleep } from "./regen.js";

/** The label/value lines of a reproduction. */
export function reproductionFields(r: Reproduction): [string, string][] {
  const estimate = r.gpuEstimate;
  return [
    ["reproduction", `${r.jobId} (${enumLabel(JobStatus, r.status)})`],
    ["verdict", r.verdict === ReproductionVerdict.UNSPECIFIED ? "—" : enumLabel(ReproductionVerdict, r.verdict)],
    ["summary", r.summary],
    ["receipt", `${r.receiptId} of segment ${r.segmentId} (scene ${r.sceneId}, project ${r.projectId})`],
    ["new segment", r.newSegmentId],
    ["new receipt", r.newReceiptId || "—"],
    ["inputs hash", `expected ${shortHash(r.expectedInputsHash)}, got ${r.actualInputsHash ? shortHash(r.actualInputsHash) : "—"}`],
    ["output hash", `expected ${r.expectedOutputHash ? shortHash(r.expectedOutputHash) : "—"}, got ${r.actualOutputHash ? shortHash(r.actualOutputHash) : "—"}`],
    ["gpu estimate", estimate && estimate.basis !== EstimateBasis.NO_HISTORY ? `${gpuTime(estimate.estimatedGpuMs)} (${estimate.summary})` : "no history"],
    ["requested by", r.requestedBy || "—"],
    ["created", formatTime(r.createdAt)],
    ["completed", r.completedAt ? formatTime(r.completedAt) : "—"],
  ];
}

/** The exit code of a reproduction's outcome: 0 identical, 8 inputs or output differ, 1 no verdict (it failed). */
export function verdictExitCode(r: Reproduction): ExitCodeValue {
  switch (r.verdict) {
    case ReproductionVerdict.IDENTICAL:
      return ExitCode.ok;
    case ReproductionVerdict.INPUTS_DIFFER:
    case ReproductionVerdict.OUTPUT_DIFFERS:
      return ExitCode.notReproduced;
    default:
      return ExitCode.failure;
  }
}

function isDone(r: Reproduction): boolean {
  return r.status !== JobStatus.SUBMITTED && r.status !== JobStatus.RUNNING && r.completedAt !== undefined;
}

/** Polls the reproduction until its new receipt completed. */
async function waitForVerdict(ctx: CommandContext, jobId: string): Promise<Reproduction> {
  for (;;) {
    const { reproduction } = await ctx.clients.regeneration.call((c, o) => c.getReproduction({ jobId }, o));
    if (!reproduction) throw new CliError(ExitCode.failure, `the regeneration service returned no reproduction for ${jobId}`);
    if (isDone(reproduction)) return reproduction;
    await sleep(ctx.pollIntervalMs, ctx.signal);
    if (ctx.signal.aborted) {
      throw new CliError(ExitCode.interrupted, `stopped waiting; reproduction ${jobId} keeps running: \`provenance reproduction show ${jobId}\``);
    }
  }
}

/** `reproduce --project P (--receipt ID | --segment S) [--key K] [--wait]`. */
export const reproduce: Command = {
  path: ["reproduce"],
  positionals: [],
  summary: "re-run a receipt with exactly its inputs (a new segment, superseding nothing); --wait prints the verdict",
  options: {
    project: { type: "string", value: "P", required: true, description: "the project of the receipt" },
    receipt: { type: "string", value: "ID", description: "the receipt to reproduce" },
    segment: { type: "string", value: "S", description: "or a segment, whose current receipt is reproduced" },
    key: { type: "string", value: "K", description: "idempotency key: the same key returns the same reproduction (default: a new one)" },
    wait: { type: "boolean", description: "wait for the verdict; exit 0 identical, 8 inputs or output differ, 1 failed" },
  },
  async run(ctx, args) {
    const receiptId = stringValue(args, "receipt") ?? "";
    const segmentId = stringValue(args, "segment") ?? "";
    if ((receiptId === "") === (segmentId === "")) throw usageError("give exactly one of --receipt ID and --segment S");
    const req = { projectId: requiredString(args, "project"), receiptId, segmentId, idempotencyKey: stringValue(args, "key") ?? `cli-reproduce-${crypto.randomUUID()}` };
    const res = await ctx.clients.regeneration.call((c, o) => c.reproduceSegment(req, o));
    const r = res.reproduction!;
    if (!flag(args, "wait")) {
      if (ctx.json) return writeJson(ctx, ReproduceSegmentResponseSchema, res);
      ctx.io.stdout.write(
        `${res.created ? "started" : "already started under this key:"} reproduction ${r.jobId} of receipt ${r.receiptId} as segment ${r.newSegmentId}` +
          ` (${gpuTime(r.gpuEstimate?.estimatedGpuMs ?? 0n)}); \`provenance reproduction show ${r.jobId}\`\n`,
      );
      return;
    }
    if (!ctx.json) ctx.io.stderr.write(`${res.created ? "started" : "already started under this key:"} reproduction ${r.jobId}, waiting for the pipeline\n`);
    const done = await waitForVerdict(ctx, r.jobId);
    if (ctx.json) writeJson(ctx, GetReproductionResponseSchema, { $typeName: "provenance.v1.GetReproductionResponse", reproduction: done });
    else ctx.io.stdout.write(`${done.summary}\n`);
    return verdictExitCode(done);
  },
};

/** `reproduction show <job-id>`. */
export const reproductionShow: Command = {
  path: ["reproduction", "show"],
  positionals: ["job-id"],
  summary: "a reproduction: its receipt, the new receipt, the hashes compared and the verdict",
  options: {},
  async run(ctx, args) {
    const res = await ctx.clients.regeneration.call((c, o) => c.getReproduction({ jobId: args.positionals[0]! }, o));
    if (ctx.json) return writeJson(ctx, GetReproductionResponseSchema, res);
    ctx.io.stdout.write(renderFields(reproductionFields(res.reproduction!)));
  },
};

/** `reproductions --project P [--receipt ID | --segment S]`. */
export const reproductions: Command = {
  path: ["reproductions"],
  positionals: [],
  summary: "a project's reproductions (or one receipt's or segment's), newest first, with their status and verdict",
  options: {
    project: { type: "string", value: "P", required: true, description: "the project" },
    receipt: { type: "string", value: "ID", description: "only reproductions of this receipt" },
    segment: { type: "string", value: "S", description: "only reproductions of this segment's receipts" },
  },
  async run(ctx, args) {
    const receiptId = stringValue(args, "receipt") ?? "";
    const segmentId = stringValue(args, "segment") ?? "";
    if (receiptId !== "" && segmentId !== "") throw usageError("give at most one of --receipt ID and --segment S");
    const projectId = requiredString(args, "project");
    const all: Reproduction[] = [];
    let pageToken = "";
    do {
      const res = await ctx.clients.regeneration.call((c, o) => c.listReproductions({ projectId, receiptId, segmentId, pageToken }, o));
      all.push(...res.reproductions);
      pageToken = res.nextPageToken;
    } while (pageToken !== "");
    if (ctx.json) return writeJson(ctx, ListReproductionsResponseSchema, create(ListReproductionsResponseSchema, { reproductions: all }));
    ctx.io.stdout.write(
      renderTable(
        [{ header: "JOB" }, { header: "RECEIPT" }, { header: "STATUS" }, { header: "VERDICT" }, { header: "CREATED" }],
        all.map((r) => [
          r.jobId,
          r.receiptId,
          enumLabel(JobStatus, r.status),
          enumLabel(ReproductionVerdict, r.verdict),
          formatTime(r.createdAt),
        ]),
        "no reproductions",
      ),
    );
  },
};
