// Measures detection after PublishVersion of a widely used LoRA at the 1M-receipt shape (a measurement, not a test).
//
// Fills a fresh database (the staleness migrations, run by starting the built service once) straight with SQL,
// without the services' write path: `--projects` projects, the first with `--big` segments and the others sharing the
// rest of `--segments`, ~50 segments a scene, ~5.6 active inputs a segment; `lora-000` (shared, v1-v3, v3 current) is
// an input of ~53 % of the segments, ~30 % of those with the hash of an older version; `model-wan` is on its older v2
// in ~45 % (stale in a report, not part of the detection). Then VACUUM ANALYZE, starts
// the built service as its own process (dist/main.js, the env the tests give it), subscribes to
// `provenance.staleness.detected.>`, calls PublishVersion(lora-000, v4) and prints, from the call's start: the first
// and the last project's event on NATS, how many projects got one (each exactly once?), the totals they carry, the
// events' detection_latency_ms, and the service's RSS (sampled every 20 ms, and VmHWM) before, during and after.
//
//   npm run build -w @provenance/shared && npm run build -w @provenance/staleness
//   node services/staleness/scripts/detection-at-scale.mjs [--segments 1000000] [--projects 200] [--big 100000] [--publishes 1]
//     [--watchers 1000] [--reports 0] [--db NAME]
//
// `--watchers N` opens N WatchStaleness streams (gRPC, 100 per connection) before publishing, spread over the projects
// (stream k watches project k mod projects), each read as it arrives; the last watcher's change is reported too.
//
// `--reports N` first times N GetStalenessReport calls of the biggest project (gRPC, one in flight, after 5 warm-up
// calls) and prints their p50 and p99 and how many segment ids the answer lists; `--publishes 0 --watchers 0` then
// measures only that.
//
// Filling takes minutes at 1M. `--db NAME` keeps the data in database NAME: created, migrated and filled when it does
// not exist, used as it is when it does (each run publishes the next versions of lora-000), never dropped (drop it
// yourself: `dropdb -h 127.0.0.1 -U root NAME`).
/* global AbortController */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { clearInterval, setInterval } from "node:timers";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { fromBinary } from "@bufbuild/protobuf";
import { AssetService, StalenessService, EVENT_MESSAGES, STALENESS_DETECTED_PREFIX, subjectFor } from "@provenance/shared";
import { createTestEnvironment } from "@provenance/shared/testing";
import { migrateStaleness } from "../dist/start.js";

const { values: args } = parseArgs({
  options: {
    segments: { type: "string", default: "1000000" },
    projects: { type: "string", default: "200" },
    big: { type: "string", default: "100000" },
    publishes: { type: "string", default: "1" },
    db: { type: "string" },
    watchers: { type: "string", default: "1000" },
    reports: { type: "string", default: "0" },
  },
});
const segments = Number(args.segments);
const projects = Number(args.projects);
const big = Number(args.big);
const publishes = Number(args.publishes);
const watchers = Number(args.watchers);
const reports = Number(args.reports);
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

const hash = (text) => `md5('${text}') || md5('${text}-2')`;

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

