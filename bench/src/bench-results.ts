/** The results of a run: their shape, the issue's targets checked against them, and the markdown and JSON written. */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import type { DetectionResult } from "./detection-latency.js";
import type { LatencyStats, RateStats } from "./latency-stats.js";
import type { MachineInfo } from "./machine-info.js";
import type { PlanningResult } from "./regeneration-planning.js";

/** The same load through one replica of the receipts service and through two. */
export interface ScaleOut {
  receipts: number;
  concurrencyPerReplica: number;
  batchSize: number;
  /** Receipts per second by number of replicas ("1", "2"). */
  receiptsPerSecond: Record<string, number>;
  /** Two replicas' rate ÷ one's. */
  ratio?: number;
}

/** One query measured three ways. */
export interface QueryComparison {
  label: string;
  /** Through the service's gRPC stack, one call in flight. */
  ours: LatencyStats;
  /** CPU milliseconds per call of `ours`, per process (the bench's client, each service, PostgreSQL). */
  oursCpuMsPerCall?: Record<string, number>;
  /** The same through gRPC with 8 calls in flight (point queries only). */
  oursLoaded?: LatencyStats;
  /** Our SQL straight on PostgreSQL. */
  floor: LatencyStats;
  /** The reference design's SQL. */
  reference: LatencyStats;
}

/** Everything one run measured. */
export interface BenchResults {
  date: string;
  /** The commit the services were built from, and their files that differed from it. */
  code: { commit: string; uncommittedFiles: number };
  command: string;
  machine: MachineInfo;
  sizes: Record<string, unknown> & { receipts: number; bigProjectSegments: number; typicalProjectSegments: number };
  load: {
    receipts: number;
    seconds: number;
    receiptsPerSecond: number;
    concurrency: number;
    batchSize: number;
    catchUpSeconds: number;
    referenceLoadSeconds: number;
    /** CPU seconds per component over the load and the projection's catch-up. */
    cpuSeconds: Record<string, number>;
    cpuMsPerReceipt: Record<string, number>;
    /** Commits and row changes in the database per receipt, over the load and catch-up. */
    dbPerReceipt: Record<string, number>;
    path: string;
  };
  queries: Record<string, QueryComparison>;
  /** Stale segments of the big project by each design, as a sanity check of the reference SQL. */
  staleAgreement: { project: string; oursStaleSegments: number; oursGroups: number; referenceStaleSegments: number; referenceGroups: number };
  detection: DetectionResult;
  ingestion: { loadReceiptsPerSecond: number; rates: IngestionRate[] };
  /** PlanRegeneration / SubmitRegeneration of a project whose every segment is stale. */
  planning: PlanningResult;
  scaleOut: ScaleOut;
  /** One replica's load rate with the receipt log's queue triggers on and off (drop = 1 − on ÷ off). */
  receiptLogCost: { receipts: number; logOnReceiptsPerSecond: number; logOffReceiptsPerSecond: number; drop: number };
  memoryMiB: Record<string, Record<string, number>>;
  /** The V8 heap in use at the end of each phase, per service (what RSS holds that is live JavaScript). */
  heapUsedMiB: Record<string, Record<string, number>>;
  plans: Record<string, string>;
  durationSeconds: number;
}

/** Latency of one write path at one offered rate (calls per second; a batch call carries receiptsPerCall receipts). */
export type IngestionRate = RateStats & {
  path: "batch" | "single";
  receiptsPerCall: number;
  /** CPU milliseconds per call (a batch pair, or a CreateReceipt + CompleteReceipt pair), per process, over the measurement. */
  cpuMsPerCall?: Record<string, number>;
};

/** One of the issue's targets and whether the run met it. */
export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean;
}

/** a ÷ b to one decimal, or to two significant digits below 1 (0.04×, not 0×). */
function ratio(a: number, b: number): number {
  const x = a / b;
  return x >= 1 ? Math.round(x * 10) / 10 : Number(x.toPrecision(2));
}

