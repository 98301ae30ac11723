/** The printed report of a chaos run: what ran, the faults as they happened, the answers, every check, the result. */
import { cpus } from "node:os";
import type { Verdict } from "./check/verdict.js";
import type { Settled } from "./check/settle.js";
import type { FaultRecord } from "./faults.js";
import type { AnswerStats } from "./load/resend.js";
import type { Scenario } from "./scenario.js";

/** Everything the report shows. */
export interface ReportInput {
  readonly scenario: Scenario;
  readonly startedAt: Date;
  /** Lines describing the system as it was started. */
  readonly system: readonly string[];
  readonly faults: readonly FaultRecord[];
  readonly loadMs: number;
  readonly settled: Settled;
  readonly stats: AnswerStats;
  readonly verdict: Verdict;
  readonly tookMs: number;
}

/** `m:ss` of a duration. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function answerLines(stats: AnswerStats): string[] {
  return [...stats.byRpc].map(([rpc, codes]) => {
    const parts = [...codes].sort(([a], [b]) => (a === "OK" ? -1 : b === "OK" ? 1 : a.localeCompare(b))).map(([code, c]) => `${code} ${c.toLocaleString("en-US")}`);
    return `  ${rpc.padEnd(18)} ${parts.join(", ")}`;
  });
}

/** The report as text. */
export function formatReport(r: ReportInput): string {
  const lines: string[] = [];
  lines.push(`chaos run: ${r.scenario.minutes}-minute scenario, started ${r.startedAt.toISOString()}, Node ${process.version}, ${cpus().length} CPUs`);
  for (const l of r.system) lines.push(`  ${l}`);
  lines.push("", "faults (m:ss from the start of the load)");
  for (const f of r.faults) lines.push(`  ${clock(f.startMs)}-${clock(f.endMs)}  ${f.label}`, `              ${f.detail}`);
  const { last } = r.settled;
  lines.push(
    "",
    `load: ${clock(r.loadMs)}; then ${r.settled.settled ? "settled" : "did NOT settle"} in ${Math.round(r.settled.tookMs / 1000)} s ` +
      `(outbox ${last.outboxRows}, consumer backlog ${last.consumerBacklog}, queued job requests ${last.queuedJobRequests}, open jobs ${last.openJobs})`,
    "answers the load generator got (per attempt):",
    ...answerLines(r.stats),
  );
  let section = "";
  for (const c of r.verdict.checks) {
    if (c.section !== section) {
      section = c.section;
      lines.push("", section);
    }
    lines.push(`  ${c.failures === 0 ? "ok  " : "FAIL"} ${c.name}: ${c.summary}${c.failures > 0 ? ` — ${c.failures} wrong` : ""}`);
    for (const e of c.examples) lines.push(`         ${e}`);
  }
  lines.push(
    "",
    r.verdict.ok
      ? `PASS: nothing lost, nothing doubled — all ${r.verdict.checks.length} checks held (run took ${clock(r.tookMs)})`
      : `FAIL: ${r.verdict.failed.join("; ")} (run took ${clock(r.tookMs)})`,
  );
  return lines.join("\n");
}
