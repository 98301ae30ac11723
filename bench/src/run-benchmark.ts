/** The whole benchmark run: fresh database and streams, services as child processes, load, measure, compare. */
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import pg from "pg";
import { AssetService, ReceiptService, RegenerationService, StalenessService, encodeStringsNatively } from "@provenance/shared";
import { createTestDatabase, createTestNats } from "@provenance/shared/testing";
import { Dataset, loraIdOf, modelIdOf, projectIdOf, seededRandom, shapeFor } from "./dataset-shape.js";
import { measureDetection, type WatcherCrowd } from "./detection-latency.js";
import { floorDetectionSql, floorForward, floorForwardSql, floorReport, floorUsageSql } from "./floor-queries.js";
import { measureAtRate, measureClosedLoop, type ClosedLoopPlan } from "./latency-stats.js";
import { loadAssets, loadReceipts, writeReceipt, writeReceiptBatch } from "./loader.js";
import { measurePlanning } from "./regeneration-planning.js";
import { CpuMeter } from "./cpu-meter.js";
import { machineInfo } from "./machine-info.js";
import { setProgressEnabled } from "./progress-bar.js";
import { waitForProjection } from "./projection-lag.js";
import {
  REFERENCE_FORWARD_SQL,
  REFERENCE_REPORT_SQL,
  REFERENCE_REVERSE_LORA_SQL,
  REFERENCE_REVERSE_LORA_VERSION_SQL,
  REFERENCE_REVERSE_MODEL_SQL,
  loadReference,
  referenceIds,
} from "./reference-design.js";
import type { BenchResults, IngestionRate, QueryComparison, ScaleOut } from "./bench-results.js";
import { createBenchAccess, type BenchAccess } from "./bench-access.js";
import { REPO_ROOT, RssSampler, allocatePorts, startServiceProcess, type ServiceProcess } from "./service-processes.js";

/**
 * CPU milliseconds per call, per component, from the CPU seconds a phase of `calls` calls cost. A negative delta (a
 * PostgreSQL backend that ended during the phase takes its CPU time with it) is left out rather than reported.
 */
function cpuMsPer(seconds: Record<string, number>, calls: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(seconds)
      .filter(([, v]) => v >= 0)
      .map(([k, v]) => [k, calls > 0 ? Math.round((v * 1000 * 100) / calls) / 100 : 0]),
  );
}

/** Options of one run. */
export interface BenchOptions {
  receipts: number;
  /** CreateReceipts+CompleteReceipts batches in flight while loading. */
  loadConcurrency: number;
  /** Receipts per batch call while loading. */
  batchSize: number;
  /** Where the services' logs go. */
  workDir: string;
  /** The command line, recorded with the results. */
  command: string;
  log?: (line: string) => void;
  /** Leave the database in place after the run (its name is logged). */
  keepDatabase?: boolean;
  /** Draw progress bars on stderr (default true). */
  progress?: boolean;
}

/** Receipts per call when measuring the batch path at fixed rates. */
const RATE_BATCH = 100;
/** Offered rates of single CreateReceipt + CompleteReceipt pairs, per second. */
const SINGLE_RATES = [25, 50, 100, 200];

/** Page size of every reverse query (the services' default). */
const PAGE = 50;

