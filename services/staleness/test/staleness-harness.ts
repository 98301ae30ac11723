/** A real staleness service (and, when asked, a real receipts service) on port 0 in the shared test environment: one database, one JetStream namespace, one issuer. */
import { createHash } from "node:crypto";
import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type pg from "pg";
import {
  AssetKind,
  AssetService,
  CreateReceiptRequestSchema,
  ReceiptService,
  ReceiptStatus,
  StalenessDetectedSchema,
  StalenessService,
  subjectFor,
  type CreateReceiptRequest,
  type ServiceConfig,
  type StalenessDetected,
} from "@provenance/shared";
import { DEFAULT_TEST_GRANTS, createTestEnvironment, type TestEnvironment, type TestNats } from "@provenance/shared/testing";
import { startStaleness, type RunningStaleness, type StalenessOptions } from "../src/start.js";
import { startReceipts, type RunningReceipts } from "@provenance/receipts/start";

/** Who publishes the versions of {@link assetWithVersions} (the subject of its token; a creator on every project). */
export const UPLOADER = "creator@example.com";

/** A content hash derived from a label, for readable tests. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** A running staleness service, optionally the receipts service, their clients, and handles to look inside. */
export interface StalenessHarness {
  env: TestEnvironment;
  config: ServiceConfig;
  nats: TestNats;
  /** An owner (superuser) connection to the test database. */
  sql: pg.Client;
  staleness: RunningStaleness | undefined;
  receipts: RunningReceipts | undefined;
  /** Clients carrying the test admin's token. */
  assets: Client<typeof AssetService>;
  /** AssetService as {@link UPLOADER}, a creator on every project: who the versions of {@link assetWithVersions} are by. */
  uploader: Client<typeof AssetService>;
  report: Client<typeof StalenessService>;
  receiptClient: Client<typeof ReceiptService>;
  /** Stops the staleness service (its durable consumer stays on the server). */
  stopStaleness(): Promise<void>;
  /** Starts it again (a new port; clients are re-pointed). */
  startStaleness(): Promise<void>;
  /** Waits until every receipt event is relayed and applied by the projection. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the harness; `withReceipts` also runs the real receipts service on the same database and namespace;
 * `staleness` is passed to every start of the staleness service.
 */
export async function startStalenessHarness(opts: { withReceipts?: boolean; staleness?: StalenessOptions } = {}): Promise<StalenessHarness> {
  const env = await createTestEnvironment({
    name: "staleness_test",
    grants: [...DEFAULT_TEST_GRANTS, { subject: UPLOADER, project: "*", role: "creator" }],
  });
  const start = () => env.start("staleness", (config, logger) => startStaleness(config, logger, opts.staleness));
  const clientsFor = (url: string) => ({
    assets: env.client(AssetService, url),
    uploader: env.client(AssetService, url, { subject: UPLOADER }),
    report: env.client(StalenessService, url),
  });
  const h: StalenessHarness = {
    env,
    config: env.config("staleness"),
    nats: env.nats,
    sql: env.sql,
    staleness: await start(),
    receipts: undefined,
    assets: undefined as never,
    uploader: undefined as never,
    report: undefined as never,
    receiptClient: undefined as never,
    async stopStaleness() {
      await h.staleness?.stop();
      h.staleness = undefined;
    },
    async startStaleness() {
      h.staleness = await start();
      Object.assign(h, clientsFor(h.staleness.url));
    },
    async settle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const unrelayed = h.receipts
          ? ((await h.sql.query(`SELECT count(*)::int AS n FROM receipts.outbox`)).rows[0].n as number)
          : 0;
        const lag = h.staleness ? await h.staleness.projectionLag() : 0;
        if (unrelayed === 0 && lag === 0) return;
        if (Date.now() > deadline) throw new Error(`not settled: ${unrelayed} unrelayed receipt events, projection lag ${lag}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => env.close(),
  };
  Object.assign(h, clientsFor(h.staleness!.url));
  if (opts.withReceipts) {
    h.receipts = await env.start("receipts", startReceipts);
    h.receiptClient = env.client(ReceiptService, h.receipts.url);
  }
  return h;
}

/** One generation's asset references: ids and hashes by label. */
export interface InputsSpec {
  source: [string, string];
  variant?: [string, string];
  workflow: [string, string];
  model: [string, string];
  loras: [string, string][];
}

let counter = 0;

/** A valid CreateReceipt request for `segmentId` in `sceneId` of `projectId` with the given inputs. */
export function receiptRequest(
  place: { segmentId: string; sceneId: string; projectId: string; supersedesSegmentId?: string },
  inputs: InputsSpec,
): CreateReceiptRequest {
  counter += 1;
  const ref = ([assetId, hash]: [string, string]) => ({ assetId, contentHash: hash, version: 0 });
  return create(CreateReceiptRequestSchema, {
    segmentId: place.segmentId,
    sceneId: place.sceneId,
    projectId: place.projectId,
    characterName: "anna",
    sequenceIndex: counter,
    sourceImage: ref(inputs.source),
    variantImage: inputs.variant ? ref(inputs.variant) : undefined,
    workflow: ref(inputs.workflow),
    model: ref(inputs.model),
    loras: inputs.loras.map((l) => ({ asset: ref(l), weight: 0.8 })),
    workflowVersion: "i2v-3",
    promptText: "anna walks along the pier at dusk",
    negativePrompt: "",
    cfgScale: 7,
    seed: 42n,
    steps: 30,
    sampler: "euler",
    resolutionWidth: 832,
    resolutionHeight: 480,
    generationStartedAt: timestampFromDate(new Date()),
    supersedesSegmentId: place.supersedesSegmentId ?? "",
    idempotencyKey: `key-${counter}-${Math.random().toString(36).slice(2)}`,
  });
}

/** Records a generation through the real receipts service: CreateReceipt, then CompleteReceipt with `status` (unless RUNNING). */
export async function generate(
  h: StalenessHarness,
  place: { segmentId: string; sceneId: string; projectId: string; supersedesSegmentId?: string },
  inputs: InputsSpec,
  status: ReceiptStatus = ReceiptStatus.SUCCEEDED,
): Promise<string> {
  const { receipt } = await h.receiptClient.createReceipt(receiptRequest(place, inputs));
  if (status !== ReceiptStatus.RUNNING) {
    await h.receiptClient.completeReceipt({
      receiptId: receipt!.receiptId,
      status,
      generationCompletedAt: timestampFromDate(new Date()),
      outputHash: sha(`output ${receipt!.receiptId}`),
    });
  }
  return receipt!.receiptId;
}

/** Registers an asset and publishes its versions as {@link UPLOADER} (labels hashed with {@link sha}); returns their hashes, v1 first. */
export async function assetWithVersions(
  h: StalenessHarness,
  assetId: string,
  kind: AssetKind,
  name: string,
  labels: string[],
  projectId = "",
): Promise<string[]> {
  await h.assets.registerAsset({ assetId, kind, name, projectId });
  const hashes: string[] = [];
  for (const label of labels) {
    const hash = sha(label);
    await h.uploader.publishVersion({ assetId, contentHash: hash, uploadedBy: UPLOADER, makeCurrent: hashes.length === 0 });
    hashes.push(hash);
  }
  return hashes;
}

/** Subscribes (core NATS) to the namespace's staleness changes and collects them. */
export function watchDetectedOnNats(h: StalenessHarness): { events: StalenessDetected[]; stop(): void; ready: Promise<void> } {
  const events: StalenessDetected[] = [];
  const sub = h.nats.nc.subscribe(subjectFor(h.nats.namespace, "provenance.staleness.detected.>"), {
    callback: (_err, msg) => {
      if (msg) events.push(fromBinary(StalenessDetectedSchema, msg.data));
    },
  });
  return { events, stop: () => sub.unsubscribe(), ready: h.nats.nc.flush() };
}

/** Polls `fn` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

