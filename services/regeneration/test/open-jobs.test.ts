/**
 * The one-open-job-per-segment rule at its edges, on the regeneration service alone (real PostgreSQL, NATS and gRPC)
 * with stand-in planning sources that keep reporting a segment stale and active — as StalenessService and
 * ReceiptService do while they have not caught up: a submit blocked on a concurrent uncommitted job, a plan gone
 * stale between planning and the transaction, a submit racing a job's completion, a mismatched receipt still
 * running, a failed job retried by the pipeline, and the migration on a database that already holds the race's result.
 */
import { createHash, randomUUID } from "node:crypto";
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, type Client } from "@connectrpc/connect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AssetKind,
  AssetSchema,
  EVENT_MESSAGES,
  GENERATION_STREAM,
  SegmentCurrentReceiptSchema,
  InputRole,
  JobStatus,
  RECEIPT_COMPLETED,
  RECEIPT_CREATED,
  ReceiptSchema,
  ReceiptStatus,
  RegenerationService,
  StaleSegmentSchema,
  migrateDatabase,
  streamName,
  subjectFor,
  type Asset,
  type SegmentCurrentReceipt,
  type Receipt,
  type RegenerationJob,
  type StaleSegment,
} from "@provenance/shared";
import { createTestDatabase, createTestEnvironment, type TestDatabase, type TestEnvironment, type TestNats, failureOf as failure } from "@provenance/shared/testing";
import type { PlanSources } from "../src/clients/plan-sources.js";
import { REGENERATION_SCHEMA, regenerationMigrations } from "../src/persistence/migrations/index.js";
import { startRegeneration, type RunningRegeneration } from "../src/start.js";
import { eventually } from "./regeneration-harness.js";

const PROJECT = "p-open";
type ReceiptInit = MessageInitShape<typeof ReceiptSchema>;
const SCENE = "scene-open";
const sha = (label: string) => createHash("sha256").update(label).digest("hex");

/** The current receipt of a segment made with LoRA v1 (now stale: v2 is current). */
function receiptOf(segmentId: string, sequenceIndex: number): Receipt {
  return create(ReceiptSchema, {
    receiptId: `r-${segmentId}`,
    segmentId,
    sceneId: SCENE,
    projectId: PROJECT,
    characterName: "dee",
    sequenceIndex,
    sourceImage: { assetId: "src-dee", contentHash: sha("src dee"), version: 1 },
    workflow: { assetId: "wf-dee", contentHash: sha("wf dee"), version: 1 },
    model: { assetId: "model-dee", contentHash: sha("model dee"), version: 1 },
    loras: [{ asset: { assetId: "lora-dee", contentHash: sha("lora dee v1"), version: 1 }, weight: 0.5 }],
    workflowVersion: "i2v-3",
    promptText: `dee, shot ${sequenceIndex}`,
    seed: BigInt(sequenceIndex),
    steps: 20,
    sampler: "euler",
    resolutionWidth: 640,
    resolutionHeight: 360,
    status: ReceiptStatus.SUCCEEDED,
  });
}

/** Planning sources that report every segment in `segments` stale (the LoRA) and active, whatever has happened since. */
class LaggingSources implements PlanSources {
  readonly segments = new Map<string, number>();
  /** When set, the next provenance read waits for this before it answers (once). */
  gate: Promise<void> | undefined;
  /** Resolved when a gated read has started waiting. */
  private gateReached: (() => void) | undefined;

  add(...segmentIds: string[]): void {
    for (const id of segmentIds) this.segments.set(id, this.segments.size + 1);
  }

  /** Makes the next provenance read wait for `release`; resolves once a read is waiting. */
  holdNextRead(release: Promise<void>): Promise<void> {
    this.gate = release;
    return new Promise((resolve) => (this.gateReached = resolve));
  }

