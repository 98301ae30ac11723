// Times PlanRegeneration and SubmitRegeneration of a whole project whose every segment is stale (a measurement, not a
// test): the staleness, receipts and regeneration services (built, dist/) started as the regeneration tests start them,
// in a scratch database and JetStream namespace of the shared test environment. The project gets `--segments`
// segments (one scene per 100), recorded through CreateReceipts + CompleteReceipts (1,000 a call), each naming v1 of
// the project's LoRA; then v2 of the LoRA is published (current), so every segment has one stale input. Times
// `--plans` PlanRegeneration calls of the whole project, one after another, then one SubmitRegeneration of it (which
// plans again and writes the batch, its jobs and one generation.jobs.requested per job), and checks what it wrote.
// The services run in this one process (one thread for all three and the client), so the times are upper bounds of
// what separate processes on more than one core would show.
//
//   npx turbo run build --filter=@provenance/regeneration...   (or npm run build -w each of shared, receipts, staleness, regeneration)
//   node services/regeneration/scripts/plan-and-submit.mjs [--segments 10000] [--plans 3]
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AssetKind,
  AssetService,
  JOB_REQUESTED,
  ReceiptService,
  ReceiptStatus,
  RegenerationService,
  StalenessService,
  streamName,
  subjectFor,
} from "@provenance/shared";
import { createTestEnvironment } from "@provenance/shared/testing";
import { startReceipts } from "@provenance/receipts/start";
import { startStaleness } from "@provenance/staleness/start";
import { startRegeneration } from "../dist/start.js";

const { values: args } = parseArgs({
  options: { segments: { type: "string", default: "10000" }, plans: { type: "string", default: "3" } },
});
const segmentCount = Number(args.segments);
const planCalls = Number(args.plans);
const BATCH = 1000;
const PROJECT = "proj-plan";
const LORA = "lora-plan";

const sha = (label) => createHash("sha256").update(label).digest("hex");
const ms = (t0) => Math.round((performance.now() - t0) * 10) / 10;

async function until(what, check, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const env = await createTestEnvironment({ name: "plan_submit" });
try {
  const running = await env.startServices({ staleness: startStaleness, receipts: startReceipts, regeneration: startRegeneration });
  const receipts = env.client(ReceiptService, running.receipts.url);
  const assets = env.client(AssetService, running.staleness.url);
  const staleness = env.client(StalenessService, running.staleness.url);
  const regeneration = env.client(RegenerationService, running.regeneration.url);

  const refs = {};
  for (const [assetId, kind, projectId] of [
    [LORA, AssetKind.LORA, PROJECT],
    ["src-plan", AssetKind.SOURCE_IMAGE, PROJECT],
    ["wf-plan", AssetKind.WORKFLOW, ""],
    ["model-plan", AssetKind.MODEL, ""],
  ]) {
    await assets.registerAsset({ assetId, kind, name: assetId, projectId });
    const { version } = await assets.publishVersion({ assetId, contentHash: sha(`${assetId} v1`), uploadedBy: "script", makeCurrent: true });
    refs[assetId] = { assetId, contentHash: sha(`${assetId} v1`), version: version.version };
  }

  const t0 = performance.now();
  for (let first = 0; first < segmentCount; first += BATCH) {
    const n = Math.min(BATCH, segmentCount - first);
    const requests = Array.from({ length: n }, (_, k) => {
      const i = first + k;
      return {
        segmentId: `plan-seg-${i}`,
        sceneId: `plan-scene-${Math.floor(i / 100)}`,
        projectId: PROJECT,
        characterName: "anna",
        sequenceIndex: i % 100,
        sourceImage: refs["src-plan"],
        workflow: refs["wf-plan"],
        model: refs["model-plan"],
        loras: [{ asset: refs[LORA], weight: 0.8 }],
        workflowVersion: "i2v-3",
        promptText: `anna, shot ${i}`,
        cfgScale: 6.5,
        seed: BigInt(i),
        steps: 28,
        sampler: "euler",
        resolutionWidth: 832,
        resolutionHeight: 480,
        generationStartedAt: timestampFromDate(new Date(Date.UTC(2026, 10, 1, 10, 0, 0))),
        idempotencyKey: `plan-${i}`,
      };
    });
    const { results } = await receipts.createReceipts({ receipts: requests });
    await receipts.completeReceipts({
      receipts: results.map((r, k) => ({
        receiptId: r.receipt.receiptId,
        status: ReceiptStatus.SUCCEEDED,
        generationCompletedAt: timestampFromDate(new Date(Date.UTC(2026, 10, 1, 10, 1, k % 60))),
        outputHash: sha(`out ${first + k}`),
      })),
    });
  }
  const recordedMs = ms(t0);
  const report = () => staleness.getStalenessReport({ projectId: PROJECT });
  await until("the projection to see every segment", async () => (await report()).totalActiveSegments === segmentCount);
  // Autovacuum analyzes tables this size within a minute of loading them; analyze now so the statements are planned
  // with statistics, as they would be on a database in use (and not with the guesses of an empty table's).
  await env.sql.query("ANALYZE");
  const t1 = performance.now();
  await assets.publishVersion({ assetId: LORA, contentHash: sha(`${LORA} v2`), uploadedBy: "script", makeCurrent: true });
  await until("every segment to be stale", async () => (await report()).totalStaleSegments === segmentCount);
  const detectedMs = ms(t1);

  const plans = [];
  let plannedJobs = 0;
  for (let i = 0; i < planCalls; i++) {
    const t = performance.now();
    const plan = await regeneration.planRegeneration({ projectId: PROJECT });
    plans.push(ms(t));
    plannedJobs = plan.jobs.length;
  }
  const t2 = performance.now();
  const submitted = await regeneration.submitRegeneration({ projectId: PROJECT, idempotencyKey: `plan-submit-${Date.now()}` });
  const submitMs = ms(t2);

  const { rows } = await env.sql.query(
    `SELECT (SELECT count(*) FROM regeneration.jobs WHERE batch_id = $1)::int AS jobs,
            (SELECT count(DISTINCT old_segment_id) FROM regeneration.jobs WHERE batch_id = $1)::int AS segments`,
    [submitted.batch.batchId],
  );
  // Every job's generation.jobs.requested, once the relay has published the outbox.
  await until("the regeneration outbox to drain", async () => (await env.sql.query("SELECT count(*)::int AS n FROM regeneration.outbox")).rows[0].n === 0);
  const info = await env.nats.jsm.streams.info(streamName(env.nats.namespace, "GENERATION"), {
    subjects_filter: subjectFor(env.nats.namespace, JOB_REQUESTED),
  });
  const jobRequested = Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  console.log(
    JSON.stringify(
      {
        segments: segmentCount,
        recordedMs,
        detectedMs,
        plannedJobs,
        planMs: plans,
        submitMs,
        submittedJobs: submitted.jobs.length,
        created: submitted.created,
        jobRows: rows[0].jobs,
        jobSegments: rows[0].segments,
        generationStreamMessages: jobRequested,
      },
      null,
      2,
    ),
  );
} finally {
  await env.close();
}
