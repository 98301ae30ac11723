// Measures how fast the staleness projection catches up with a backlog of receipt events (a measurement, not a test).
//
// Publishes `--receipts` receipts (created + completed each, 5-6 inputs, 5 % FAILED, 5 % retries of an earlier segment,
// 5 % regenerations superseding one) to a fresh JetStream namespace while the staleness service is stopped, starts the
// built service (dist/) and times until its projection's lag is 0. `--pg-load N` keeps N extra connections inserting
// into the same PostgreSQL meanwhile, a stand-in for the receipts service's writes. Prints events/s, CPU seconds of
// the service process and of its PostgreSQL backends, and checksums of the projection (receipt ids are deterministic,
// so two code versions can be compared on the same data).
//
//   npm run build -w @provenance/shared && npm run build -w @provenance/staleness
//   node services/staleness/scripts/projection-catch-up.mjs --receipts 25000 [--pg-load 2]
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import pg from "pg";
import {
  ReceiptCompletedSchema,
  ReceiptCreatedSchema,
  ReceiptSchema,
  ReceiptStatus,
  createLogger,
  subjectFor,
} from "@provenance/shared";
import { createTestEnvironment } from "@provenance/shared/testing";
import { startStaleness } from "../dist/start.js";

const { values: args } = parseArgs({
  options: {
    receipts: { type: "string", default: "25000" },
    "pg-load": { type: "string", default: "0" },
  },
});
const receiptCount = Number(args.receipts);
const pgLoad = Number(args["pg-load"]);

const hex = (n) => {
  let s = "";
  for (let i = 0; i < 64; i++) s += "0123456789abcdef"[(n * 7919 + i * 31) % 16];
  return s;
};
const ref = (assetId, version) => ({ assetId, contentHash: hex(version * 1_000 + assetId.length), version });

/** The receipts of the backlog, in the order the receipts service would have written them. */
function receipts() {
  const out = [];
  const t0 = Date.UTC(2026, 10, 1);
  for (let i = 0; i < receiptCount; i++) {
    // One receipt in twenty is a retry (a later receipt of an earlier segment), one in twenty a regeneration (a new
    // segment superseding an earlier one when it succeeds); both in the place (project, scene) of that earlier one.
    const retry = i > 200 && i % 20 === 0;
    const regen = i > 200 && i % 20 === 10;
    const seg = retry ? `seg-${i - 105}` : `seg-${i}`;
    const place = retry || regen ? i - 105 : i;
    const project = `bench-p${place % 10}`;
    const lora = (n) => ({ asset: ref(`${project}-lora-${(i + n) % 40}`, 1 + (i % 3)), weight: 0.8 });
    out.push(
      create(ReceiptSchema, {
        // Deterministic ids, so the projection's checksum can be compared between runs (and code versions).
        receiptId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        segmentId: seg,
        sceneId: `${project}-scene-${Math.floor(place / 50) % 200}`,
        projectId: project,
        characterName: "anna",
        sequenceIndex: place % 50,
        sourceImage: ref(`${project}-src-${i % 500}`, 1),
        variantImage: i % 2 === 0 ? ref(`${project}-variant-${i % 500}`, 1 + (i % 2)) : undefined,
        workflow: ref("workflow-i2v", 3),
        model: ref("model-wan", 2),
        loras: i % 3 === 0 ? [lora(0), lora(1)] : [lora(0)],
        workflowVersion: "i2v-3",
        promptText: "anna walks along the pier at dusk, cinematic lighting, slow dolly in, 35mm film grain",
        negativePrompt: "blurry, extra limbs, watermark",
        cfgScale: 7,
        seed: BigInt(i),
        steps: 30,
        sampler: "euler",
        resolutionWidth: 832,
        resolutionHeight: 480,
        additionalParams: { motion_bucket: 127, fps: 16 },
        inputsHash: hex(i),
        status: i % 20 === 7 ? ReceiptStatus.FAILED : ReceiptStatus.SUCCEEDED,
        generationStartedAt: timestampFromDate(new Date(t0 + i * 10)),
        generationCompletedAt: timestampFromDate(new Date(t0 + i * 10 + 5_000)),
        generationDurationMs: 5_000n,
        outputHash: hex(i + 1),
        supersedesSegmentId: regen ? `seg-${i - 105}` : "",
        idempotencyKey: `bench-${i}`,
        createdAt: timestampFromDate(new Date(t0 + i * 10)),
      }),
    );
  }
  return out;
}