  async *staleSegmentPages(projectId: string): AsyncGenerator<StaleSegment[]> {
    if (projectId !== PROJECT) return;
    yield [...this.segments.keys()].map((segmentId) =>
      create(StaleSegmentSchema, {
        segmentId,
        sceneId: SCENE,
        projectId: PROJECT,
        receiptId: `r-${segmentId}`,
        reasons: [{ kind: AssetKind.LORA, role: InputRole.LORA, assetId: "lora-dee", assetName: "dee.safetensors", receiptVersion: 1, currentVersion: 2 }],
      }),
    );
  }

  async currentReceipts(segmentIds: readonly string[]): Promise<(SegmentCurrentReceipt | undefined)[]> {
    const gate = this.gate;
    if (gate) {
      this.gate = undefined;
      this.gateReached?.();
      await gate;
    }
    return segmentIds.map((segmentId) => {
      const seq = this.segments.get(segmentId);
      if (seq === undefined) return undefined;
      return create(SegmentCurrentReceiptSchema, {
        segment: { segmentId, sceneId: SCENE, projectId: PROJECT, characterName: "dee", sequenceIndex: seq, active: true },
        currentReceipt: receiptOf(segmentId, seq),
      });
    });
  }

  async assets(assetIds: readonly string[]): Promise<(Asset | undefined)[]> {
    return assetIds.map((assetId) =>
      assetId === "lora-dee" ? create(AssetSchema, { assetId, kind: AssetKind.LORA, name: "dee.safetensors", currentVersion: 2, currentContentHash: sha("lora dee v2") }) : undefined,
    );
  }
}

let env: TestEnvironment;
let db: TestDatabase;
let nats: TestNats;
let sql: pg.Client;
let service: RunningRegeneration;
let regen: Client<typeof RegenerationService>;
const sources = new LaggingSources();

beforeAll(async () => {
  env = await createTestEnvironment({ name: "regeneration_open" });
  ({ db, nats, sql } = env);
  service = await env.start("regeneration", (config, logger) => startRegeneration(config, logger, { sources }));
  regen = env.client(RegenerationService, service.url);
});
afterAll(async () => {
  await env?.close();
});

const submit = (segmentIds: string[], idempotencyKey: string) => regen.submitRegeneration({ projectId: PROJECT, segmentIds, idempotencyKey, requestedBy: "qa@example.com" });

async function rowCounts() {
  const res = await sql.query(
    `SELECT (SELECT count(*) FROM regeneration.batches)::int AS batches, (SELECT count(*) FROM regeneration.jobs)::int AS jobs,
            (SELECT count(*) FROM regeneration.outbox)::int AS outbox`,
  );
  return res.rows[0] as { batches: number; jobs: number; outbox: number };
}

/** Messages on the GENERATION stream once the outbox is relayed. */
async function requestedCount(): Promise<number> {
  await eventually(async () => (await rowCounts()).outbox === 0, 10_000, "the outbox to be relayed");
  return (await nats.jsm.streams.info(streamName(nats.namespace, GENERATION_STREAM))).state.messages;
}

/** Publishes a receipt event as the receipts service would, and waits until the job lifecycle consumer applied it. */
async function receiptEvent(subject: typeof RECEIPT_CREATED | typeof RECEIPT_COMPLETED, receipt: ReceiptInit): Promise<void> {
  const eventId = randomUUID();
  const schema = EVENT_MESSAGES[subject];
  const event = create(schema, { eventId, receipt: create(ReceiptSchema, receipt) });
  await nats.js.publish(subjectFor(nats.namespace, subject), toBinary(schema, event), { msgID: eventId });
  await eventually(async () => (await service.lifecycleLag()) === 0, 10_000, "the lifecycle consumer to catch up");
}

