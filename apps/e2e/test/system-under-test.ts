/**
 * The real system for the browser tests, started the way `npm start` starts it (startSystem, its local issuer and
 * sign-in included) but on free ports in one test environment (a fresh database and JetStream namespace, the
 * environment's local issuer as the system's), seeded through the APIs, with the built console served in front.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AssetKind, AssetService, CreateReceiptRequestSchema, ReceiptService, ReceiptStatus, StalenessService, type AssetRef } from "@provenance/shared";
import { createTestEnvironment, TEST_ADMIN, type TestEnvironment } from "@provenance/shared/testing";
import { startSystem } from "@provenance/system";
import { build } from "vite";
import { serveConsole } from "@provenance/console/serve";

/** A content hash derived from a label. */
export function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

/** The project the seed writes. */
export const PROJECT = "pier-film";

/**
 * What the seed made stale: anna_lora v1→v2 in scenes 1–2, clothed_anna.png v1→v2 in scene 3. Ids end in the shot
 * number ("pier-s1-02" is shot 2 of scene 1; its sequence_index is 1).
 */
export const SEED = {
  loraSegments: ["pier-s1-01", "pier-s1-02", "pier-s1-03", "pier-s2-01", "pier-s2-02", "pier-s2-03"],
  variantSegments: ["pier-s3-01", "pier-s3-02"],
  freshSegments: ["pier-s3-03"],
};

/**
 * A project named as the demo names its own (`demo-<timestamp>`, ids prefixed with it): long ids, for the layout. Its
 * segments use the shared model, workflow and grain LoRA (never changed here, so never stale) and an unregistered
 * source image (untracked).
 */
export const LONG_PROJECT = "demo-20261201102233";

/** The long-id project's segments, one scene. */
export const LONG_SEGMENTS = [1, 2, 3, 4].map((n) => `${LONG_PROJECT}.s1-seg${String(n).padStart(2, "0")}`);

/** A project whose only segment names no registered asset at all: no asset's usage finds it. */
export const UNTRACKED = { projectId: "untracked-reel", sceneId: "scene-1", segmentId: "untracked-reel-01" };

/** The user the console signs in as: the local issuer's (the test environment's admin). */
export const LOCAL_USER = TEST_ADMIN;

/** The running system and console, and how to stop them. */
export interface SystemUnderTest {
  consoleUrl: string;
  urls: Readonly<Record<"receipts" | "staleness" | "regeneration", string>>;
  /** The test environment the system runs in (its database, namespace and issuer). */
  env: TestEnvironment;
  stop(): Promise<void>;
}

/** The console workspace, found through its package (a declared dependency). */
const appDir = dirname(fileURLToPath(import.meta.resolve("@provenance/console/package.json")));

/** Builds the console with its own vite config into dist/, as `npm run build` does. */
export async function buildConsole(): Promise<string> {
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({ root: appDir, configFile: join(appDir, "vite.config.ts"), mode: "production", logLevel: "warn" });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return join(appDir, "dist");
}