/** How many calls each measurement makes, smaller for small runs so the test stays short. */
function plans(receipts: number) {
  const small = receipts <= 20_000;
  const huge = receipts > 300_000;
  const p = (warmup: number, calls: number, concurrency: number): ClosedLoopPlan => ({ warmup, calls, concurrency });
  // Latency (the targets and the ratios) at one call in flight; "under load" at 8 in flight, ours only.
  return {
    forward: small ? p(100, 1000, 1) : p(300, 3000, 1),
    reverse: small ? p(30, 300, 1) : p(100, 1000, 1),
    reportBig: small ? p(3, 20, 1) : p(2, 20, 1),
    reportTypical: small ? p(10, 100, 1) : p(20, 200, 1),
    // The reference's queries grow with the table (seconds each at a million receipts): fewer calls there.
    referenceReverse: small ? p(5, 50, 1) : huge ? p(2, 15, 1) : p(3, 30, 1),
    referenceReportBig: small ? p(1, 5, 1) : p(1, 5, 1),
    // The reference's report scans every receipt whatever the project: ~9 s per call at a million.
    referenceReportTypical: small ? p(5, 50, 1) : huge ? p(1, 5, 1) : p(3, 30, 1),
    loaded: small ? p(50, 1000, 8) : p(200, 3000, 8),
    detectionSamples: small ? 5 : 10,
    /** WatchStaleness streams held open while detection is measured: clients (subjects) × streams each. */
    watchers: small ? { clients: 4, streams: 50 } : { clients: 20, streams: 50 },
    rateSeconds: small ? 4 : 10,
    /** Segments of the project planned and submitted whole. */
    regenSegments: small ? 2_000 : 10_000,
    planCalls: small ? 3 : 5,
    /** Receipts loaded through one replica of the receipts service, then as many through two. */
    scaleOutReceipts: small ? 4_000 : 50_000,
  };
}