/** The pipeline's receipt for `job`: its new segment, carrying its id, with the planned inputs hash unless told otherwise. */
function receiptFor(job: RegenerationJob, receiptId: string, status: ReceiptStatus, at: Date, inputsHash = job.plan!.expectedInputsHash): ReceiptInit {
  return {
    receiptId,
    segmentId: job.newSegmentId,
    sceneId: SCENE,
    projectId: PROJECT,
    regenerationJobId: job.jobId,
    supersedesSegmentId: job.plan!.oldSegmentId,
    inputsHash,
    status,
    createdAt: timestampFromDate(at),
    generationCompletedAt: status === ReceiptStatus.RUNNING ? undefined : timestampFromDate(new Date(at.getTime() + 1000)),
  };
}

async function jobOf(batchId: string): Promise<RegenerationJob> {
  return (await regen.getRegenerationBatch({ batchId })).jobs[0]!;
}

async function openJobs(segmentId: string): Promise<number> {
  const res = await sql.query(`SELECT count(*)::int AS n FROM regeneration.jobs WHERE old_segment_id = $1 AND status IN ('submitted', 'running')`, [segmentId]);
  return res.rows[0].n as number;
}

describe("a concurrent submit's uncommitted job", () => {
  /** Opens a transaction holding an uncommitted open job for `segmentId`, as a concurrent submit's would. */
  async function holdOpenJob(client: pg.Client, segmentId: string): Promise<void> {
    await client.query("BEGIN");
    await client.query(
      `INSERT INTO regeneration.batches (batch_id, project_id, idempotency_key, requested_by, selection, job_count)
       VALUES ($1, $2, $1, 'other@example.com', '{}'::jsonb, 1)`,
      [`b-other-${segmentId}`, PROJECT],
    );
    await client.query(
      `INSERT INTO regeneration.jobs (job_id, batch_id, project_id, scene_id, old_segment_id, old_receipt_id, new_segment_id, plan, expected_inputs_hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, '{}'::jsonb, repeat('0', 64))`,
      [`j-other-${segmentId}`, `b-other-${segmentId}`, PROJECT, SCENE, segmentId, `r-${segmentId}`, `${segmentId}-other`],
    );
  }

  /** Waits until a statement of this database waits for a lock (the submit's job insert on the unique index). */
  async function submitIsBlocked(): Promise<void> {
    await eventually(
      async () =>
        (await sql.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0,
      10_000,
      "the submit to wait on the other transaction",
    );
  }

  it("makes the submit wait, and when it commits the submit is FAILED_PRECONDITION naming the segment, with nothing written", async () => {
    sources.add("seg-a");
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      const before = await rowCounts();
      const published = await requestedCount();
      await holdOpenJob(other, "seg-a");
      const pending = failure(submit(["seg-a"], "k-a"));
      await submitIsBlocked();
      await other.query("COMMIT");
      const err = await pending;
      expect(err.code).toBe(Code.FailedPrecondition);
      expect(err.rawMessage).toContain('segment "seg-a" already has a regeneration job submitted or running');
      expect(err.rawMessage).toContain("nothing of this submission was written");
      // Only the other transaction's batch and job are there; the key stays free; nothing was published.
      expect(await rowCounts()).toEqual({ batches: before.batches + 1, jobs: before.jobs + 1, outbox: 0 });
      expect((await sql.query(`SELECT count(*)::int AS n FROM regeneration.batches WHERE idempotency_key = 'k-a'`)).rows[0].n).toBe(0);
      expect(await requestedCount()).toBe(published);
      expect(await openJobs("seg-a")).toBe(1);
    } finally {
      await other.end();
    }
  });

  it("makes the submit wait, and when it rolls back the submit goes through", async () => {
    sources.add("seg-b");
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      const published = await requestedCount();
      await holdOpenJob(other, "seg-b");
      const pending = submit(["seg-b"], "k-b");
      await submitIsBlocked();
      await other.query("ROLLBACK");
      const res = await pending;
      expect(res.created).toBe(true);
      expect(res.jobs.map((j) => j.plan!.oldSegmentId)).toEqual(["seg-b"]);
      expect(await openJobs("seg-b")).toBe(1);
      expect(await requestedCount()).toBe(published + 1);
    } finally {
      await other.end();
    }
  });
});

