/**
 * The demo story against a running system: a project of 60 segments in 5 scenes is generated,
 * anna's LoRA gets v2, the staleness report names exactly the 12 segments it affects, those are
 * re-generated, the report is empty again, and one segment's old and new receipts stand side by side. Then the
 * second day: 3 segments made before receipts are imported as legacy ones (coverage 60 of 63), anna's LoRA gets v3,
 * and scene 1 is pinned to v2 on purpose, so 8 segments in 2 scenes are stale and scene 1's 4 are pinned.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { createOutboundAuthInterceptor, type TokenSource } from "@provenance/shared/auth";
import {
  AssetKind,
  AssetService,
  CreateReceiptRequestSchema,
  ImportLegacySegmentsRequestSchema,
  JobStatus,
  ReceiptService,
  ReceiptStatus,
  RegenerationService,
  StalenessService,
  type Receipt,
  type ServiceName,
} from "@provenance/shared";

/** What the demo reports when it is done, for tests and scripts. */
export interface DemoResult {
  projectId: string;
  staleSegmentsAfterUpdate: number;
  staleScenesAfterUpdate: number;
  summary: string;
  jobs: number;
  staleSegmentsAfterRegeneration: number;
  comparedSegment: { oldSegmentId: string; newSegmentId: string };
  /** The legacy segments imported into scene 6. */
  legacySegments: number;
  /** GetCoverage of the project at the end: complete (with a SUCCEEDED receipt) of all active segments. */
  coverage: { segments: number; complete: number; legacy: number; completePercent: number };
  /** After anna_lora v3 and the pin of scene 1 to v2. */
  pin: { pinId: string; sceneId: string; pinnedSegments: number; staleSegments: number; staleScenes: number };
}

function sha(label: string): string {
  return createHash("sha256").update(label).digest("hex");
}