async function fill(sql) {
  const t0 = performance.now();
  const small = Math.floor((segments - big) / (projects - 1));
  // Segment n: project 0 for n < big, else 1 + (n - big) % (projects - 1); its rank within the project picks the scene.
  await sql.query(`SET maintenance_work_mem = '256MB'`);
  await sql.query(`ALTER TABLE staleness.segment_inputs SET (autovacuum_enabled = false)`);
  await sql.query(`ALTER TABLE staleness.segments SET (autovacuum_enabled = false)`);
  await sql.query(`
    INSERT INTO staleness.assets (asset_id, kind, name, project_id)
    SELECT 'lora-' || lpad(k::text, 3, '0'), 'LORA', 'lora_' || k, NULL FROM generate_series(0, 39) k
    UNION ALL VALUES ('workflow-i2v', 'WORKFLOW', 'i2v', NULL), ('model-wan', 'MODEL', 'wan', NULL)`);
  await sql.query(`
    INSERT INTO staleness.asset_versions (asset_id, version, content_hash, uploaded_by, previous_version, is_current)
    SELECT a.asset_id, v, ${hash("' || a.asset_id || ' v' || v || '")}, 'bench', NULLIF(v - 1, 0), v = 3
      FROM staleness.assets a, generate_series(1, 3) v ORDER BY a.asset_id, v`);
  await sql.query(`
    CREATE TEMP TABLE seg AS
    SELECT n, 'seg-' || lpad(n::text, 7, '0') AS segment_id,
           'p-' || lpad(CASE WHEN n < ${big} THEN 0 ELSE 1 + (n - ${big}) % ${projects - 1} END::text, 3, '0') AS project_id,
           CASE WHEN n < ${big} THEN n ELSE (n - ${big}) / ${projects - 1} END AS rank
      FROM generate_series(0, ${segments - 1}) n`);
  await sql.query(`
    INSERT INTO staleness.segments (segment_id, project_id, scene_id, character_name, sequence_index, current_receipt_id, current_receipt_created_at)
    SELECT segment_id, project_id, project_id || '-scene-' || (rank / 50), 'anna', rank % 50, 'r-' || n, now() FROM seg`);
  // ~5.6 inputs a segment: source image, workflow, model (v2, not current, in 45 %), a variant image in 60 %, a LoRA of the pool, lora-000 in
  // 53 % (v3 in 70 % of those, v2 in 20 %, v1 in 10 %), and a second pool LoRA in the other 47 %.
  await sql.query(`
    INSERT INTO staleness.segment_inputs (segment_id, role, position, asset_id, content_hash, receipt_id, project_id, scene_id)
    SELECT s.segment_id, i.role, i.position, i.asset_id, i.content_hash, 'r-' || s.n, s.project_id, s.project_id || '-scene-' || (s.rank / 50)
      FROM seg s
      CROSS JOIN LATERAL (
        SELECT 'source_image', 0, s.project_id || '-src-' || (s.n % 500), ${hash("src' || (s.n % 500) || '")}
        UNION ALL SELECT 'workflow', 0, 'workflow-i2v', ${hash("workflow-i2v v3")}
        UNION ALL SELECT 'model', 0, 'model-wan', ${hash("model-wan v' || CASE WHEN (s.n * 11) % 20 < 9 THEN 2 ELSE 3 END || '")}
        UNION ALL SELECT 'variant_image', 0, s.project_id || '-var-' || (s.n % 500), ${hash("var' || (s.n % 500) || '")} WHERE s.n % 5 < 3
        UNION ALL SELECT 'lora', 0, 'lora-' || lpad((1 + s.n % 39)::text, 3, '0'), ${hash("lora-' || lpad((1 + s.n % 39)::text, 3, '0') || ' v3")}
        UNION ALL SELECT 'lora', 1, 'lora-000', ${hash("lora-000 v' || CASE WHEN (s.n * 7) % 10 < 7 THEN 3 WHEN (s.n * 7) % 10 < 9 THEN 2 ELSE 1 END || '")}
         WHERE (s.n * 37) % 100 < 53
        UNION ALL SELECT 'lora', 1, 'lora-' || lpad((1 + (s.n + 7) % 39)::text, 3, '0'), ${hash("lora-' || lpad((1 + (s.n + 7) % 39)::text, 3, '0') || ' v3")}
         WHERE (s.n * 37) % 100 >= 53
      ) AS i(role, position, asset_id, content_hash)`);
  await sql.query(`VACUUM ANALYZE staleness.segments, staleness.segment_inputs, staleness.assets, staleness.asset_versions`);
  const [c] = (
    await sql.query(`SELECT (SELECT count(*) FROM staleness.segments)::int AS segments, (SELECT count(*) FROM staleness.segment_inputs)::int AS inputs,
                            (SELECT count(DISTINCT segment_id) FROM staleness.segment_inputs WHERE asset_id = 'lora-000')::int AS lora_segments,
                            (SELECT count(DISTINCT project_id) FROM staleness.segment_inputs WHERE asset_id = 'lora-000')::int AS lora_projects`)
  ).rows;
  console.log(`filled in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(c)} (small projects ~${small} segments)`);
  return c;
}