describe("segments taken while a submit is under way", () => {
  it("a job committed between a submit's plan and its transaction makes it FAILED_PRECONDITION naming the segment and that job", async () => {
    sources.add("seg-c");
    let release!: () => void;
    const reached = sources.holdNextRead(new Promise<void>((r) => (release = r)));
    const slow = failure(submit(["seg-c"], "k-c-slow"));
    await reached;
    // The slow submit has planned seg-c (no job yet); another key takes it meanwhile.
    const fast = await submit(["seg-c"], "k-c-fast");
    const before = await rowCounts();
    release();
    const err = await slow;
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain(`segment "seg-c" (regeneration job ${fast.jobs[0]!.jobId}, submitted)`);
    // The fast submit's event may still be in the outbox: compare the rows that stay.
    const after = await rowCounts();
    expect({ batches: after.batches, jobs: after.jobs }).toEqual({ batches: before.batches, jobs: before.jobs });
    expect((await sql.query(`SELECT count(*)::int AS n FROM regeneration.batches WHERE idempotency_key = 'k-c-slow'`)).rows[0].n).toBe(0);
    expect(await openJobs("seg-c")).toBe(1);
  });

  it("a segment whose job completed SUCCEEDED is not submitted again while the dependencies still call it stale and active", async () => {
    sources.add("seg-d");
    const first = await submit(["seg-d"], "k-d-1");
    const job = first.jobs[0]!;
    const at = new Date();
    await receiptEvent(RECEIPT_CREATED, receiptFor(job, "r-new-d", ReceiptStatus.RUNNING, at));
    await receiptEvent(RECEIPT_COMPLETED, receiptFor(job, "r-new-d", ReceiptStatus.SUCCEEDED, at));
    expect((await jobOf(first.batch!.batchId)).status).toBe(JobStatus.SUCCEEDED);

    expect((await regen.planRegeneration({ projectId: PROJECT, segmentIds: ["seg-d"] })).jobs).toEqual([]);
    const before = await rowCounts();
    const err = await failure(submit(["seg-d"], "k-d-2"));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain(`segment "seg-d" (regeneration job ${job.jobId}, succeeded)`);
    const after = await rowCounts();
    expect({ batches: after.batches, jobs: after.jobs }).toEqual({ batches: before.batches, jobs: before.jobs });
  });

  it("a mismatched job holds its segment while its receipt runs, and lets it go once the receipt fails", async () => {
    sources.add("seg-e");
    const first = await submit(["seg-e"], "k-e-1");
    const job = first.jobs[0]!;
    const at = new Date();
    await receiptEvent(RECEIPT_CREATED, receiptFor(job, "r-new-e", ReceiptStatus.RUNNING, at, sha("other inputs")));
    expect((await jobOf(first.batch!.batchId)).status).toBe(JobStatus.INPUTS_MISMATCH);
    const err = await failure(submit(["seg-e"], "k-e-2"));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toContain('segment "seg-e"');

    await receiptEvent(RECEIPT_COMPLETED, receiptFor(job, "r-new-e", ReceiptStatus.FAILED, at, sha("other inputs")));
    const again = await submit(["seg-e"], "k-e-2");
    expect(again.created).toBe(true);
    expect(again.jobs.map((j) => j.plan!.oldSegmentId)).toEqual(["seg-e"]);
  });
});

