/** `provenance regen plan|submit|status`: re-generate only the stale segments. */
import {
  GetRegenerationBatchResponseSchema,
  JobStatus,
  PlanRegenerationResponseSchema,
  SubmitRegenerationResponseSchema,
  type GetRegenerationBatchResponse,
  type PlannedJob,
  type RegenerationBatch,
  type RegenerationJob,
} from "@provenance/shared";
import { flag, listValue, requiredString, stringValue, type OptionSpecs, type ParsedArgs } from "../args.js";
import type { Command, CommandContext } from "../command.js";
import { writeJson } from "../command.js";
import { CliError, ExitCode } from "../exit-codes.js";
import { estimateLine } from "../output/estimate.js";
import { enumLabel, formatTime, shortHash } from "../output/format.js";
import { ProgressBar } from "../output/progress.js";
import { renderFields, renderTable } from "../output/table.js";
import { formatReason } from "./stale.js";

const selectionOptions: OptionSpecs = {
  project: { type: "string", value: "P", required: true, description: "the project to re-generate in" },
  segments: { type: "string", value: "a,b", description: "only these segments (comma-separated)" },
  scenes: { type: "string", value: "s1,s2", description: "only these scenes (comma-separated)" },
  asset: { type: "string", value: "A", description: "only segments stale because of this asset" },
};

function selection(args: ParsedArgs) {
  return {
    projectId: requiredString(args, "project"),
    segmentIds: listValue(args, "segments"),
    sceneIds: listValue(args, "scenes"),
    assetId: stringValue(args, "asset") ?? "",
  };
}

/** Rows of the plan table: one per job that would be submitted. */
export function planRows(jobs: readonly PlannedJob[]): string[][] {
  return jobs.map((j) => [j.oldSegmentId, j.sceneId, j.swapped.map(formatReason).join("; "), shortHash(j.expectedInputsHash)]);
}

/** Jobs of a batch that are finished (succeeded, failed or inputs mismatch). */
export function finishedJobs(b: RegenerationBatch): number {
  return b.succeeded + b.failed + b.inputsMismatch;
}

/** "12 succeeded, 1 failed, 0 inputs mismatch, 2 running, 5 submitted". */
export function batchCounts(b: RegenerationBatch): string {
  return `${b.succeeded} succeeded, ${b.failed} failed, ${b.inputsMismatch} inputs mismatch, ${b.running} running, ${b.submitted} submitted`;
}

function jobsTable(jobs: readonly RegenerationJob[]): string {
  return renderTable(
    [{ header: "JOB" }, { header: "OLD SEGMENT" }, { header: "STATUS" }, { header: "NEW SEGMENT" }, { header: "ERROR" }],
    jobs.map((j) => [j.jobId, j.plan?.oldSegmentId ?? "—", enumLabel(JobStatus, j.status), j.newSegmentId || "—", j.error]),
    "no jobs",
  );
}

function batchFields(b: RegenerationBatch | undefined): string {
  if (!b) return "";
  return renderFields([
    ["batch", b.batchId],
    ["project", b.projectId],
    ["requested by", b.requestedBy || "—"],
    ["created", formatTime(b.createdAt)],
    ["jobs", `${b.jobCount}: ${batchCounts(b)}`],
  ]);
}

/** Waits `ms`, or less when `signal` aborts (the caller checks which). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Polls the batch until no job is submitted or running, drawing a progress bar on stderr. */
async function waitForBatch(ctx: CommandContext, batchId: string): Promise<GetRegenerationBatchResponse> {
  const bar = new ProgressBar(ctx.io.stderr);
  try {
    for (;;) {
      const res = await ctx.clients.regeneration.call((c, o) => c.getRegenerationBatch({ batchId }, o));
      const b = res.batch;
      if (!b) throw new CliError(ExitCode.failure, `the regeneration service returned no batch for ${batchId}`);
      bar.update(finishedJobs(b), b.jobCount, batchCounts(b));
      if (b.submitted + b.running === 0) return res;
      await sleep(ctx.pollIntervalMs, ctx.signal);
      if (ctx.signal.aborted) {
        throw new CliError(
          ExitCode.interrupted,
          `stopped waiting; batch ${batchId} keeps running: \`provenance regen status ${batchId}\``,
        );
      }
    }
  } finally {
    bar.finish();
  }
}