/** The issue's targets, checked. Query times are ours through gRPC, p99. */
export function checkTargets(r: BenchResults): TargetCheck[] {
  const q = r.queries;
  const checks: TargetCheck[] = [];
  const le = (name: string, target: string, value: number, limit: number) =>
    checks.push({ name, target, measured: `${value} ms`, met: value <= limit });
  le("forward p99", "≤ 5 ms", q.forward!.ours.p99, 5);
  for (const k of ["reverseModel", "reverseLora", "reverseVersion"]) le(`${k} first page p99`, "≤ 10 ms", q[k]!.ours.p99, 10);
  le(`report p99, ${r.sizes.bigProjectSegments} segments`, "≤ 250 ms", q.reportBig!.ours.p99, 250);
  const fwd = q.forward!;
  const fwdRatio = ratio(fwd.ours.p50, fwd.floor.p50);
  checks.push({ name: "forward ours ÷ floor (p50)", target: "≤ 2×", measured: `${fwdRatio}×`, met: fwdRatio <= 2 });
  // A publish whose messages did not all arrive (on NATS and on the timed watcher) within the phase's timeout is left
  // out of the percentiles; it misses every detection target, and the rows say how many there were.
  const unseen = r.detection.nats.errors;
  const detection = (name: string, value: number) =>
    checks.push({
      name,
      target: "≤ 1000 ms",
      measured: unseen > 0 ? `${value} ms over ${r.detection.samples} publishes; ${unseen} more not seen in time` : `${value} ms`,
      met: unseen === 0 && r.detection.samples > 0 && value <= 1000,
    });
  detection("detection p99 (NATS, first project)", r.detection.nats.p99);
  detection("detection p99 (NATS, every affected project)", r.detection.natsAllProjects.p99);
  detection("detection p99 (WatchStaleness)", r.detection.watch.p99);
  if (r.detection.watchAllStreams) {
    detection(`detection p99 (every affected one of ${r.detection.openStreams} open WatchStaleness streams)`, r.detection.watchAllStreams.p99);
  }
  checks.push({
    name: "ingestion",
    target: "≥ 2000 receipts/s",
    measured: `${r.load.receiptsPerSecond} receipts/s`,
    met: r.load.receiptsPerSecond >= 2000,
  });
  const single200 = r.ingestion.rates.find((x) => x.path === "single" && x.offeredPerSecond === 200);
  if (single200) le("single CreateReceipt + CompleteReceipt at 200/s offered, p99", "≤ 25 ms", single200.p99, 25);
  for (const svc of ["staleness", "receipts"]) {
    const peaks = Object.values(r.memoryMiB[svc] ?? {});
    const peak = Math.max(...peaks);
    checks.push({ name: `${svc} RSS, every phase`, target: "≤ 300 MiB", measured: `${peak} MiB`, met: peaks.length > 0 && peak <= 300 });
  }
  const p = r.planning;
  const planSubmit = Math.round((p.plan.p50 + p.submit.p50) * 10) / 10;
  le(`plan + submit, ${p.staleSegments} stale segments (plan p50 + submit)`, "≤ 3000 ms", planSubmit, 3000);
  const lc = r.receiptLogCost;
  checks.push({
    name: "ingestion drop with the receipt log on (one replica, log on vs off)",
    target: "≤ 10%",
    measured: `${Math.round(lc.drop * 1000) / 10}% (${lc.logOnReceiptsPerSecond} vs ${lc.logOffReceiptsPerSecond} receipts/s)`,
    met: lc.drop <= 0.1,
  });
  checks.push({
    name: `the run, ${r.sizes.receipts} receipts`,
    target: "≤ 30 min",
    measured: `${Math.floor(r.durationSeconds / 60)} min ${r.durationSeconds % 60} s`,
    met: r.durationSeconds <= 1800,
  });
  for (const [k, c] of Object.entries(q)) {
    const x = ratio(c.reference.p99, c.ours.p99);
    checks.push({ name: `${k} vs reference (p99)`, target: "≥ 10×", measured: `${x}×`, met: x >= 10 });
  }
  return checks;
}

