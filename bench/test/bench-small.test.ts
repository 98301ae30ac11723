/**
 * The whole benchmark at a small size against real PostgreSQL and NATS, with the services as child processes
 * (built by `turbo run test`'s ^build), so the benchmark cannot rot. Size: BENCH_TEST_RECEIPTS, default 20000 (the issue's small run).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_BATCH, DEFAULT_CONCURRENCY } from "../src/bench-args.js";
import { checkTargets, writeResults, type BenchResults } from "../src/bench-results.js";
import type { LatencyStats } from "../src/latency-stats.js";
import { runBenchmark } from "../src/run-benchmark.js";

const RECEIPTS = Number(process.env.BENCH_TEST_RECEIPTS ?? 20_000);

function expectSane(s: LatencyStats, what: string): void {
  expect(s.calls, `${what}: calls`).toBeGreaterThan(0);
  expect(s.errors, `${what}: errors`).toBe(0);
  for (const k of ["p50", "p95", "p99", "max"] as const) {
    expect(Number.isFinite(s[k]), `${what}: ${k} finite`).toBe(true);
    expect(s[k], `${what}: ${k} > 0`).toBeGreaterThan(0);
    expect(s[k], `${what}: ${k} under a minute`).toBeLessThan(60_000);
  }
  expect(s.p50).toBeLessThanOrEqual(s.p95);
  expect(s.p95).toBeLessThanOrEqual(s.p99);
  expect(s.p99).toBeLessThanOrEqual(s.max);
}

describe(`the benchmark at ${RECEIPTS} receipts`, () => {
  let dir = "";
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("measures every number and writes them as JSON and markdown", { timeout: 600_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), "bench-small-"));
    const results = await runBenchmark({
      receipts: RECEIPTS,
      loadConcurrency: DEFAULT_CONCURRENCY,
      batchSize: DEFAULT_BATCH,
      workDir: join(dir, "logs"),
      command: `bench-small.test.ts (--receipts ${RECEIPTS})`,
      log: () => undefined,
      progress: false,
    });
    const file = await writeResults(dir, results);
    const written = JSON.parse(await readFile(file, "utf8")) as BenchResults & { targets: ReturnType<typeof checkTargets> };

    expect(written.sizes.receipts).toBe(RECEIPTS);
    expect(written.sizes.projectedSegments).toBe(RECEIPTS);
    expect(written.sizes.bigProjectSegments).toBeGreaterThan(written.sizes.typicalProjectSegments);
    expect(written.machine.cores).toBeGreaterThan(0);
    expect(written.machine.postgres).toMatch(/^\d+/);
    expect(written.load.receiptsPerSecond).toBeGreaterThan(0);
    expect(written.load.catchUpSeconds).toBeGreaterThanOrEqual(0);
    expect(written.load.cpuMsPerReceipt.receipts).toBeGreaterThan(0);

    const queries = ["forward", "reverseModel", "reverseLora", "reverseVersion", "reportBig", "reportTypical"];
    expect(Object.keys(written.queries).sort()).toEqual([...queries].sort());
    for (const q of queries) {
      const c = written.queries[q]!;
      expectSane(c.ours, `${q} ours`);
      expectSane(c.floor, `${q} floor`);
      expectSane(c.reference, `${q} reference`);
    }

    expect(written.staleAgreement.oursStaleSegments).toBeGreaterThan(0);
    expect(written.staleAgreement.referenceStaleSegments).toBeGreaterThan(0);
    expect(written.detection.samples).toBeGreaterThan(0);
    expect(written.detection.staleSegmentsPerChange).toBeGreaterThan(0);
    expectSane(written.detection.nats, "detection via NATS");
    expectSane(written.detection.watch, "detection via WatchStaleness");
    expectSane(written.detection.natsAllProjects, "detection, every affected project");
    expect(written.detection.openStreams).toBe(200);
    // Every publish was seen on NATS and by the all-projects watcher (which reconnects if the server ends it).
    expect(written.detection.nats.errors).toBe(0);
    expect(written.detection.watchReconnects).toBeGreaterThanOrEqual(0);
    expectSane(written.detection.watchAllStreams!, "detection, every affected stream of the crowd");
    expect(written.detection.watchAllStreams!.p50).toBeGreaterThanOrEqual(written.detection.watch.p50);

    // The whole project planned and submitted: one job per stale segment.
    expect(written.planning.staleSegments).toBe(2_000);
    expect(written.planning.plannedJobs).toBe(2_000);
    expect(written.planning.submittedJobs).toBe(2_000);
    expectSane(written.planning.plan, "PlanRegeneration");
    expectSane(written.planning.submit, "SubmitRegeneration");

    // The scale-out measurement went through one replica and then two (a second receipts process was sampled).
    expect(written.scaleOut.receiptsPerSecond["1"]).toBeGreaterThan(0);
    expect(written.scaleOut.receiptsPerSecond["2"]).toBeGreaterThan(0);
    expect(written.scaleOut.ratio).toBeGreaterThan(0);
    expect(written.memoryMiB["receipts-2"]?.["scale-out"], "second replica's RSS").toBeGreaterThan(20);
    // The receipt log's cost: the same load with its queue triggers off, compared with the one-replica load.
    expect(written.receiptLogCost.logOffReceiptsPerSecond).toBeGreaterThan(0);
    expect(written.receiptLogCost.logOnReceiptsPerSecond).toBe(written.scaleOut.receiptsPerSecond["1"]);

    expect(written.ingestion.rates.map((r) => r.path)).toEqual(["batch", "batch", "batch", "single", "single", "single", "single"]);
    for (const r of written.ingestion.rates) {
      expectSane(r, `ingestion at ${r.offeredPerSecond}/s`);
      expect(r.achievedPerSecond).toBeGreaterThan(0);
    }

    for (const svc of ["receipts", "staleness", "regeneration"]) {
      expect(written.memoryMiB[svc]?.load, `${svc} RSS under load`).toBeGreaterThan(20);
    }
    const targetNames = written.targets.map((t) => t.name);
    for (const name of [
      "forward ours ÷ floor (p50)",
      "detection p99 (NATS, every affected project)",
      "detection p99 (every affected one of 200 open WatchStaleness streams)",
      "single CreateReceipt + CompleteReceipt at 200/s offered, p99",
      "staleness RSS, every phase",
      "receipts RSS, every phase",
      `the run, ${RECEIPTS} receipts`,
    ]) {
      expect(targetNames, name).toContain(name);
    }
    expect(targetNames.some((n) => n.startsWith("plan + submit, 2000 stale segments"))).toBe(true);
    expect(Object.keys(written.plans).length).toBeGreaterThan(5);

    const md = await readFile(file.replace(/\.json$/, ".md"), "utf8");
    expect(md).toContain("| Measurement | ours p50");
    expect(md).toContain("GetStalenessReport, big project");
  });
});