/** `regen plan --project P [--segments a,b] [--scenes s1,s2] [--asset A]`. */
export const regenPlan: Command = {
  path: ["regen", "plan"],
  positionals: [],
  summary: "the jobs a re-generation would submit, with the stale inputs each swaps; writes nothing",
  options: selectionOptions,
  async run(ctx, args) {
    const req = selection(args);
    const res = await ctx.clients.regeneration.call((c, o) => c.planRegeneration(req, o));
    if (ctx.json) return writeJson(ctx, PlanRegenerationResponseSchema, res);
    ctx.io.stdout.write(
      renderTable(
        [{ header: "OLD SEGMENT" }, { header: "SCENE" }, { header: "SWAPS" }, { header: "EXPECTED INPUTS HASH" }],
        planRows(res.jobs),
        `nothing to re-generate in project ${req.projectId}`,
      ),
    );
    if (res.jobs.length > 0) ctx.io.stdout.write(`${estimateLine(res.jobs.length, res.estimatedGpuMs, res.jobsWithoutEstimate)}\n`);
  },
};

/** `regen submit --project P ... --key K --by USER [--wait]`. */
export const regenSubmit: Command = {
  path: ["regen", "submit"],
  positionals: [],
  summary: "submit the re-generation as a batch; --wait shows progress until every job has finished",
  options: {
    ...selectionOptions,
    key: { type: "string", value: "K", required: true, description: "idempotency key: the same key returns the same batch" },
    by: { type: "string", value: "USER", description: "ignored, kept for old scripts: the service records the token's subject as the requester" },
    wait: { type: "boolean", description: "wait for the batch, with a progress bar on stderr; exit 1 if any job did not succeed" },
  },
  async run(ctx, args) {
    const req = { ...selection(args), idempotencyKey: requiredString(args, "key"), requestedBy: stringValue(args, "by") ?? "" };
    const res = await ctx.clients.regeneration.call((c, o) => c.submitRegeneration(req, o));
    const batchId = res.batch?.batchId ?? "";
    if (!flag(args, "wait")) {
      if (ctx.json) return writeJson(ctx, SubmitRegenerationResponseSchema, res);
      ctx.io.stdout.write(
        `${res.created ? "submitted" : "already submitted under this key:"} batch ${batchId} with ${estimateLine(res.batch?.jobCount ?? 0, res.estimatedGpuMs, res.jobsWithoutEstimate)}\n`,
      );
      return;
    }
    if (!ctx.json) ctx.io.stderr.write(`${res.created ? "submitted" : "already submitted under this key:"} batch ${batchId}\n`);
    const final = await waitForBatch(ctx, batchId);
    if (ctx.json) writeJson(ctx, GetRegenerationBatchResponseSchema, final);
    else ctx.io.stdout.write(batchFields(final.batch));
    const b = final.batch!;
    if (b.failed + b.inputsMismatch > 0) {
      ctx.io.stderr.write(`${b.failed + b.inputsMismatch} of ${b.jobCount} jobs did not succeed: \`provenance regen status ${batchId}\`\n`);
      return ExitCode.failure;
    }
  },
};

/** `regen status <batch-id>`. */
export const regenStatus: Command = {
  path: ["regen", "status"],
  positionals: ["batch-id"],
  summary: "a batch's counts and each job's status",
  options: {},
  async run(ctx, args) {
    const batchId = args.positionals[0]!;
    const res = await ctx.clients.regeneration.call((c, o) => c.getRegenerationBatch({ batchId }, o));
    if (ctx.json) return writeJson(ctx, GetRegenerationBatchResponseSchema, res);
    ctx.io.stdout.write(batchFields(res.batch));
    ctx.io.stdout.write("\n");
    ctx.io.stdout.write(jobsTable(res.jobs));
  },
};
