/**
 * Runs the whole loop for tests: real receipts, staleness and regeneration services on port 0 in the shared test
 * environment (one database, each service in its own schema as its own login role; one JetStream namespace; one
 * issuer), plus the pipeline simulator on demand.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type pg from "pg";
import {
  AssetKind,
  AssetService,
  CreateReceiptRequestSchema,
  ReceiptService,
  ReceiptStatus,
  RegenerationService,
  StalenessService,
  type AssetRef,
  type Receipt,
} from "@provenance/shared";
import { createTestEnvironment, TEST_PIPELINE, type TestDatabase, type TestEnvironment, type TestNats } from "@provenance/shared/testing";
import { startReceipts, type RunningReceipts } from "@provenance/receipts/start";
import { startStaleness, type RunningStaleness } from "@provenance/staleness/start";
import { startPipelineSimulator, type PipelineSimulatorOptions, type RunningPipelineSimulator } from "@provenance/pipeline-simulator";
import { startRegeneration, type RunningRegeneration } from "../src/start.js";

/** A content hash derived from a label, for readable tests. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** The three services, their clients (carrying the test admin's token), the simulator and an owner connection to the database. */
export interface LoopHarness {
  env: TestEnvironment;
  db: TestDatabase;
  nats: TestNats;
  sql: pg.Client;
  receipts: RunningReceipts | undefined;
  staleness: RunningStaleness | undefined;
  regeneration: RunningRegeneration;
  simulator: RunningPipelineSimulator | undefined;
  receiptClient: Client<typeof ReceiptService>;
  assets: Client<typeof AssetService>;
  report: Client<typeof StalenessService>;
  regen: Client<typeof RegenerationService>;
  /** Starts the pipeline simulator with these options (stopping any running one). */
  startSimulator(opts?: Partial<PipelineSimulatorOptions>): Promise<RunningPipelineSimulator>;
  stopReceipts(): Promise<void>;
  stopStaleness(): Promise<void>;
  /** Waits until every outbox is relayed and every consumer has caught up. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts staleness, then receipts (pointed at it), then regeneration (pointed at both). */
export async function startLoop(): Promise<LoopHarness> {
  const env = await createTestEnvironment({ name: "regeneration_test" });
  const { sql } = env;
  const { staleness, receipts, regeneration } = await env.startServices({ staleness: startStaleness, receipts: startReceipts, regeneration: startRegeneration });

  const count = async (query: string) => (await sql.query(query)).rows[0].n as number;
  const h: LoopHarness = {
    env,
    db: env.db,
    nats: env.nats,
    sql,
    receipts,
    staleness,
    regeneration,
    simulator: undefined,
    receiptClient: env.client(ReceiptService, receipts.url),
    assets: env.client(AssetService, staleness.url),
    report: env.client(StalenessService, staleness.url),
    regen: env.client(RegenerationService, regeneration.url),
    async startSimulator(opts = {}) {
      await h.simulator?.stop();
      h.simulator = await startPipelineSimulator({
        nc: env.nats.nc,
        namespace: env.nats.namespace,
        receiptsUrl: receipts.url,
        logger: env.logger("pipeline-simulator"),
        serviceToken: env.tokenSource({ subject: TEST_PIPELINE }),
        ...opts,
      });
      return h.simulator;
    },
    async stopReceipts() {
      await h.receipts?.stop();
      h.receipts = undefined;
    },
    async stopStaleness() {
      await h.staleness?.stop();
      h.staleness = undefined;
    },
    async settle(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const unrelayed = await count(`SELECT
            (SELECT count(*) FROM receipts.outbox)
          + (SELECT count(*) FROM staleness.outbox)
          + (SELECT count(*) FROM regeneration.outbox) AS n`);
        const lags = [
          h.staleness ? await h.staleness.projectionLag() : 0,
          await h.regeneration.lifecycleLag(),
          h.simulator ? await h.simulator.lag() : 0,
        ];
        if (Number(unrelayed) === 0 && lags.every((l) => l === 0)) return;
        if (Date.now() > deadline) throw new Error(`not settled: ${unrelayed} unrelayed events, lags ${lags.join(", ")}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      await h.simulator?.stop();
      await env.close();
    },
  };
  return h;
}

/** Where a segment sits. */
export interface Place {
  projectId: string;
  sceneId: string;
  segmentId: string;
  sequenceIndex: number;
}

/** The asset refs of one generation. */
export interface InputRefs {
  source: AssetRef;
  variant?: AssetRef;
  workflow: AssetRef;
  model: AssetRef;
  loras: { asset: AssetRef; weight: number }[];
}

/** Records a successful generation through ReceiptService (create, then complete) and returns its receipt. */
export async function recordGeneration(h: LoopHarness, place: Place, refs: InputRefs): Promise<Receipt> {
  const { receipt } = await h.receiptClient.createReceipt(
    create(CreateReceiptRequestSchema, {
      ...place,
      characterName: "anna",
      sourceImage: refs.source,
      variantImage: refs.variant,
      workflow: refs.workflow,
      model: refs.model,
      loras: refs.loras,
      workflowVersion: "i2v-3",
      promptText: `anna, ${place.sceneId}, shot ${place.sequenceIndex}`,
      negativePrompt: "blurry, extra fingers",
      cfgScale: 6.5,
      seed: BigInt(1_000_003 * place.sequenceIndex) + 18446744073000000000n,
      steps: 28,
      sampler: "dpmpp_2m",
      resolutionWidth: 832,
      resolutionHeight: 480,
      additionalParams: { motion_strength: 0.4, fps: 16 },
      generationStartedAt: timestampFromDate(new Date()),
      idempotencyKey: `orig-${place.segmentId}`,
    }),
  );
  const { receipt: done } = await h.receiptClient.completeReceipt({
    receiptId: receipt!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date()),
    outputHash: sha(`output ${place.segmentId}`),
  });
  return done!;
}

/** Registers an asset and publishes `labels` as its versions (the first current); returns refs per version, v1 first. */
export async function registerAsset(h: LoopHarness, assetId: string, kind: AssetKind, name: string, labels: string[]): Promise<AssetRef[]> {
  await h.assets.registerAsset({ assetId, kind, name });
  const refs: AssetRef[] = [];
  for (const label of labels) {
    const res = await h.assets.publishVersion({ assetId, contentHash: sha(label), uploadedBy: "creator@example.com", makeCurrent: refs.length === 0 });
    refs.push({ $typeName: "provenance.v1.AssetRef", assetId, contentHash: sha(label), version: res.version!.version });
  }
  return refs;
}

/** Polls `check` until it returns true or the timeout passes. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