function clients(urls: Readonly<Record<ServiceName, string>>, token: TokenSource) {
  const interceptors = [createOutboundAuthInterceptor({ serviceToken: token })];
  const t = (baseUrl: string) => createGrpcTransport({ baseUrl, interceptors });
  return {
    receipts: createClient(ReceiptService, t(urls.receipts)),
    assets: createClient(AssetService, t(urls.staleness)),
    staleness: createClient(StalenessService, t(urls.staleness)),
    regeneration: createClient(RegenerationService, t(urls.regeneration)),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const CHARACTERS = ["anna", "ben", "cleo"] as const;

/**
 * Runs the story as the holder of `token` (npm run demo: the local user, who needs the admin role on the project);
 * `print` receives each line for a person to read.
 */
export async function runDemo(
  urls: Readonly<Record<ServiceName, string>>,
  token: TokenSource,
  print: (line: string) => void,
  projectId = `demo-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`,
): Promise<DemoResult> {
  const c = clients(urls, token);
  const id = (name: string) => `${projectId}.${name}`;
  print(`Project ${projectId}: 60 segments in 5 scenes, characters ${CHARACTERS.join(", ")}`);

  // The assets: one model, one workflow, three LoRAs, a source and a clothed variant image per character.
  const assets: { key: string; kind: AssetKind; name: string }[] = [
    { key: "model", kind: AssetKind.MODEL, name: "wan2.1_i2v_14B.safetensors" },
    { key: "workflow", kind: AssetKind.WORKFLOW, name: "i2v_pier_walk.json" },
    { key: "anna_lora", kind: AssetKind.LORA, name: "anna_lora" },
    { key: "ben_lora", kind: AssetKind.LORA, name: "ben_lora" },
    { key: "film_grain_lora", kind: AssetKind.LORA, name: "film_grain_lora" },
    ...CHARACTERS.flatMap((ch) => [
      { key: `${ch}_source`, kind: AssetKind.SOURCE_IMAGE, name: `${ch}.png` },
      { key: `${ch}_clothed`, kind: AssetKind.VARIANT_IMAGE, name: `${ch}_clothed.png` },
    ]),
  ];
  for (const a of assets) {
    await c.assets.registerAsset({ assetId: id(a.key), kind: a.kind, name: a.name, projectId });
    await c.assets.publishVersion({ assetId: id(a.key), contentHash: sha(`${projectId}/${a.key}/v1`), uploadedBy: "demo" });
  }
  print(`Registered ${assets.length} assets, each at v1`);

  // Scenes 1-5 with 12 segments each; anna's LoRA is in her 4 segments of scenes 1-3 only: 12 segments.
  const ref = (key: string) => ({ assetId: id(key), contentHash: sha(`${projectId}/${key}/v1`), version: 1 });
  let made = 0;
  for (let scene = 1; scene <= 5; scene++) {
    for (let i = 0; i < 12; i++) {
      const character = CHARACTERS[i % 3]!;
      const segmentId = id(`s${scene}-seg${String(i + 1).padStart(2, "0")}`);
      const loras = [{ asset: ref("film_grain_lora"), weight: 0.35 }];
      if (character === "anna" && scene <= 3) loras.unshift({ asset: ref("anna_lora"), weight: 0.8 });
      if (character === "ben") loras.unshift({ asset: ref("ben_lora"), weight: 0.75 });
      const started = new Date(Date.now() - 60_000);
      const { receipt } = await c.receipts.createReceipt(
        create(CreateReceiptRequestSchema, {
          segmentId,
          sceneId: id(`scene-${scene}`),
          projectId,
          characterName: character,
          sequenceIndex: i,
          sourceImage: ref(`${character}_source`),
          variantImage: ref(`${character}_clothed`),
          workflow: ref("workflow"),
          model: ref("model"),
          loras,
          workflowVersion: "pier_walk@3",
          promptText: `${character} walks along the pier at dusk, shot ${i + 1} of scene ${scene}`,
          negativePrompt: "blurry, extra fingers",
          cfgScale: 6.5,
          seed: BigInt(1_000 * scene + i),
          steps: 30,
          sampler: "euler",
          resolutionWidth: 832,
          resolutionHeight: 480,
          additionalParams: { scheduler: "simple", frames: 81, fps: 16 },
          generationStartedAt: timestampFromDate(started),
          idempotencyKey: `${segmentId}/first-run`,
        }),
      );
      await c.receipts.completeReceipt({
        receiptId: receipt!.receiptId,
        status: ReceiptStatus.SUCCEEDED,
        generationCompletedAt: timestampFromDate(new Date(started.getTime() + 42_000)),
        outputHash: sha(`${receipt!.inputsHash}/output`),
      });
      made += 1;
    }
  }
  print(`Generated ${made} segments; each has an immutable receipt`);
  await until("the staleness service to see every segment", async () => {
    const r = await c.staleness.getStalenessReport({ projectId });
    return r.totalActiveSegments === made ? r : undefined;
  });

  // A creator re-trains anna's LoRA and uploads v2.
  const published = Date.now();
  await c.assets.publishVersion({ assetId: id("anna_lora"), contentHash: sha(`${projectId}/anna_lora/v2`), uploadedBy: "creator", note: "re-trained on 40 more images" });
  const report = await until("staleness detection", async () => {
    const r = await c.staleness.getStalenessReport({ projectId });
    return r.totalStaleSegments > 0 ? r : undefined;
  });
  print(`anna_lora v2 published; staleness known after ${Date.now() - published} ms`);
  print("");
  print(`Staleness report: ${report.totalStaleSegments} stale segments in ${report.totalStaleScenes} scenes`);
  for (const g of report.byAsset) print(`  ${g.summary}`);
  print("");

  const plan = await c.regeneration.planRegeneration({ projectId });
  print(`Plan: ${plan.jobs.length} jobs (only the stale segments; only anna_lora swapped to v2; ${made - plan.jobs.length} segments untouched)`);
  const submitted = await c.regeneration.submitRegeneration({ projectId, idempotencyKey: `${projectId}/regen-1`, requestedBy: "demo" });
  const batch = submitted.batch!;
  const final = await until(
    "the pipeline simulator to finish the batch",
    async () => {
      const b = await c.regeneration.getRegenerationBatch({ batchId: batch.batchId });
      const done = b.batch!.succeeded + b.batch!.failed + b.batch!.inputsMismatch;
      return done === b.batch!.jobCount ? b : undefined;
    },
    60_000,
  );
  print(`Batch ${batch.batchId}: ${final.batch!.succeeded} succeeded, ${final.batch!.failed} failed, ${final.batch!.inputsMismatch} inputs mismatches`);
  const after = await until("the projection to see the new segments", async () => {
    const r = await c.staleness.getStalenessReport({ projectId });
    return r.totalStaleSegments === 0 ? r : undefined;
  });
  print(`Staleness report now: ${after.totalStaleSegments} stale segments${after.byAsset.length === 0 ? " — the project is fresh" : ""}`);

  // One segment's old and new receipts, side by side.
  const job = final.jobs.find((j) => j.status === JobStatus.SUCCEEDED)!;
  const oldProv = await c.receipts.getSegmentProvenance({ segmentId: job.plan!.oldSegmentId });
  const newProv = await c.receipts.getSegmentProvenance({ segmentId: job.newSegmentId });
  print("");
  print(sideBySide(oldProv.currentReceipt!, newProv.currentReceipt!, oldProv.segment!.supersededBySegmentId));
  print("");

  // Segments made before this system: what is known of them (some inputs, no hashes) as LEGACY receipts in scene 6.
  const known = (key: string) => ({ assetId: id(key), contentHash: "", version: 0 });
  const legacy = await c.receipts.importLegacySegments(
    create(ImportLegacySegmentsRequestSchema, {
      segments: CHARACTERS.map((character, i) => ({
        segmentId: id(`s6-legacy${String(i + 1).padStart(2, "0")}`),
        sceneId: id("scene-6"),
        projectId,
        characterName: character,
        sequenceIndex: i,
        sourceImage: known(`${character}_source`),
        model: known("model"),
        promptText: `${character} on the pier, from the first cut`,
        generatedAt: timestampFromDate(new Date("2026-03-14T12:00:00Z")),
        outputHash: sha(`${projectId}/legacy/${character}`),
      })),
    }),
  );
  const coverage = await until("the coverage to count the legacy segments", async () => {
    const r = await c.receipts.getCoverage({ projectId });
    const p = r.total;
    return p && p.legacy === legacy.results.length ? p : undefined;
  });
  print(
    `Imported ${legacy.results.length} legacy segments into scene 6 (made before receipts; inputs partly known); ` +
      `coverage: ${coverage.complete} of ${coverage.segments} segments have complete receipts (${coverage.completePercent.toFixed(1)}%), ${coverage.legacy} legacy`,
  );

  // anna's LoRA moves on to v3, and scene 1's approved takes stay on v2 on purpose.
  await c.assets.publishVersion({ assetId: id("anna_lora"), contentHash: sha(`${projectId}/anna_lora/v3`), uploadedBy: "creator", note: "sharper eyes" });
  await until("staleness detection of anna_lora v3", async () => {
    const r = await c.staleness.getStalenessReport({ projectId });
    return r.totalStaleSegments === plan.jobs.length ? r : undefined;
  });
  const pinned = await c.staleness.pinSegments({
    projectId,
    sceneId: id("scene-1"),
    assetId: id("anna_lora"),
    version: 2,
    reason: "approved takes, stay on v2",
  });
  const pinnedReport = await until("the report to leave the pinned scene out", async () => {
    const r = await c.staleness.getStalenessReport({ projectId });
    return r.pinnedSegments === pinned.pinnedSegments ? r : undefined;
  });
  print(
    `anna_lora v3 published; scene 1 pinned to v2 ("${pinned.pin!.reason}", pin ${pinned.pin!.pinId}): ${pinned.pinnedSegments} segments pinned, ` +
      `${pinnedReport.totalStaleSegments} stale segments in ${pinnedReport.totalStaleScenes} scenes`,
  );
  return {
    projectId,
    staleSegmentsAfterUpdate: report.totalStaleSegments,
    staleScenesAfterUpdate: report.totalStaleScenes,
    summary: report.byAsset.map((g) => g.summary).join("\n"),
    jobs: plan.jobs.length,
    staleSegmentsAfterRegeneration: after.totalStaleSegments,
    comparedSegment: { oldSegmentId: job.plan!.oldSegmentId, newSegmentId: job.newSegmentId },
    legacySegments: legacy.results.length,
    coverage: { segments: coverage.segments, complete: coverage.complete, legacy: coverage.legacy, completePercent: coverage.completePercent },
    pin: {
      pinId: pinned.pin!.pinId,
      sceneId: pinned.pin!.sceneId,
      pinnedSegments: pinned.pinnedSegments,
      staleSegments: pinnedReport.totalStaleSegments,
      staleScenes: pinnedReport.totalStaleScenes,
    },
  };
}

/** Two receipts as aligned columns, marking the fields that differ. */
export function sideBySide(oldR: Receipt, newR: Receipt, supersededBy: string): string {
  const short = (h: string) => (h ? `${h.slice(0, 12)}…` : "—");
  const asset = (a?: { assetId: string; contentHash: string; version: number }) =>
    a ? `${a.assetId.split(".").at(-1)} v${a.version || "?"} ${short(a.contentHash)}` : "—";
  const rows: [string, string, string][] = [
    ["segment", oldR.segmentId, newR.segmentId],
    ["status", supersededBy ? `superseded by ${supersededBy.split(".").at(-1)}` : "active", "active"],
    ["source image", asset(oldR.sourceImage), asset(newR.sourceImage)],
    ["variant image", asset(oldR.variantImage), asset(newR.variantImage)],
    ["workflow", asset(oldR.workflow), asset(newR.workflow)],
    ["model", asset(oldR.model), asset(newR.model)],
    ...oldR.loras.map((l, i): [string, string, string] => [
      `lora ${i + 1}`,
      `${asset(l.asset)} @${l.weight}`,
      newR.loras[i] ? `${asset(newR.loras[i]!.asset)} @${newR.loras[i]!.weight}` : "—",
    ]),
    ["prompt", oldR.promptText, newR.promptText],
    ["seed", String(oldR.seed), String(newR.seed)],
    ["cfg / steps", `${oldR.cfgScale} / ${oldR.steps}`, `${newR.cfgScale} / ${newR.steps}`],
    ["inputs hash", short(oldR.inputsHash), short(newR.inputsHash)],
    ["output hash", short(oldR.outputHash), short(newR.outputHash)],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length), "old receipt".length);
  const line = (a: string, b: string, c: string, mark: string) => `${mark} ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`;
  return [
    line("", "old receipt", "new receipt", " "),
    ...rows.map(([k, a, b]) => line(k, a, b, k !== "segment" && k !== "status" && a !== b ? "*" : " ")),
    "(* = differs)",
  ].join("\n");
}