/** Publishes created events for 100 receipts, then their completed events, chunk by chunk, up to 1,000 in flight. */
async function publishBacklog(nats) {
  const all = receipts();
  let inFlight = [];
  const send = async (subject, data, msgID) => {
    inFlight.push(nats.js.publish(subjectFor(nats.namespace, subject), data, { msgID }));
    if (inFlight.length >= 1_000) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  };
  for (let c = 0; c < all.length; c += 100) {
    const chunk = all.slice(c, c + 100);
    for (const r of chunk) {
      const eventId = randomUUID();
      const running = { ...r, status: ReceiptStatus.RUNNING, generationCompletedAt: undefined, outputHash: "", generationDurationMs: 0n };
      await send("provenance.receipt.created", toBinary(ReceiptCreatedSchema, create(ReceiptCreatedSchema, { eventId, receipt: running })), eventId);
    }
    for (const r of chunk) {
      const eventId = randomUUID();
      const superseded = r.status === ReceiptStatus.SUCCEEDED ? r.supersedesSegmentId : "";
      const completed = create(ReceiptCompletedSchema, { eventId, receipt: r, supersededSegmentId: superseded });
      await send("provenance.receipt.completed", toBinary(ReceiptCompletedSchema, completed), eventId);
    }
  }
  await Promise.all(inFlight);
  return all.length * 2;
}

/** N connections inserting 200-row transactions into a scratch table until stopped. */
function startWriteLoad(url, n) {
  let running = n > 0;
  const clients = [];
  const loops = [];
  const setup = (async () => {
    if (n === 0) return;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE TABLE IF NOT EXISTS public.write_load (id bigserial PRIMARY KEY, k text NOT NULL, body text NOT NULL)`);
    await admin.query(`CREATE INDEX IF NOT EXISTS write_load_k_idx ON public.write_load (k)`);
    await admin.end();
    for (let i = 0; i < n; i++) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      clients.push(c);
      loops.push(
        (async () => {
          while (running) {
            await c.query(
              `INSERT INTO public.write_load (k, body) SELECT md5(random()::text), repeat(md5(random()::text), 16) FROM generate_series(1, 200)`,
            );
          }
        })(),
      );
    }
  })();
  return async () => {
    running = false;
    await setup;
    await Promise.all(loops);
    await Promise.all(clients.map((c) => c.end()));
  };
}

/** CPU seconds used so far by the other backends connected to the test database (when PostgreSQL is local and /proc readable). */
async function backendCpuSeconds(testDb) {
  const sql = new pg.Client({ connectionString: testDb.url });
  await sql.connect();
  try {
    const { rows } = await sql.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [testDb.name]);
    const ticks = rows.map((r) => {
      const fields = readFileSync(`/proc/${r.pid}/stat`, "utf8").split(") ")[1].split(" ");
      return Number(fields[11]) + Number(fields[12]);
    });
    return ticks.reduce((a, b) => a + b, 0) / 100;
  } catch {
    return undefined;
  } finally {
    await sql.end();
  }
}

// A fresh database (the service logs in as staleness_app), namespace and local issuer, as the tests have them.
const env = await createTestEnvironment({ name: "projection_bench", logLevel: "warn" });
const { db, nats } = env;
const logger = createLogger("staleness", process.env.LOG_LEVEL ?? "warn");
const config = env.config("staleness");
try {
  // Migrate and create the durable, then stop, so the backlog waits for it.
  await (await startStaleness(config, logger)).stop();
  const tPub = performance.now();
  const events = await publishBacklog(nats);
  console.log(`published ${events} events in ${((performance.now() - tPub) / 1000).toFixed(1)} s to namespace ${nats.namespace}`);

  const stopLoad = startWriteLoad(db.url, pgLoad);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const service = await startStaleness(config, logger);
  let lag = await service.projectionLag();
  while (lag > 0) {
    await new Promise((r) => setTimeout(r, 100));
    lag = await service.projectionLag();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await stopLoad();
  // The load's connections are closed: what is left is the service's pool.
  const pgCpu = await backendCpuSeconds(db);
  await service.stop();

  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  const counts = (
    await sql.query(
      `SELECT (SELECT count(*) FROM staleness.segments)::int AS segments,
              (SELECT count(*) FROM staleness.segments WHERE current_receipt_id IS NOT NULL)::int AS current,
              (SELECT count(*) FROM staleness.segments WHERE superseded_by_segment_id IS NOT NULL)::int AS superseded,
              (SELECT count(*) FROM staleness.segment_inputs)::int AS inputs,
              (SELECT count(*) FROM staleness.segment_inputs WHERE active)::int AS active_inputs,
              (SELECT count(*) FROM staleness.inbox)::int AS inbox,
              (SELECT md5(string_agg(concat_ws('|', segment_id, project_id, scene_id, character_name, sequence_index,
                                               superseded_by_segment_id, current_receipt_id, current_receipt_created_at), ',' ORDER BY segment_id))
                 FROM staleness.segments) AS segments_md5,
              (SELECT md5(string_agg(concat_ws('|', segment_id, role, position, asset_id, content_hash, receipt_id, project_id,
                                               scene_id, active), ',' ORDER BY segment_id, role, position))
                 FROM staleness.segment_inputs) AS inputs_md5`,
    )
  ).rows[0];
  await sql.end();
  console.log(
    `caught up with ${events} events in ${seconds.toFixed(2)} s = ${Math.round(events / seconds)} events/s ` +
      `(pg-load ${pgLoad}; CPU: service process ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s, its PostgreSQL backends ` +
      `${pgCpu === undefined ? "?" : pgCpu.toFixed(1)} s; ` +
      `1-min load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores)`,
  );
  console.log(`projection: ${JSON.stringify(counts)}`);
} finally {
  await env.close();
}