describe("a failed job the pipeline retries after a new job was submitted for its segment", () => {
  it("keeps its status while the newer job is open, and follows its receipt once that completes", async () => {
    sources.add("seg-f");
    const first = await submit(["seg-f"], "k-f-1");
    const old = first.jobs[0]!;
    const t0 = new Date(Date.now() - 60_000);
    await receiptEvent(RECEIPT_CREATED, receiptFor(old, "r-f-1", ReceiptStatus.RUNNING, t0));
    await receiptEvent(RECEIPT_COMPLETED, receiptFor(old, "r-f-1", ReceiptStatus.FAILED, t0));
    expect((await jobOf(first.batch!.batchId)).status).toBe(JobStatus.FAILED);

    const second = await submit(["seg-f"], "k-f-2");
    const newer = second.jobs[0]!;
    expect(newer.status).toBe(JobStatus.SUBMITTED);

    // The pipeline retries the old job under a new receipt; the consumer must neither open a second job nor get stuck.
    const t1 = new Date();
    await receiptEvent(RECEIPT_CREATED, receiptFor(old, "r-f-2", ReceiptStatus.RUNNING, t1));
    const held = await jobOf(first.batch!.batchId);
    expect(held.status).toBe(JobStatus.FAILED);
    expect(held.newReceiptId).toBe("r-f-2");
    expect(held.error).toContain(newer.jobId);
    expect((await jobOf(second.batch!.batchId)).status).toBe(JobStatus.SUBMITTED);
    expect(await openJobs("seg-f")).toBe(1);

    await receiptEvent(RECEIPT_COMPLETED, receiptFor(old, "r-f-2", ReceiptStatus.SUCCEEDED, t1));
    const done = await jobOf(first.batch!.batchId);
    expect(done.status).toBe(JobStatus.SUCCEEDED);
    expect(done.error).toBe("");
  });
});

describe("the migration", () => {
  it("refuses a database that already holds two open jobs for one segment, naming it, and changes nothing", async () => {
    const other = await createTestDatabase("regeneration_migrate");
    const client = new pg.Client({ connectionString: other.url });
    await client.connect();
    try {
      const before = regenerationMigrations.filter((m) => m.name !== "OneOpenJobPerSegment1732400000005");
      expect(before).toHaveLength(regenerationMigrations.length - 1);
      await migrateDatabase({ url: other.url, schema: REGENERATION_SCHEMA, migrations: before });
      await client.query(
        `INSERT INTO regeneration.batches (batch_id, project_id, idempotency_key, requested_by, selection, job_count)
         VALUES ('b1', 'p', 'k1', 'x', '{}'::jsonb, 1), ('b2', 'p', 'k2', 'x', '{}'::jsonb, 1)`,
      );
      await client.query(
        `INSERT INTO regeneration.jobs (job_id, batch_id, project_id, scene_id, old_segment_id, old_receipt_id, new_segment_id, plan, expected_inputs_hash)
         VALUES ('j1', 'b1', 'p', 's', 'seg-twice', 'r', 'n1', '{}'::jsonb, repeat('0', 64)),
                ('j2', 'b2', 'p', 's', 'seg-twice', 'r', 'n2', '{}'::jsonb, repeat('0', 64))`,
      );
      await expect(migrateDatabase({ url: other.url, schema: REGENERATION_SCHEMA, migrations: regenerationMigrations })).rejects.toThrow(
        /more than one open job: seg-twice \(2 open jobs\)/,
      );
      const indexes = await client.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'regeneration' AND tablename = 'jobs'`);
      const names = indexes.rows.map((r: { indexname: string }) => r.indexname);
      expect(names).toContain("jobs_open_old_segment_idx");
      expect(names).not.toContain("jobs_one_open_job_per_segment_idx");

      // Once one of them is no longer open, the migration applies.
      await client.query(`UPDATE regeneration.jobs SET status = 'failed' WHERE job_id = 'j2'`);
      await migrateDatabase({ url: other.url, schema: REGENERATION_SCHEMA, migrations: regenerationMigrations });
      await expect(
        client.query(
          `INSERT INTO regeneration.jobs (job_id, batch_id, project_id, scene_id, old_segment_id, old_receipt_id, new_segment_id, plan, expected_inputs_hash)
           VALUES ('j3', 'b2', 'p', 's', 'seg-twice', 'r', 'n3', '{}'::jsonb, repeat('0', 64))`,
        ),
      ).rejects.toThrow(/jobs_one_open_job_per_segment_idx/);
    } finally {
      await client.end();
      await other.drop();
    }
  });
});