/** The main results table (markdown). */
export function resultsTable(r: BenchResults): string {
  const lines = [
    "| Measurement | ours p50 | ours p95 | ours p99 | floor p99 | reference p99 | reference ÷ ours | reference ÷ floor | ours ÷ floor | calls × concurrency | ours at 8 in flight: p50 / p99, calls/s |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
  ];
  for (const c of Object.values(r.queries)) {
    lines.push(
      `| ${c.label} | ${c.ours.p50} ms | ${c.ours.p95} ms | ${c.ours.p99} ms | ${c.floor.p99} ms | ${c.reference.p99} ms | ` +
        `${ratio(c.reference.p99, c.ours.p99)}× | ${ratio(c.reference.p99, c.floor.p99)}× | ${ratio(c.ours.p99, c.floor.p99)}× | ${c.ours.calls} × ${c.ours.concurrency} (reference ${c.reference.calls} × ${c.reference.concurrency}) | ` +
        `${c.oursLoaded ? `${c.oursLoaded.p50} / ${c.oursLoaded.p99} ms, ${Math.round(c.oursLoaded.throughput)}/s` : ""} |`,
    );
  }
  const d = r.detection;
  lines.push(
    `| Detection: PublishVersion ${d.assetId} → provenance.staleness.detected (first project) | ${d.nats.p50} ms | ${d.nats.p95} ms | ${d.nats.p99} ms | | | | | | ${d.samples} publishes, ${d.staleSegmentsPerChange} stale segments each | |`,
    `| Detection: → last project's message | ${d.natsAllProjects.p50} ms | ${d.natsAllProjects.p95} ms | ${d.natsAllProjects.p99} ms | | | | | | | |`,
    `| Detection: → WatchStaleness message | ${d.watch.p50} ms | ${d.watch.p95} ms | ${d.watch.p99} ms | | | | | | | |`,
    ...(d.watchAllStreams
      ? [`| Detection: → the last affected of ${d.openStreams} open WatchStaleness streams (one project each) | ${d.watchAllStreams.p50} ms | ${d.watchAllStreams.p95} ms | ${d.watchAllStreams.p99} ms | | | | | | | |`]
      : []),
    `| Detection: PublishVersion RPC itself | ${d.publishRpc.p50} ms | ${d.publishRpc.p95} ms | ${d.publishRpc.p99} ms | | | | | | | |`,
  );
  lines.push(
    `| Ingestion (load): CreateReceipts + CompleteReceipts | **${r.load.receiptsPerSecond} receipts/s** | | | | | | | | ${r.load.receipts} receipts, batches of ${r.load.batchSize}, ${r.load.concurrency} in flight | |`,
  );
  for (const s of r.ingestion.rates) {
    const perCall = s.receiptsPerCall;
    lines.push(
      s.path === "batch"
        ? `| Ingestion at ${Math.round(s.offeredPerSecond * perCall)} receipts/s offered (achieved ${Math.round(s.achievedPerSecond * perCall)}/s), CreateReceipts + CompleteReceipts of ${perCall}, latency per batch | ${s.p50} ms | ${s.p95} ms | ${s.p99} ms | | | | | | ${s.calls} batch pairs, ${s.errors} errors | |`
        : `| Ingestion at ${s.offeredPerSecond}/s offered (achieved ${s.achievedPerSecond}/s), single CreateReceipt + CompleteReceipt latency | ${s.p50} ms | ${s.p95} ms | ${s.p99} ms | | | | | | ${s.calls} pairs, ${s.errors} errors | |`,
    );
  }
  const p = r.planning;
  lines.push(
    `| PlanRegeneration, ${p.projectId} (${p.staleSegments} stale segments → ${p.plannedJobs} jobs) | ${p.plan.p50} ms | ${p.plan.p95} ms | ${p.plan.p99} ms | | | | | | ${p.plan.calls} × 1 | |`,
    `| SubmitRegeneration, ${p.projectId} (${p.submittedJobs} jobs, one call) | ${p.submit.p50} ms | | | | | | | | 1 × 1 | |`,
  );
  const so = r.scaleOut;
  lines.push(
    `| Ingestion, ${so.receipts} receipts through 1 / 2 replicas of receipts (${so.concurrencyPerReplica} batches of ${so.batchSize} in flight each) | **${so.receiptsPerSecond["1"]} / ${so.receiptsPerSecond["2"]} receipts/s** (×${so.ratio}) | | | | | | | | | |`,
    `| Ingestion, ${r.receiptLogCost.receipts} receipts through 1 replica with the receipt log's triggers off | **${r.receiptLogCost.logOffReceiptsPerSecond} receipts/s** (log on: ${r.receiptLogCost.logOnReceiptsPerSecond}/s) | | | | | | | | | |`,
  );
  return lines.join("\n");
}

