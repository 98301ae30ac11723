/**
 * `provenance coverage [--project P]`: how many active segments have complete receipts; `provenance legacy import
 * FILE.json`: record segments made before receipts were (ImportLegacySegments).
 */
import { readFileSync, statSync } from "node:fs";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import {
  GetCoverageResponseSchema,
  ImportLegacySegmentsRequestSchema,
  ImportLegacySegmentsResponseSchema,
  type Coverage,
  type GetCoverageResponse,
  type ImportLegacySegmentsRequest,
  type ImportLegacySegmentsResponse,
} from "@provenance/shared";
import { stringValue } from "../args.js";
import type { Command } from "../command.js";
import { writeJson } from "../command.js";
import { CliError, usageError } from "../exit-codes.js";
import { renderTable } from "../output/table.js";

/** "42.9%"; one decimal, none for whole numbers. */
export function formatPercent(p: number): string {
  const rounded = Math.round(p * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}%`;
}

function row(name: string, c: Coverage): string[] {
  return [name, String(c.segments), String(c.complete), String(c.legacy), String(c.running), String(c.runningTooLong), String(c.failed), formatPercent(c.completePercent)];
}

/** The coverage table: one row per project, then the total when there are several. */
export function renderCoverage(res: GetCoverageResponse): string {
  const rows = res.projects.map((p) => row(p.projectId, p));
  if (res.projects.length !== 1 && res.total) rows.push(row("total", res.total));
  const table = renderTable(
    [
      { header: "PROJECT" },
      { header: "SEGMENTS", align: "right" },
      { header: "COMPLETE", align: "right" },
      { header: "LEGACY", align: "right" },
      { header: "RUNNING", align: "right" },
      { header: "TOO LONG", align: "right" },
      { header: "FAILED", align: "right" },
      { header: "COVERAGE", align: "right" },
    ],
    rows,
  );
  return `${table}COVERAGE: active segments with a complete receipt; TOO LONG: running for over ${res.runningLimitSeconds} s (RECEIPT_RUNNING_LIMIT_SECONDS)\n`;
}

/** `coverage [--project P]`. */
export const coverage: Command = {
  path: ["coverage"],
  positionals: [],
  summary: "active segments with complete receipts, legacy ones, running (too long) and failed, per project, as a percentage",
  options: { project: { type: "string", value: "P", description: "one project (default: every project you may view)" } },
  async run(ctx, args) {
    const projectId = stringValue(args, "project") ?? "";
    const res = await ctx.clients.receipts.call((c, o) => c.getCoverage({ projectId }, o));
    if (ctx.json) return writeJson(ctx, GetCoverageResponseSchema, res);
    ctx.io.stdout.write(renderCoverage(res));
  },
};

/** The most a legacy import file may hold (1,000 segments with their prompts fit well under it). */
const MAX_LEGACY_FILE_BYTES = 64 * 1024 * 1024;

/** Reads FILE.json as an ImportLegacySegmentsRequest in proto JSON (snake_case or camelCase names). */
export function readLegacyImport(path: string): ImportLegacySegmentsRequest {
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > MAX_LEGACY_FILE_BYTES) throw usageError(`${path} is ${size} bytes; at most ${MAX_LEGACY_FILE_BYTES} are read`);
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof CliError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw usageError(`cannot read ${path} (${e.code ?? e.message})`);
  }
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw usageError(`${path} is not JSON: ${(err as Error).message}`);
  }
  try {
    return fromJson(ImportLegacySegmentsRequestSchema, json);
  } catch (err) {
    throw usageError(`${path} is not an ImportLegacySegmentsRequest in proto JSON: ${(err as Error).message}`);
  }
}

/** One line per imported segment: its receipt, whether this import recorded it, and what it does not know. */
export function renderLegacyImport(res: ImportLegacySegmentsResponse): string {
  const created = res.results.filter((r) => r.created).length;
  const head = `imported ${res.results.length} legacy segment${res.results.length === 1 ? "" : "s"}: ${created} new, ${res.results.length - created} already imported`;
  const table = renderTable(
    [{ header: "SEGMENT" }, { header: "RECEIPT" }, { header: "" }, { header: "MISSING" }],
    res.results.map((r) => [r.receipt?.segmentId ?? "", r.receipt?.receiptId ?? "", r.created ? "new" : "same", r.receipt?.missingFields.join(", ") || "—"]),
  );
  return `${head}\n${table}`;
}

/** `legacy import <file.json>`. */
export const legacyImport: Command = {
  path: ["legacy", "import"],
  positionals: ["file.json"],
  summary: "record segments made before receipts were as LEGACY receipts (an ImportLegacySegmentsRequest in proto JSON)",
  options: {},
  async run(ctx, args) {
    const req = readLegacyImport(args.positionals[0]!);
    const res = await ctx.clients.receipts.call((c, o) => c.importLegacySegments(req, o));
    if (ctx.json) return writeJson(ctx, ImportLegacySegmentsResponseSchema, res);
    ctx.io.stdout.write(renderLegacyImport(res));
  },
};
