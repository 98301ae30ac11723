/**
 * The real receipts, staleness and regeneration services (and the pipeline simulator) on port 0 in one test environment
 * (`createTestEnvironment`: database, JetStream namespace, local issuer); the CLI signs in through that local issuer.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { CreateReceiptRequestSchema, ReceiptService, ReceiptStatus, type CreateReceiptRequest } from "@provenance/shared";
import { createTestEnvironment, TEST_PIPELINE, type TestEnvironment } from "@provenance/shared/testing";
import { startReceipts } from "@provenance/receipts/start";
import { startRegeneration } from "@provenance/regeneration/start";
import { startPipelineSimulator } from "@provenance/pipeline-simulator";
import { startStaleness } from "@provenance/staleness/start";
import { main } from "../src/main.js";

/** A content hash derived from a label, for readable tests. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** What one CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The running system, a receipts client standing in for the pipeline, and a way to run the CLI against it. */
export interface SystemHarness {
  /** The test environment (issuer, policy, tokens, database). */
  test: TestEnvironment;
  /**
   * The env a CLI process needs to reach the services and sign in: the service URLs and PROVENANCE_DATA_DIR, whose
   * auth/ is the environment's local issuer (its local user is the test admin).
   */
  env: Record<string, string>;
  pipeline: Client<typeof ReceiptService>;
  /** Runs the CLI in this process with captured output; `signal` ends streams; `env` is added to {@link env}. */
  cli(argv: string[], signal?: AbortSignal, env?: Record<string, string>): Promise<CliRun>;
  /** Like {@link cli}, but hands back the live stdout so a test can wait for lines of a stream. */
  cliLive(argv: string[], signal: AbortSignal): { output: () => string; done: Promise<CliRun> };
  close(): Promise<void>;
}

/** Starts everything; `close` stops it and drops the database and streams. */
export async function startSystem(): Promise<SystemHarness> {
  const test = await createTestEnvironment({ name: "cli_test" });
  try {
    const staleness = await test.start("staleness", startStaleness);
    const receipts = await test.start("receipts", startReceipts);
    const regeneration = await test.start("regeneration", startRegeneration);
    const simulator = await startPipelineSimulator({
      nc: test.nats.nc,
      namespace: test.nats.namespace,
      receiptsUrl: receipts.url,
      serviceToken: test.tokenSource({ subject: TEST_PIPELINE }),
      logger: test.logger("pipeline-simulator"),
    });
    test.onClose(() => simulator.stop());
    const env = { RECEIPTS_URL: receipts.url, STALENESS_URL: staleness.url, REGENERATION_URL: regeneration.url, PROVENANCE_DATA_DIR: test.dir };
    const cliLive = (argv: string[], signal?: AbortSignal, extra: Record<string, string> = {}) => {
      let stdout = "";
      let stderr = "";
      const done = main(
        argv,
        { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: { ...env, ...extra }, signal },
        { pollIntervalMs: 50 },
      ).then((code) => ({ code, stdout, stderr }));
      return { output: () => stdout, done };
    };
    return {
      test,
      env,
      pipeline: test.client(ReceiptService, receipts.url, { subject: TEST_PIPELINE }),
      cli: (argv, signal, extra) => cliLive(argv, signal, extra).done,
      cliLive: (argv, signal) => cliLive(argv, signal),
      close: () => test.close(),
    };
  } catch (err) {
    await test.close();
    throw err;
  }
}

/** A CreateReceipt request of project p1 using lora `anna` at `loraVersion`; other inputs untracked. */
export function receiptRequest(segmentId: string, sceneId: string, loraVersion: number, index: number): CreateReceiptRequest {
  return create(CreateReceiptRequestSchema, {
    segmentId,
    sceneId,
    projectId: "p1",
    characterName: "anna",
    sequenceIndex: index,
    sourceImage: { assetId: "src-anna", contentHash: sha("source anna") },
    workflow: { assetId: "wf-i2v", contentHash: sha("workflow") },
    model: { assetId: "model-wan", contentHash: sha("model wan") },
    loras: [
      { asset: { assetId: "lora-anna", contentHash: sha(`lora anna v${loraVersion}`), version: loraVersion }, weight: 0.8 },
      { asset: { assetId: "lora-style", contentHash: sha("lora style") }, weight: 0.35 },
    ],
    workflowVersion: "i2v-3",
    promptText: "anna walks along the pier at dusk",
    negativePrompt: "blurry",
    cfgScale: 6.5,
    seed: 1234567890123n,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    additionalParams: { motion: "slow" },
    generationStartedAt: timestampFromDate(new Date("2026-11-21T10:00:00Z")),
    idempotencyKey: `key-${segmentId}`,
  });
}

/** Records a receipt through the pipeline's API and completes it successfully. */
export async function recordSegment(h: SystemHarness, req: CreateReceiptRequest): Promise<string> {
  const { receipt } = await h.pipeline.createReceipt(req);
  await h.pipeline.completeReceipt({
    receiptId: receipt!.receiptId,
    status: ReceiptStatus.SUCCEEDED,
    generationCompletedAt: timestampFromDate(new Date("2026-11-21T10:00:42Z")),
    outputHash: sha(`output ${req.segmentId}`),
  });
  return receipt!.receiptId;
}

/** Polls `probe` until it returns true, or fails after `timeoutMs`. */
export async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