async function counts(sql) {
  const [c] = (
    await sql.query(`SELECT (SELECT count(DISTINCT segment_id) FROM staleness.segment_inputs WHERE asset_id = 'lora-000' AND active)::int AS lora_segments,
                            (SELECT count(DISTINCT project_id) FROM staleness.segment_inputs WHERE asset_id = 'lora-000' AND active)::int AS lora_projects,
                            (SELECT max(version) FROM staleness.asset_versions WHERE asset_id = 'lora-000')::int AS lora_versions`)
  ).rows;
  return c;
}

const env = await createTestEnvironment({ name: "detection_bench", logLevel: "warn" });
const { nats } = env;
try {
  // The database the data is in: the environment's, or the kept one named by --db.
  const dbName = args.db ?? env.db.name;
  const onDb = (value) => value.replaceAll(`/${env.db.name}`, `/${dbName}`);
  const serviceEnv = Object.fromEntries(Object.entries(env.env("staleness")).map(([k, v]) => [k, onDb(v)]));
  let sql = env.sql;
  let fresh = true;
  if (args.db) {
    const { rows } = await env.sql.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [dbName]);
    fresh = rows.length === 0;
    if (fresh) await env.sql.query(`CREATE DATABASE ${dbName}`);
    sql = new pg.Client({ connectionString: onDb(env.db.url) });
    await sql.connect();
    env.onClose(() => sql.end());
  }
  if (fresh) {
    await migrateStaleness(env.config("staleness", { DATABASE_URL: serviceEnv.DATABASE_URL, MIGRATION_DATABASE_URL: serviceEnv.MIGRATION_DATABASE_URL }), env.logger("migrate"));
    await fill(sql);
  }
  const expected = await counts(sql);
  console.log(`lora-000: ${JSON.stringify(expected)}`);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, ...serviceEnv, PORT: String(port), LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", WATCH_MAX_STREAMS_PER_CALLER: String(Math.max(100, watchers)) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  env.onClose(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  });
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 600) throw new Error("the service did not start");
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 1000));
  console.log(`service pid ${child.pid} up: RSS ${rssOf(child.pid).rss.toFixed(0)} MiB`);

  if (reports > 0) {
    const client = env.client(StalenessService, url);
    const times = [];
    let ids = 0;
    for (let i = 0; i < reports + 5; i++) {
      const t = performance.now();
      const report = await client.getStalenessReport({ projectId: "p-000" });
      if (i >= 5) times.push(performance.now() - t);
      ids = report.byAsset.reduce((n, g) => n + g.segmentIds.length, 0);
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(1);
    console.log(`GetStalenessReport of p-000 (${reports} calls, one in flight): ${ids} segment ids, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
  }

  const assets = env.client(AssetService, url);
  // The watchers: each stream records when each change reached it.
  const watchAbort = new AbortController();
  const watchArrivals = [];
  let watchErrors = 0;
  let watchT0 = 0;
  const watchClients = Array.from({ length: Math.ceil(watchers / 100) }, () => env.client(StalenessService, url));
  const streams = Array.from({ length: watchers }, (_, k) =>
    (async () => {
      const projectId = `p-${String(k % projects).padStart(3, "0")}`;
      try {
        for await (const _res of watchClients[Math.floor(k / 100)].watchStaleness({ projectId }, { signal: watchAbort.signal })) {
          watchArrivals.push(performance.now() - watchT0);
        }
      } catch {
        if (!watchAbort.signal.aborted) watchErrors += 1;
      }
    })(),
  );
  env.onClose(async () => {
    watchAbort.abort();
    await Promise.allSettled(streams);
  });
  await new Promise((r) => setTimeout(r, 2000));
  if (watchers > 0) console.log(`${watchers} WatchStaleness streams open: RSS ${rssOf(child.pid).rss.toFixed(0)} MiB`);
  const schema = EVENT_MESSAGES[STALENESS_DETECTED_PREFIX];
  for (let p = 0; p < publishes; p++) {
    const arrivals = new Map();
    let totalStale = 0;
    let duplicates = 0;
    let latencies = [];
    let t0 = 0;
    let done;
    const allIn = new Promise((r) => (done = r));
    const sub = nats.nc.subscribe(subjectFor(nats.namespace, "provenance.staleness.detected.>"), {
      callback: (_err, msg) => {
        const at = performance.now() - t0;
        const ev = fromBinary(schema, msg.data);
        if (arrivals.has(ev.projectId)) duplicates += 1;
        else arrivals.set(ev.projectId, at);
        totalStale += ev.totalStaleSegments;
        latencies.push(ev.detectionLatencyMs);
        if (arrivals.size === expected.lora_projects) done();
      },
    });
    await nats.nc.flush();
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid).rss)), 20);
    // The service's own view every 100 ms: V8 heap in use, memory outside the heap, bytes held for streams.
    const inside = { heap: 0, external: 0, buffered: 0, waiting: 0 };
    const metricsSampler = setInterval(async () => {
      const text = await fetch(`${url}/metrics`).then((r) => r.text(), () => "");
      const read = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)`, "m").exec(text)?.[1] ?? 0);
      inside.heap = Math.max(inside.heap, read("nodejs_heap_size_used_bytes") / 2 ** 20);
      inside.external = Math.max(inside.external, read("nodejs_external_memory_bytes") / 2 ** 20);
      inside.buffered = Math.max(inside.buffered, read("staleness_watch_buffered_bytes") / 2 ** 20);
      inside.waiting = Math.max(inside.waiting, read("staleness_watch_waiting_streams"));
    }, 100);
    const before = rssOf(child.pid);
    watchArrivals.length = 0;
    t0 = performance.now();
    watchT0 = t0;
    await assets.publishVersion({ assetId: "lora-000", contentHash: "f".repeat(56) + String(10_000_000 + expected.lora_versions * 100 + p), uploadedBy: "bench" });
    const callMs = performance.now() - t0;
    await Promise.race([allIn, new Promise((r) => setTimeout(r, 120_000))]);
    for (let i = 0; i < 600 && watchArrivals.length < watchers; i++) await new Promise((r) => setTimeout(r, 100));
    const wallMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 3000));
    clearInterval(sampler);
    clearInterval(metricsSampler);
    sub.unsubscribe();
    const after = rssOf(child.pid);
    const times = [...arrivals.values()].sort((a, b) => a - b);
    latencies = latencies.sort((a, b) => a - b);
    console.log(
      `publish ${p + 1}: call ${callMs.toFixed(0)} ms; events of ${arrivals.size}/${expected.lora_projects} projects (duplicates ${duplicates}); ` +
        `first ${times[0]?.toFixed(0)} ms, median ${times[Math.floor(times.length / 2)]?.toFixed(0)} ms, last ${times.at(-1)?.toFixed(0)} ms ` +
        `(waited ${wallMs.toFixed(0)} ms); total stale segments ${totalStale} (expected ${expected.lora_segments}); ` +
        `detection_latency_ms max ${latencies.at(-1)}; watchers: ${watchArrivals.length}/${watchers} changes, last ` +
        `${watchArrivals.length ? Math.max(...watchArrivals).toFixed(0) : "-"} ms, ${watchErrors} streams failed; RSS MiB before ${before.rss.toFixed(0)}, peak sampled ${peak.toFixed(0)}, ` +
        `3 s after ${after.rss.toFixed(0)}, VmHWM ${after.hwm.toFixed(0)}; peaks sampled from /metrics: heap in use ${inside.heap.toFixed(0)} MiB, ` +
        `external ${inside.external.toFixed(0)} MiB, held for streams ${inside.buffered.toFixed(1)} MiB with ${inside.waiting} streams waiting`,
    );
  }
} finally {
  await env.close();
}