/** Starts everything and seeds it; a failure part way stops what had started. */
export async function startSystemUnderTest(): Promise<SystemUnderTest> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const distDir = await buildConsole();
    const env = await createTestEnvironment({ name: "console_test" });
    stops.push(() => env.close());
    const system = await startSystem({
      // Its auth/ is the environment's local issuer, so the system signs in as the environment's admin.
      dataDir: env.dir,
      databaseUrl: env.db.url,
      natsUrl: env.nats.url,
      eventNamespace: env.nats.namespace,
      ports: { receipts: 0, staleness: 0, regeneration: 0 },
      // This test serves the console it just built itself.
      consolePort: false,
      logLevel: (process.env.TEST_LOG_LEVEL as "silent" | undefined) ?? "silent",
    });
    stops.push(() => system.stop());
    await seed(env, system.urls);
    const issuer = system.issuer!;
    const web = await serveConsole({ port: 0, distDir, servicesConfig: system.urls, signIn: { mode: "local", subject: issuer.subject, mintToken: () => issuer.mintToken() } });
    stops.push(() => web.close());
    return { consoleUrl: web.url, urls: system.urls, env, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function seed(env: TestEnvironment, urls: Readonly<Record<"receipts" | "staleness" | "regeneration", string>>): Promise<void> {
  const assets = env.client(AssetService, urls.staleness);
  const staleness = env.client(StalenessService, urls.staleness);
  const receipts = env.client(ReceiptService, urls.receipts);
  const refs = new Map<string, AssetRef[]>();
  const register = async (assetId: string, kind: AssetKind, name: string, labels: string[]) => {
    await assets.registerAsset({ assetId, kind, name });
    const list: AssetRef[] = [];
    for (const label of labels) {
      const res = await assets.publishVersion({ assetId, contentHash: sha(label), uploadedBy: "mira@studio.example", note: `${name} first cut` });
      list.push({ $typeName: "provenance.v1.AssetRef", assetId, contentHash: sha(label), version: res.version!.version });
    }
    refs.set(assetId, list);
  };
  await register("model-wan", AssetKind.MODEL, "wan2.1_i2v_14B.safetensors", ["model wan"]);
  await register("wf-pier", AssetKind.WORKFLOW, "i2v_pier_walk.json", ["workflow pier"]);
  await register("src-anna", AssetKind.SOURCE_IMAGE, "anna.png", ["anna source"]);
  await register("clothed-anna", AssetKind.VARIANT_IMAGE, "clothed_anna.png", ["clothed anna v1"]);
  await register("lora-anna", AssetKind.LORA, "anna_lora", ["anna lora v1"]);
  await register("lora-grain", AssetKind.LORA, "film_grain_lora", ["film grain v1"]);
  const v1 = (id: string) => refs.get(id)![0]!;

  const all = [...SEED.loraSegments, ...SEED.variantSegments, ...SEED.freshSegments];
  for (const [i, segmentId] of all.entries()) {
    const sceneNumber = Number(segmentId.slice(6, 7));
    // As the demo records them: sequence_index counts from 0 within the scene, the prompt numbers shots from 1.
    const sequenceIndex = Number(segmentId.slice(8)) - 1;
    const usesAnnaLora = SEED.loraSegments.includes(segmentId);
    const usesVariant = !usesAnnaLora && SEED.variantSegments.includes(segmentId);
    const { receipt } = await receipts.createReceipt(
      create(CreateReceiptRequestSchema, {
        segmentId,
        sceneId: `scene-${sceneNumber}`,
        projectId: PROJECT,
        characterName: "anna",
        sequenceIndex,
        sourceImage: v1("src-anna"),
        variantImage: usesVariant ? v1("clothed-anna") : undefined,
        workflow: v1("wf-pier"),
        model: v1("model-wan"),
        loras: [...(usesAnnaLora ? [{ asset: v1("lora-anna"), weight: 0.8 }] : []), { asset: v1("lora-grain"), weight: 0.3 }],
        workflowVersion: "i2v-3",
        promptText: `anna walks along the pier at dusk, shot ${sequenceIndex + 1} of scene ${sceneNumber}`,
        negativePrompt: "blurry, extra fingers",
        cfgScale: 6.5,
        seed: BigInt(1000 + i),
        steps: 28,
        sampler: "dpmpp_2m",
        resolutionWidth: 832,
        resolutionHeight: 480,
        additionalParams: { motion_strength: 0.4, fps: 16 },
        generationStartedAt: timestampFromDate(new Date(Date.now() - 90_000)),
        idempotencyKey: `seed-${segmentId}`,
      }),
    );
    await receipts.completeReceipt({
      receiptId: receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date()),
      outputHash: sha(`output ${segmentId}`),
    });
  }
  const unregistered = (name: string): AssetRef => ({ $typeName: "provenance.v1.AssetRef", assetId: name, contentHash: sha(name), version: 0 });
  const extra = [
    ...LONG_SEGMENTS.map((segmentId, i) => ({
      segmentId,
      sceneId: `${LONG_PROJECT}.scene-1`,
      projectId: LONG_PROJECT,
      sequenceIndex: i,
      sourceImage: unregistered(`${LONG_PROJECT}.cleo_source`),
      workflow: v1("wf-pier"),
      model: v1("model-wan"),
      loras: [{ asset: v1("lora-grain"), weight: 0.35 }],
    })),
    {
      ...UNTRACKED,
      sequenceIndex: 0,
      sourceImage: unregistered("reel-source.png"),
      workflow: unregistered("reel-workflow.json"),
      model: unregistered("reel-model.safetensors"),
      loras: [],
    },
  ];
  for (const [i, e] of extra.entries()) {
    const { receipt } = await receipts.createReceipt(
      create(CreateReceiptRequestSchema, {
        ...e,
        characterName: "cleo",
        workflowVersion: "i2v-3",
        promptText: `cleo walks along the pier at dusk, shot ${e.sequenceIndex + 1} of scene 1`,
        cfgScale: 6.5,
        seed: BigInt(2000 + i),
        steps: 28,
        sampler: "dpmpp_2m",
        resolutionWidth: 832,
        resolutionHeight: 480,
        generationStartedAt: timestampFromDate(new Date(Date.now() - 80_000)),
        idempotencyKey: `seed-${e.segmentId}`,
      }),
    );
    await receipts.completeReceipt({
      receiptId: receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date()),
      outputHash: sha(`output ${e.segmentId}`),
    });
  }
  // Staleness learns receipts from events; wait until it has every segment before the assets change.
  await until("the staleness projection to see every segment", async () => (await staleness.getStalenessReport({ projectId: PROJECT })).totalActiveSegments === all.length);
  await assets.publishVersion({ assetId: "lora-anna", contentHash: sha("anna lora v2"), uploadedBy: "mira@studio.example", note: "retrained on the new turnaround sheet" });
  await assets.publishVersion({ assetId: "clothed-anna", contentHash: sha("clothed anna v2"), uploadedBy: "jon@studio.example", note: "new coat" });
  await until("both asset changes to make segments stale", async () => {
    const report = await staleness.getStalenessReport({ projectId: PROJECT });
    return report.totalStaleSegments === SEED.loraSegments.length + SEED.variantSegments.length;
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