/** Runs the benchmark end to end and returns the results (the caller writes them). */
export async function runBenchmark(opts: BenchOptions): Promise<BenchResults> {
  const startedMs = Date.now();
  // Each line carries the time since the start, so a run's log shows what each phase cost.
  const elapsed = () => {
    const s = Math.round((Date.now() - startedMs) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  };
  const log = opts.log ?? ((line: string) => process.stderr.write(`[${elapsed()}] ${line}\n`));
  // The client encodes its requests as the services encode their answers (Node's UTF-8 encoder; same bytes).
  encodeStringsNatively();
  setProgressEnabled(opts.progress ?? true);
  const runId = randomBytes(4).toString("hex");
  const dataset = new Dataset(shapeFor(opts.receipts));
  const plan = plans(opts.receipts);
  const started = new Date();
  await mkdir(opts.workDir, { recursive: true });

  // The services' own SQL for the floor (their statements exports).
  const report = floorReport();
  const detectionSql = floorDetectionSql();
  const forwardSql = floorForwardSql();
  const code = await codeVersion();
  const database = await createTestDatabase("bench");
  const nats = await createTestNats();
  const db = new pg.Pool({ connectionString: database.url, max: 16 });
  const processes: ServiceProcess[] = [];
  let sampler: RssSampler | undefined;
  let access: BenchAccess | undefined;
  try {
    const ports = await allocatePorts();
    access = await createBenchAccess();
    const env = { databaseUrl: database.url, auth: access.serviceEnv, natsUrl: nats.url, namespace: nats.namespace, ports, logFile: `${opts.workDir}/services-${runId}.log` };
    log(`database ${database.name}, namespace ${nats.namespace}; starting services (node services/<svc>/dist/main.js)`);
    const staleness = await startServiceProcess("staleness", env);
    processes.push(staleness);
    const receipts = await startServiceProcess("receipts", env);
    processes.push(receipts);
    // Regeneration runs as in production: its durable consumer reads every receipt event (job progress).
    const regeneration = await startServiceProcess("regeneration", env);
    processes.push(regeneration);
    sampler = new RssSampler(processes);
    sampler.start();

    // Every call carries a token, which the services verify and look up in the grants, as in production.
    const { interceptors } = access;
    const receiptClient: Client<typeof ReceiptService> = createClient(ReceiptService, createGrpcTransport({ baseUrl: receipts.url, interceptors }));
    const stalenessTransport = createGrpcTransport({ baseUrl: staleness.url, interceptors });
    const assetClient = createClient(AssetService, stalenessTransport);
    const stalenessClient = createClient(StalenessService, stalenessTransport);
    const regenerationClient = createClient(RegenerationService, createGrpcTransport({ baseUrl: regeneration.url, interceptors }));

    // 1. Load through the services' write path.
    const cpu = new CpuMeter(processes, database.name);
    // A measurement and the CPU milliseconds its calls (and `extraCalls` more of the same) cost per process.
    const withCpu = async <S extends { calls: number }>(work: () => Promise<S>, extraCalls = 0) => {
      const before = await cpu.snapshot();
      const stats = await work();
      return { stats, cpuMsPerCall: cpuMsPer(CpuMeter.delta(before, await cpu.snapshot()), stats.calls + extraCalls) };
    };
    sampler.enter("load");
    const versions = await loadAssets(assetClient, dataset);
    log(`registered ${dataset.assets.length} assets with ${versions} versions`);
    const cpuBefore = await cpu.snapshot();
    const dbBefore = await databaseCounters(db, database.name);
    const load = await loadReceipts(receiptClient, dataset, opts.receipts, opts.loadConcurrency, opts.batchSize, runId);
    log(
      `loaded ${load.receipts} receipts in ${load.seconds} s: ${load.receiptsPerSecond} receipts/s ` +
        `(batches of ${load.batchSize}, ${load.concurrency} in flight)`,
    );
    sampler.enter("catch-up");
    const catchUpSeconds = await waitForProjection(nats.nc, nats.namespace, db, 30 * 60_000);
    log(`staleness projection caught up ${catchUpSeconds} s after the load ended`);
    const loadCpu = CpuMeter.delta(cpuBefore, await cpu.snapshot());
    const dbAfter = await databaseCounters(db, database.name);
    const dbPerReceipt = Object.fromEntries(
      Object.keys(dbAfter).map((k) => [k, Math.round(((dbAfter[k]! - dbBefore[k]!) / opts.receipts) * 100) / 100]),
    );
    log(`database work per receipt (load + catch-up): ${JSON.stringify(dbPerReceipt)}`);
    const cpuMsPerReceipt = Object.fromEntries(
      Object.entries(loadCpu).map(([k, v]) => [k, Math.round((v / opts.receipts) * 1e5) / 100]),
    );
    log(`CPU ms per receipt (load + catch-up): ${JSON.stringify(cpuMsPerReceipt)}`);
    // What autovacuum does after a bulk insert (PostgreSQL 13+ vacuums insert-only tables), which this machine's
    // PostgreSQL does not run (autovacuum = off): statistics for the planner and a visibility map for index-only
    // scans, and the outboxes' relayed rows cleared away. Without it the first plans run on empty statistics, and each
    // relay wake-up walks the index entries of two million deleted events (~8 ms, measured) before finding none.
    await db.query(`VACUUM (ANALYZE) receipts.segments, receipts.generation_receipts, receipts.receipt_inputs, receipts.outbox,
                            staleness.segments, staleness.segment_inputs, staleness.assets, staleness.asset_versions,
                            staleness.outbox`);

    // 2. The reference design, loaded with the same data.
    sampler.enter("reference-load");
    const referenceLoadSeconds = await loadReference(db);
    await db.query(`VACUUM (ANALYZE) reference.generation_receipts, reference.segments, reference.scenes`);
    log(`reference schema loaded in ${referenceLoadSeconds} s`);

    const rnd = seededRandom(7);
    const sampleSegments = Array.from({ length: 2000 }, () => dataset.segmentIdOf(Math.floor(rnd() * opts.receipts)));
    const ref = await referenceIds(db, sampleSegments);
    const refPool = new pg.Pool({ connectionString: database.url, max: 16 });
    const sizes = await datasetSizes(db);
    const bigProject = projectIdOf(0);
    const typicalProject = projectIdOf(Math.min(1, dataset.shape.projects - 1));
    const model = modelIdOf(0);
    const lora = loraIdOf(0);
    const loraOldVersion = 1;
    const loraOldHash = dataset.asset(lora).versions[loraOldVersion - 1]!;
    const seg = (i: number) => sampleSegments[i % sampleSegments.length]!;
    const comparisons: Record<string, QueryComparison> = {};
    const compare = async (
      name: string,
      label: string,
      p: ClosedLoopPlan,
      referencePlan: ClosedLoopPlan,
      ours: (i: number) => Promise<unknown>,
      floor: (i: number) => Promise<unknown>,
      reference: (i: number) => Promise<unknown>,
      underLoad = true,
    ) => {
      sampler!.enter(name);
      log(`measuring ${label}`);
      // Warm-up calls included: they are as many of the same calls.
      const { stats: o, cpuMsPerCall: oursCpuMsPerCall } = await withCpu(() => measureClosedLoop(p, ours), p.warmup);
      const loaded = underLoad ? await measureClosedLoop(plan.loaded, ours) : undefined;
      const f = await measureClosedLoop(p, floor);
      const r = await measureClosedLoop(referencePlan, reference);
      comparisons[name] = { label, ours: o, oursCpuMsPerCall, oursLoaded: loaded, floor: f, reference: r };
      log(
        `  ours p50 ${o.p50} p99 ${o.p99} ms${loaded ? ` (at 8 in flight: p99 ${loaded.p99} ms, ${loaded.throughput}/s)` : ""}; ` +
          `floor p99 ${f.p99} ms; reference p99 ${r.p99} ms; CPU ms per call of ours ${JSON.stringify(oursCpuMsPerCall)}`,
      );
    };

    // 3. Queries: ours through gRPC, the floor (our SQL, no service), the reference design.
    await compare(
      "forward",
      "GetSegmentProvenance (random segment)",
      plan.forward,
      plan.forward,
      (i) => receiptClient.getSegmentProvenance({ segmentId: seg(i) }),
      (i) => floorForward(db, forwardSql, seg(i)),
      (i) => refPool.query(REFERENCE_FORWARD_SQL, [ref.segmentIdOf(seg(i))]),
    );
    await compare(
      "reverseModel",
      `GetAssetUsage, popular model ${model} (first page of ${PAGE})`,
      plan.reverse,
      plan.referenceReverse,
      () => receiptClient.getAssetUsage({ assetId: model, pageSize: PAGE }),
      () => db.query(floorUsageSql(false, PAGE), [model]),
      () => refPool.query(REFERENCE_REVERSE_MODEL_SQL, [ref.versionRowsOf(model), null, PAGE]),
    );
    await compare(
      "reverseLora",
      `GetAssetUsage, popular LoRA ${lora} (first page of ${PAGE})`,
      plan.reverse,
      plan.referenceReverse,
      () => receiptClient.getAssetUsage({ assetId: lora, pageSize: PAGE }),
      () => db.query(floorUsageSql(false, PAGE), [lora]),
      () => refPool.query(REFERENCE_REVERSE_LORA_SQL, [ref.versionRowsOf(lora), PAGE]),
    );
    await compare(
      "reverseVersion",
      `GetAssetUsage, ${lora} version ${loraOldVersion} (first page of ${PAGE})`,
      plan.reverse,
      plan.referenceReverse,
      () => receiptClient.getAssetUsage({ assetId: lora, version: loraOldVersion, pageSize: PAGE }),
      () => db.query(floorUsageSql(true, PAGE), [lora, loraOldHash]),
      () => refPool.query(REFERENCE_REVERSE_LORA_VERSION_SQL, [ref.versionRowOf(lora, loraOldVersion), PAGE]),
    );
    await compare(
      "reportBig",
      `GetStalenessReport, big project ${bigProject} (${sizes.bigProjectSegments} segments)`,
      plan.reportBig,
      plan.referenceReportBig,
      () => stalenessClient.getStalenessReport({ projectId: bigProject }, { timeoutMs: 300_000 }),
      () => report.run(db, bigProject),
      () => refPool.query(REFERENCE_REPORT_SQL, [ref.projectIdOf(bigProject)]),
      false,
    );
    await compare(
      "reportTypical",
      `GetStalenessReport, typical project ${typicalProject} (${sizes.typicalProjectSegments} segments)`,
      plan.reportTypical,
      plan.referenceReportTypical,
      () => stalenessClient.getStalenessReport({ projectId: typicalProject }),
      () => report.run(db, typicalProject),
      () => refPool.query(REFERENCE_REPORT_SQL, [ref.projectIdOf(typicalProject)]),
      false,
    );

    // The two designs should broadly agree on what is stale (the reference does not compare workflows).
    const oursReport = await stalenessClient.getStalenessReport({ projectId: bigProject }, { timeoutMs: 300_000 });
    const refReport = (await refPool.query(REFERENCE_REPORT_SQL, [ref.projectIdOf(bigProject)])).rows[0];
    const staleAgreement = {
      project: bigProject,
      oursStaleSegments: oursReport.totalStaleSegments,
      oursGroups: oursReport.byAsset.length,
      referenceStaleSegments: Number(refReport.total_stale_segments),
      referenceGroups: (refReport.by_asset as unknown[]).length,
    };
    log(`stale segments in ${bigProject}: ours ${staleAgreement.oursStaleSegments}, reference ${staleAgreement.referenceStaleSegments}`);

    // Plans of one call of each, as evidence for the analysis.
    const explain = async (sql: string, params: unknown[], setup: string[] = []) => {
      const c = await db.connect();
      try {
        await c.query("BEGIN");
        for (const q of setup) await c.query(q);
        const { rows } = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
        await c.query("ROLLBACK");
        return (rows as { "QUERY PLAN": string }[]).map((r) => r["QUERY PLAN"]).join("\n");
      } finally {
        c.release();
      }
    };
    const plansText: Record<string, string> = {
      "floor forward (GetSegmentProvenance's statement)": await explain(forwardSql, [seg(1)]),
      "floor reverse LoRA": await explain(floorUsageSql(false, PAGE), [lora]),
      "floor reverse LoRA version": await explain(floorUsageSql(true, PAGE), [lora, loraOldHash]),
      "floor report, big project": await explain(report.sql, [bigProject], report.setup),
      "floor detection query (popular LoRA, big project)": await explain(detectionSql, [
        bigProject,
        lora,
        dataset.asset(lora).versions.at(-1)!,
        loraOldHash,
        dataset.asset(lora).versions.length,
      ], ["SET LOCAL jit = off"]),
      "reference forward": await explain(REFERENCE_FORWARD_SQL, [ref.segmentIdOf(seg(1))]),
      "reference reverse LoRA": await explain(REFERENCE_REVERSE_LORA_SQL, [ref.versionRowsOf(lora), PAGE]),
      "reference reverse LoRA version": await explain(REFERENCE_REVERSE_LORA_VERSION_SQL, [ref.versionRowOf(lora, loraOldVersion), PAGE]),
      "reference report, big project": await explain(REFERENCE_REPORT_SQL, [ref.projectIdOf(bigProject)]),
    };
    await refPool.end();

    // 4. Detection: publish a new version of the most used LoRA, time the pushes.
    sampler.enter("detection");
    // Creators with a console open: streams spread over every project, each subject holding at most 50 of them.
    const crowd: WatcherCrowd = {
      clients: await Promise.all(
        Array.from({ length: plan.watchers.clients }, async (_, n) =>
          createClient(StalenessService, createGrpcTransport({ baseUrl: staleness.url, interceptors: await access!.watcherInterceptors(n) })),
        ),
      ),
      streamsPerClient: plan.watchers.streams,
      projectIds: Array.from({ length: dataset.shape.projects }, (_, k) => projectIdOf(k)),
    };
    log(`measuring detection (${plan.detectionSamples} publishes of ${lora}, ${plan.watchers.clients * plan.watchers.streams} WatchStaleness streams open)`);
    const detection = await measureDetection({
      crowd,
      nc: nats.nc,
      namespace: nats.namespace,
      assets: assetClient,
      staleness: stalenessClient,
      assetId: lora,
      samples: plan.detectionSamples,
      runId,
      detectorIdle: async () => {
        const deadline = Date.now() + 120_000;
        while ((await db.query(`SELECT count(*)::int AS n FROM staleness.detection_tasks WHERE finished_at IS NULL`)).rows[0].n > 0) {
          if (Date.now() > deadline) throw new Error("the staleness detector did not finish its tasks within 120 s");
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    });
    log(
      `  NATS p50 ${detection.nats.p50} p99 ${detection.nats.p99} ms, last project p99 ${detection.natsAllProjects.p99} ms; ` +
        `WatchStaleness p99 ${detection.watch.p99} ms, last of ${detection.openStreams} streams p99 ${detection.watchAllStreams?.p99} ms; ` +
        `${detection.samples} samples, ${detection.nats.errors} publishes not seen on both, all-projects watcher reconnected ${detection.watchReconnects}×`,
    );

    // 5. Ingestion latency at fixed offered rates, new receipts after the load: the batch path at fractions of the
    //    load rate (calls of RATE_BATCH receipts), and the single calls a pipeline makes per generation.
    sampler.enter("ingest-rates");
    let nextReceipt = opts.receipts;
    const ingestion: IngestionRate[] = [];
    for (const fraction of [0.25, 0.5, 0.75]) {
      const receiptsPerSecond = Math.max(RATE_BATCH, Math.round(load.receiptsPerSecond * fraction));
      log(`measuring CreateReceipts+CompleteReceipts (${RATE_BATCH} per call) at ${receiptsPerSecond} receipts/s for ${plan.rateSeconds} s`);
      const { stats, cpuMsPerCall } = await withCpu(() =>
        measureAtRate(receiptsPerSecond / RATE_BATCH, plan.rateSeconds, () => {
          const first = nextReceipt;
          nextReceipt += RATE_BATCH;
          return writeReceiptBatch(receiptClient, dataset, first, RATE_BATCH, `${runId}-rate-r`);
        }),
      );
      ingestion.push({ ...stats, path: "batch", receiptsPerCall: RATE_BATCH, cpuMsPerCall });
      log(
        `  achieved ${Math.round(stats.achievedPerSecond * RATE_BATCH)} receipts/s, p50 ${stats.p50} p99 ${stats.p99} ms per batch pair; ` +
          `CPU ms per batch pair ${JSON.stringify(cpuMsPerCall)}`,
      );
    }
    for (const rate of SINGLE_RATES) {
      log(`measuring CreateReceipt+CompleteReceipt at ${rate}/s for ${plan.rateSeconds} s`);
      const { stats, cpuMsPerCall } = await withCpu(() =>
        measureAtRate(rate, plan.rateSeconds, () => {
          const i = nextReceipt++;
          return writeReceipt(receiptClient, dataset.receipt(i), `${runId}-rate-r${i}`);
        }),
      );
      ingestion.push({ ...stats, path: "single", receiptsPerCall: 1, cpuMsPerCall });
      log(`  achieved ${stats.achievedPerSecond}/s, p50 ${stats.p50} p99 ${stats.p99} ms; CPU ms per pair ${JSON.stringify(cpuMsPerCall)}`);
    }
    // 6. Plan and submit the regeneration of a project whose every segment is stale.
    sampler.enter("plan-submit");
    log(`measuring PlanRegeneration and SubmitRegeneration of a project with ${plan.regenSegments} stale segments`);
    const planning = await measurePlanning({
      receipts: receiptClient,
      assets: assetClient,
      staleness: stalenessClient,
      regeneration: regenerationClient,
      dataset,
      segments: plan.regenSegments,
      first: nextReceipt,
      runId,
      caughtUp: () => waitForProjection(nats.nc, nats.namespace, db, 10 * 60_000),
      planCalls: plan.planCalls,
    });
    nextReceipt += plan.regenSegments;
    log(`  plan p50 ${planning.plan.p50} ms (${planning.plannedJobs} jobs); submit ${planning.submit.p50} ms (${planning.submittedJobs} jobs)`);

    // 7. Scale-out: the same load through one replica of the receipts service, then through two.
    sampler.enter("scale-out");
    const scaleOut: ScaleOut = { receipts: plan.scaleOutReceipts, concurrencyPerReplica: opts.loadConcurrency, batchSize: opts.batchSize, receiptsPerSecond: {} };
    const oneReplica = await loadReceipts(receiptClient, dataset, plan.scaleOutReceipts, opts.loadConcurrency, opts.batchSize, runId, nextReceipt, "one replica");
    nextReceipt += plan.scaleOutReceipts;
    scaleOut.receiptsPerSecond["1"] = oneReplica.receiptsPerSecond;
    await waitForProjection(nats.nc, nats.namespace, db, 10 * 60_000);
    const secondPort = (await allocatePorts()).receipts;
    const receipts2 = await startServiceProcess("receipts", env, { label: "receipts-2", port: secondPort });
    processes.push(receipts2);
    sampler.add(receipts2);
    const receiptClient2: Client<typeof ReceiptService> = createClient(ReceiptService, createGrpcTransport({ baseUrl: receipts2.url, interceptors }));
    const twoReplicas = await loadReceipts([receiptClient, receiptClient2], dataset, plan.scaleOutReceipts, opts.loadConcurrency, opts.batchSize, runId, nextReceipt, "two replicas");
    nextReceipt += plan.scaleOutReceipts;
    scaleOut.receiptsPerSecond["2"] = twoReplicas.receiptsPerSecond;
    scaleOut.ratio = Math.round((twoReplicas.receiptsPerSecond / oneReplica.receiptsPerSecond) * 100) / 100;
    log(`  one replica ${oneReplica.receiptsPerSecond} receipts/s, two ${twoReplicas.receiptsPerSecond} receipts/s (×${scaleOut.ratio})`);
    await receipts2.stop();
    await waitForProjection(nats.nc, nats.namespace, db, 10 * 60_000);

    // 8. What the receipt log costs the write path: the same load through one replica with the log's queue triggers
    //    disabled (as the owner, on this throw-away database), against the one-replica load above with them on.
    //    The integrator then finds nothing queued; the receipts written meanwhile are never logged.
    sampler.enter("log-off");
    const logTriggers = ["generation_receipts_log_created", "generation_receipts_log_completed"];
    for (const t of logTriggers) await db.query(`ALTER TABLE receipts.generation_receipts DISABLE TRIGGER ${t}`);
    let logOff;
    try {
      logOff = await loadReceipts(receiptClient, dataset, plan.scaleOutReceipts, opts.loadConcurrency, opts.batchSize, runId, nextReceipt, "receipt log off");
    } finally {
      for (const t of logTriggers) await db.query(`ALTER TABLE receipts.generation_receipts ENABLE TRIGGER ${t}`);
    }
    nextReceipt += plan.scaleOutReceipts;
    const receiptLogCost = {
      receipts: plan.scaleOutReceipts,
      logOnReceiptsPerSecond: oneReplica.receiptsPerSecond,
      logOffReceiptsPerSecond: logOff.receiptsPerSecond,
      drop: Math.round((1 - oneReplica.receiptsPerSecond / logOff.receiptsPerSecond) * 1000) / 1000,
    };
    log(`  receipt log off ${logOff.receiptsPerSecond} receipts/s, on ${oneReplica.receiptsPerSecond} receipts/s (drop ${Math.round(receiptLogCost.drop * 1000) / 10}%)`);

    sampler.enter("drain");
    await waitForProjection(nats.nc, nats.namespace, db, 10 * 60_000);
    await sampler.stop();

    return {
      date: started.toISOString(),
      code,
      command: opts.command,
      machine: await machineInfo(db),
      sizes: { ...sizes, shape: dataset.shape, assets: dataset.assets.length, assetVersions: versions },
      load: {
        ...load,
        catchUpSeconds,
        referenceLoadSeconds,
        cpuSeconds: loadCpu,
        cpuMsPerReceipt,
        dbPerReceipt,
        path: `CreateReceipts + CompleteReceipts over gRPC (HTTP/2), ${load.batchSize} receipts per call`,
      },
      queries: comparisons,
      staleAgreement,
      detection,
      ingestion: { loadReceiptsPerSecond: load.receiptsPerSecond, rates: ingestion },
      planning,
      scaleOut,
      receiptLogCost,
      memoryMiB: sampler.peaks,
      heapUsedMiB: sampler.heapAtEnd,
      plans: plansText,
      durationSeconds: Math.round((Date.now() - started.getTime()) / 1000),
    };
  } finally {
    await sampler?.stop();
    for (const p of processes.reverse()) await p.stop().catch(() => undefined);
    await access?.close().catch(() => undefined);
    await db.end().catch(() => undefined);
    await nats.cleanup().catch(() => undefined);
    if (opts.keepDatabase) log(`kept database ${database.url}`);
    else await database.drop().catch(() => undefined);
  }
}

/** Row counts of what was loaded, and the sizes of the two measured projects. */
async function datasetSizes(db: pg.Pool) {
  const one = async (sql: string, params: unknown[] = []) => Number((await db.query(sql, params)).rows[0].n);
  return {
    receipts: await one(`SELECT count(*) AS n FROM receipts.generation_receipts`),
    segments: await one(`SELECT count(*) AS n FROM receipts.segments`),
    receiptInputs: await one(`SELECT count(*) AS n FROM receipts.receipt_inputs`),
    projects: await one(`SELECT count(DISTINCT project_id) AS n FROM receipts.segments`),
    scenes: await one(`SELECT count(DISTINCT scene_id) AS n FROM receipts.segments`),
    projectedSegments: await one(`SELECT count(*) AS n FROM staleness.segments`),
    bigProjectSegments: await one(`SELECT count(*) AS n FROM receipts.segments WHERE project_id = $1`, [projectIdOf(0)]),
    typicalProjectSegments: await one(`SELECT count(*) AS n FROM receipts.segments WHERE project_id = $1`, [projectIdOf(1)]),
  };
}

/** The commit the services were built from, and how many of their files differ from it. */
async function codeVersion(): Promise<{ commit: string; uncommittedFiles: number }> {
  const { execFile } = await import("node:child_process");
  const git = (args: string[]) =>
    new Promise<string>((resolve) => execFile("git", args, { cwd: REPO_ROOT }, (err, out) => resolve(err ? "" : out.trim())));
  const commit = await git(["rev-parse", "--short", "HEAD"]);
  const dirty = await git(["status", "--porcelain", "--", "services", "packages/shared"]);
  return { commit: commit || "unknown", uncommittedFiles: dirty ? dirty.split("\n").length : 0 };
}

/** Cumulative commits and row changes of one database (pg_stat_database). */
async function databaseCounters(db: pg.Pool, name: string): Promise<Record<string, number>> {
  const { rows } = await db.query(
    `SELECT xact_commit AS commits, tup_inserted AS inserted, tup_updated AS updated, tup_deleted AS deleted,
            tup_fetched AS fetched FROM pg_stat_database WHERE datname = $1`,
    [name],
  );
  return Object.fromEntries(Object.entries(rows[0] as Record<string, string>).map(([k, v]) => [k, Number(v)]));
}