function memoryTable(r: BenchResults): string {
  const phases = [...new Set(Object.values(r.memoryMiB).flatMap((p) => Object.keys(p)))];
  const lines = [`| Service | ${phases.join(" | ")} |`, `|---|${phases.map(() => "---:").join("|")}|`];
  for (const [svc, p] of Object.entries(r.memoryMiB)) {
    const heap = r.heapUsedMiB?.[svc] ?? {};
    lines.push(`| ${svc} | ${phases.map((ph) => (p[ph] ? `${p[ph]} MiB${heap[ph] !== undefined ? ` (heap ${heap[ph]})` : ""}` : "")).join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The full markdown report of one run. */
export function resultsMarkdown(r: BenchResults): string {
  const m = r.machine;
  const s = r.sizes;
  const targets = checkTargets(r);
  return [
    `# Benchmark ${r.date}: ${s.receipts} receipts`,
    "",
    `Command: \`${r.command}\` — ${r.durationSeconds} s in all. Services built from ${r.code.commit}${r.code.uncommittedFiles ? ` plus ${r.code.uncommittedFiles} uncommitted files in services/ and packages/shared` : ""}.`,
    "",
    `Machine: ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}, PostgreSQL ${m.postgres}; load average at start ${m.loadAverageAtStart.join(" / ")} (the machine is shared).`,
    "",
    `Data: ${s.receipts} receipts / ${String(s.segments)} segments in ${String(s.projects)} projects (${String(s.scenes)} scenes), ${String(s.receiptInputs)} receipt inputs, ${String(s.assets)} assets with ${String(s.assetVersions)} versions; big project ${s.bigProjectSegments} segments, typical ${s.typicalProjectSegments}.`,
    "",
    `Load path: ${r.load.path}; ${r.load.receipts} receipts in ${r.load.seconds} s = **${r.load.receiptsPerSecond} receipts/s** (batches of ${r.load.batchSize}, ${r.load.concurrency} in flight); the staleness projection caught up ${r.load.catchUpSeconds} s after the last call; reference schema loaded by SQL in ${r.load.referenceLoadSeconds} s.`,
    "",
    `CPU per receipt over the load and catch-up (ms): ${Object.entries(r.load.cpuMsPerReceipt).map(([k, v]) => `${k} ${v}`).join(", ")}; total ${Math.round(Object.values(r.load.cpuMsPerReceipt).reduce((a, b) => a + b, 0) * 100) / 100} ms, i.e. at most ${Math.round((r.machine.cores * 1000) / Object.values(r.load.cpuMsPerReceipt).reduce((a, b) => a + b, 0))} receipts/s on ${r.machine.cores} idle cores.`,
    "",
    `Database work per receipt over the load and catch-up: ${Object.entries(r.load.dbPerReceipt).map(([k, v]) => `${v} ${k}`).join(", ")} (pg_stat_database).`,
    "",
    "## Latency",
    "",
    "Closed loop after warm-up; all times in milliseconds; ratios on p99.",
    "",
    resultsTable(r),
    "",
    `Sanity: in ${r.staleAgreement.project} our report finds ${r.staleAgreement.oursStaleSegments} stale segments in ${r.staleAgreement.oursGroups} groups, the reference ${r.staleAgreement.referenceStaleSegments} in ${r.staleAgreement.referenceGroups} (it does not compare workflows, and counts every receipt rather than each segment's current one).`,
    "",
    "## Targets",
    "",
    "| Target | Goal | Measured | Met |",
    "|---|---|---|---|",
    ...targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`),
    "",
    "## Resident memory (peak per phase; in brackets the V8 heap in use at the phase's end)",
    "",
    memoryTable(r),
    "",
    "## Plans (EXPLAIN ANALYZE of one call)",
    "",
    ...Object.entries(r.plans).flatMap(([k, v]) => [`### ${k}`, "", "```", v, "```", ""]),
  ].join("\n");
}

/** Writes `<dir>/<date>-<n>-receipts.{json,md}` and `<dir>/latest.{json,md}`; returns the JSON path. */
export async function writeResults(dir: string, r: BenchResults): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stem = `${r.date.slice(0, 16).replace(/[:T]/g, "-")}-${r.sizes.receipts}-receipts`;
  const json = JSON.stringify({ ...r, targets: checkTargets(r) }, null, 2);
  const md = resultsMarkdown(r);
  await writeFile(`${dir}/${stem}.json`, json);
  await writeFile(`${dir}/${stem}.md`, md);
  await writeFile(`${dir}/latest.json`, json);
  await writeFile(`${dir}/latest.md`, md);
  return `${dir}/${stem}.json`;
}

/** Markers around the generated table in docs/performance.md. */
export const DOCS_START = "<!-- bench:latest:start -->";
/** End marker of the generated table. */
export const DOCS_END = "<!-- bench:latest:end -->";

/** Replaces the generated part of docs/performance.md with this run's table (the prose around it is kept). */
export async function updatePerformanceDoc(path: string, r: BenchResults): Promise<void> {
  const doc = await readFile(path, "utf8").catch(() => `# Performance\n\n${DOCS_START}\n${DOCS_END}\n`);
  const start = doc.indexOf(DOCS_START);
  const end = doc.indexOf(DOCS_END);
  if (start < 0 || end < start) throw new Error(`${path} has no ${DOCS_START} … ${DOCS_END} markers`);
  const m = r.machine;
  const block = [
    DOCS_START,
    `_Generated by \`${r.command}\` on ${r.date} (${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}); ` +
      `${r.sizes.receipts} receipts, big project ${r.sizes.bigProjectSegments} segments. Full results: bench/results/latest.md._`,
    "",
    resultsTable(r),
    "",
    "| Target | Goal | Measured | Met |",
    "|---|---|---|---|",
    ...checkTargets(r).map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? "yes" : "**no**"} |`),
    "",
    "Peak resident memory per service and phase (in brackets the V8 heap in use at the phase's end):",
    "",
    memoryTable(r),
    DOCS_END,
  ].join("\n");
  await writeFile(path, doc.slice(0, start) + block + doc.slice(end + DOCS_END.length));
}
