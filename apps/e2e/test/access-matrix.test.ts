/**
 * The access matrix of the contract ("Identity and access"), against the real services on real PostgreSQL and NATS,
 * seeded once: principals (none, expired, wrong audience, wrong issuer, unknown key, alg none, viewer / pipeline /
 * creator / admin of project A, admin of "*", a group grant) × every RPC (over gRPC, Connect binary and Connect JSON,
 * by turns) and every REST route × the caller's own project, another project, and shared assets. Each answer's code is
 * what the contract says; every call the matrix makes is a read or an exact retry, so no allowed call writes either,
 * and nothing at all may be written (rows, outboxes, streams). Then what lists, reports, usage and WatchStaleness show
 * (only viewable projects), NOT_FOUND for a hidden item worded as for a missing one, and supersession across projects.
 */
import { create, type DescService } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AssetKind,
  AssetService,
  CompleteReceiptRequestSchema,
  CreateReceiptRequestSchema,
  ImportLegacySegmentsRequestSchema,
  PinSegmentsRequestSchema,
  ReceiptService,
  ReceiptStatus,
  RegenerationService,
  StalenessService,
  streamName,
  type CompleteReceiptRequest,
  type CreateReceiptRequest,
  type ImportLegacySegmentsRequest,
  type PinSegmentsRequest,
} from "@provenance/shared";
import type { Grant } from "@provenance/shared/auth";
import { TEST_ADMIN, createTestEnvironment, failureOf, type TestCredentials, type TestEnvironment, type TestProtocol } from "@provenance/shared/testing";
import { startReceipts } from "@provenance/receipts/start";
import { startRegeneration } from "@provenance/regeneration/start";
import { startStaleness } from "@provenance/staleness/start";
import { createHash } from "node:crypto";

const A = "matrix-a";
const B = "matrix-b";
const sha = (label: string) => createHash("sha256").update(label).digest("hex");

type Role = "viewer" | "pipeline" | "creator" | "admin";
const RANK: Record<Role, number> = { viewer: 0, pipeline: 1, creator: 2, admin: 3 };

/** A principal of the matrix: how it authenticates, and the roles the policy gives it (none for a bad token). */
interface Principal {
  name: string;
  credentials: () => Promise<TestCredentials>;
  /** Its role in A and on "*"; undefined for a token the services must refuse. */
  roles?: { A?: Role; all?: Role };
}

/** The grants of the matrix's principals (besides the test admin who seeds). */
const GRANTS: Grant[] = [
  { subject: "viewer-a", project: A, role: "viewer" },
  { subject: "pipeline-a", project: A, role: "pipeline" },
  { subject: "creator-a", project: A, role: "creator" },
  { subject: "admin-a", project: A, role: "admin" },
  { subject: "admin-all", project: "*", role: "admin" },
  { group: "team-a", project: A, role: "creator" },
];

let env: TestEnvironment;
let urls: Record<"receipts" | "staleness" | "regeneration", string>;

const bad = (kind: "expired" | "wrong_audience" | "wrong_issuer" | "unknown_key" | "alg_none"): Principal => ({
  name: kind.replace("_", " "),
  credentials: async () => ({ token: await env.invalidToken(kind, "admin-all") }),
});
const PRINCIPALS: Principal[] = [
  { name: "no token", credentials: async () => null },
  bad("expired"),
  bad("wrong_audience"),
  bad("wrong_issuer"),
  bad("unknown_key"),
  bad("alg_none"),
  { name: "viewer of A", credentials: async () => ({ subject: "viewer-a" }), roles: { A: "viewer" } },
  { name: "pipeline of A", credentials: async () => ({ subject: "pipeline-a" }), roles: { A: "pipeline" } },
  { name: "creator of A", credentials: async () => ({ subject: "creator-a" }), roles: { A: "creator" } },
  { name: "admin of A", credentials: async () => ({ subject: "admin-a" }), roles: { A: "admin" } },
  { name: "admin of *", credentials: async () => ({ subject: "admin-all" }), roles: { all: "admin" } },
  { name: "creator of A by group", credentials: async () => ({ subject: "someone-in-team-a", groups: ["team-a"] }), roles: { A: "creator" } },
];

/** Where a request points: the caller's own project (A), another (B), or a shared asset (no project). */
type Target = "own" | "other" | "shared";
const projectOf = (t: Target): string | null => (t === "own" ? A : t === "other" ? B : null);

/** How the contract decides a request: a project it names, an item it reads or changes, or a list the handler filters. */
type Kind = "named" | "item-read" | "item-write" | "list";

/** What the seed made, by project. */
interface Seeded {
  create: Record<"own" | "other", CreateReceiptRequest>;
  complete: Record<"own" | "other", CompleteReceiptRequest>;
  receipt: Record<"own" | "other", string>;
  inputsHash: Record<"own" | "other", string>;
  batch: Record<"own" | "other", string>;
  reproduction: Record<"own" | "other", string>;
  /** One imported legacy segment per project (its import, to repeat exactly). */
  legacy: Record<"own" | "other", ImportLegacySegmentsRequest>;
  /** An open pin (of {@link PIN_ASSET}, which no segment uses) and an unpinned one, per project. */
  pin: Record<"own" | "other", PinSegmentsRequest>;
  unpinned: Record<"own" | "other", string>;
}
const seeded = {} as Seeded;
const SEGMENT = { own: "ma-seg-1", other: "mb-seg-1" } as const;
const ASSET = { own: "ma-lora", other: "mb-lora", shared: "m-shared-model" } as const;
const BATCH_KEY = { own: "matrix-batch-a", other: "matrix-batch-b" } as const;
const REPRODUCTION_KEY = { own: "matrix-repro-a", other: "matrix-repro-b" } as const;
const PIN_ASSET = { own: "ma-pin-lora", other: "mb-pin-lora" } as const;

interface Clients {
  receipts: Client<typeof ReceiptService>;
  assets: Client<typeof AssetService>;
  staleness: Client<typeof StalenessService>;
  regeneration: Client<typeof RegenerationService>;
}

/** One RPC of the matrix: how it is decided, for which targets, and the call (a read or an exact retry). */
interface Operation {
  rpc: string;
  role: Role;
  kind: Kind;
  targets: readonly Target[];
  /** For "named" on the shared target: the rule names no project (a list without a filter), decided as a list. */
  sharedIsList?: boolean;
  call(c: Clients, t: Target): Promise<unknown>;
}

const own = (t: Target) => (t === "shared" ? "own" : t) as "own" | "other";

const OPERATIONS: Operation[] = [
  { rpc: "ReceiptService/CreateReceipt", role: "pipeline", kind: "named", targets: ["own", "other"], call: (c, t) => c.receipts.createReceipt(seeded.create[own(t)]) },
  {
    rpc: "ReceiptService/CreateReceipts",
    role: "pipeline",
    kind: "named",
    targets: ["own", "other"],
    call: (c, t) => c.receipts.createReceipts({ receipts: [seeded.create[own(t)]] }),
  },
  { rpc: "ReceiptService/CompleteReceipt", role: "pipeline", kind: "item-write", targets: ["own", "other"], call: (c, t) => c.receipts.completeReceipt(seeded.complete[own(t)]) },
  {
    rpc: "ReceiptService/CompleteReceipts",
    role: "pipeline",
    kind: "item-write",
    targets: ["own", "other"],
    call: (c, t) => c.receipts.completeReceipts({ receipts: [seeded.complete[own(t)]] }),
  },
  { rpc: "ReceiptService/GetReceipt", role: "viewer", kind: "item-read", targets: ["own", "other"], call: (c, t) => c.receipts.getReceipt({ receiptId: seeded.receipt[own(t)] }) },
  {
    rpc: "ReceiptService/GetSegmentProvenance",
    role: "viewer",
    kind: "item-read",
    targets: ["own", "other"],
    call: (c, t) => c.receipts.getSegmentProvenance({ segmentId: SEGMENT[own(t)] }),
  },
  {
    rpc: "ReceiptService/BatchGetCurrentReceipts",
    role: "viewer",
    kind: "list",
    targets: ["own", "other"],
    call: (c, t) => c.receipts.batchGetCurrentReceipts({ segmentIds: [SEGMENT[own(t)]] }),
  },
  { rpc: "ReceiptService/GetAssetUsage", role: "viewer", kind: "list", targets: ["own", "other", "shared"], call: (c, t) => c.receipts.getAssetUsage({ assetId: ASSET[t] }) },
  {
    rpc: "ReceiptService/FindReceiptsByInputsHash",
    role: "viewer",
    kind: "list",
    targets: ["own", "other"],
    call: (c, t) => c.receipts.findReceiptsByInputsHash({ inputsHash: seeded.inputsHash[own(t)] }),
  },
  { rpc: "ReceiptService/ListProjects", role: "viewer", kind: "list", targets: ["shared"], call: (c) => c.receipts.listProjects({}) },
  { rpc: "ReceiptService/ListSegments", role: "viewer", kind: "named", targets: ["own", "other"], call: (c, t) => c.receipts.listSegments({ projectId: projectOf(t)! }) },
  {
    rpc: "ReceiptService/GetGenerationDurations",
    role: "viewer",
    kind: "list",
    targets: ["shared"],
    call: (c) => c.receipts.getGenerationDurations({ keys: [{ modelAssetId: ASSET.shared }, {}] }),
  },
  { rpc: "ReceiptService/GetCheckpoint", role: "viewer", kind: "list", targets: ["shared"], call: (c) => c.receipts.getCheckpoint({}) },
  {
    rpc: "ReceiptService/GetReceiptProof",
    role: "viewer",
    kind: "item-read",
    targets: ["own", "other"],
    call: (c, t) => c.receipts.getReceiptProof({ receiptId: seeded.receipt[own(t)] }),
  },
  { rpc: "ReceiptService/GetConsistencyProof", role: "viewer", kind: "list", targets: ["shared"], call: (c) => c.receipts.getConsistencyProof({ firstSize: 1n, secondSize: 2n }) },
  {
    rpc: "ReceiptService/CompareReceipts",
    role: "viewer",
    kind: "item-read",
    targets: ["own", "other"],
    call: (c, t) => c.receipts.compareReceipts({ leftReceiptId: seeded.receipt[own(t)], rightReceiptId: seeded.receipt[own(t)] }),
  },
  { rpc: "ReceiptService/ImportLegacySegments", role: "admin", kind: "named", targets: ["own", "other"], call: (c, t) => c.receipts.importLegacySegments(seeded.legacy[own(t)]) },
  {
    rpc: "ReceiptService/GetCoverage",
    role: "viewer",
    kind: "named",
    sharedIsList: true,
    targets: ["own", "other", "shared"],
    call: (c, t) => c.receipts.getCoverage({ projectId: projectOf(t) ?? "" }),
  },

  {
    rpc: "AssetService/RegisterAsset",
    role: "admin",
    kind: "named",
    targets: ["own", "other", "shared"],
    call: (c, t) =>
      c.assets.registerAsset({ assetId: ASSET[t], kind: t === "shared" ? AssetKind.MODEL : AssetKind.LORA, name: ASSET[t], projectId: projectOf(t) ?? "" }),
  },
  {
    rpc: "AssetService/PublishVersion",
    role: "creator",
    kind: "item-write",
    targets: ["own", "other", "shared"],
    call: (c, t) => c.assets.publishVersion({ assetId: ASSET[t], contentHash: sha(`${ASSET[t]} ${t === "shared" ? "v1" : "v2"}`), uploadedBy: "x" }),
  },
  {
    rpc: "AssetService/SetCurrentVersion",
    role: "creator",
    kind: "item-write",
    targets: ["own", "other", "shared"],
    call: (c, t) => c.assets.setCurrentVersion({ assetId: ASSET[t], version: t === "shared" ? 1 : 2 }),
  },
  { rpc: "AssetService/GetAsset", role: "viewer", kind: "item-read", targets: ["own", "other", "shared"], call: (c, t) => c.assets.getAsset({ assetId: ASSET[t] }) },
  {
    rpc: "AssetService/ListAssets",
    role: "viewer",
    kind: "named",
    sharedIsList: true,
    targets: ["own", "other", "shared"],
    call: (c, t) => c.assets.listAssets({ projectId: projectOf(t) ?? "" }),
  },
  { rpc: "AssetService/ListVersions", role: "viewer", kind: "item-read", targets: ["own", "other", "shared"], call: (c, t) => c.assets.listVersions({ assetId: ASSET[t] }) },
  { rpc: "AssetService/GetVersion", role: "viewer", kind: "item-read", targets: ["own", "other", "shared"], call: (c, t) => c.assets.getVersion({ assetId: ASSET[t], version: 1 }) },

  {
    rpc: "StalenessService/GetStalenessReport",
    role: "viewer",
    kind: "named",
    sharedIsList: true,
    targets: ["own", "other", "shared"],
    call: (c, t) => c.staleness.getStalenessReport({ projectId: projectOf(t) ?? "" }),
  },
  {
    rpc: "StalenessService/ListStaleSegments",
    role: "viewer",
    kind: "named",
    sharedIsList: true,
    targets: ["own", "other", "shared"],
    call: (c, t) => c.staleness.listStaleSegments({ projectId: projectOf(t) ?? "" }),
  },
  {
    rpc: "StalenessService/WatchStaleness",
    role: "viewer",
    kind: "named",
    sharedIsList: true,
    targets: ["own", "other", "shared"],
    call: (c, t) => watchOpens(c.staleness, projectOf(t) ?? ""),
  },
  { rpc: "StalenessService/PinSegments", role: "creator", kind: "named", targets: ["own", "other"], call: (c, t) => c.staleness.pinSegments(seeded.pin[own(t)]) },
  {
    rpc: "StalenessService/UnpinSegments",
    role: "creator",
    kind: "named",
    targets: ["own", "other"],
    call: (c, t) => c.staleness.unpinSegments({ projectId: projectOf(t)!, pinId: seeded.unpinned[own(t)] }),
  },
  { rpc: "StalenessService/ListPins", role: "viewer", kind: "named", targets: ["own", "other"], call: (c, t) => c.staleness.listPins({ projectId: projectOf(t)! }) },

  { rpc: "RegenerationService/PlanRegeneration", role: "viewer", kind: "named", targets: ["own", "other"], call: (c, t) => c.regeneration.planRegeneration({ projectId: projectOf(t)! }) },
  {
    rpc: "RegenerationService/SubmitRegeneration",
    role: "creator",
    kind: "named",
    targets: ["own", "other"],
    call: (c, t) => c.regeneration.submitRegeneration({ projectId: projectOf(t)!, idempotencyKey: BATCH_KEY[own(t)], requestedBy: "x" }),
  },
  {
    rpc: "RegenerationService/GetRegenerationBatch",
    role: "viewer",
    kind: "item-read",
    targets: ["own", "other"],
    call: (c, t) => c.regeneration.getRegenerationBatch({ batchId: seeded.batch[own(t)] }),
  },
  {
    rpc: "RegenerationService/ListRegenerationJobs",
    role: "viewer",
    kind: "named",
    targets: ["own", "other"],
    call: (c, t) => c.regeneration.listRegenerationJobs({ projectId: projectOf(t)! }),
  },
  {
    rpc: "RegenerationService/ReproduceSegment",
    role: "creator",
    kind: "named",
    targets: ["own", "other"],
    call: (c, t) => c.regeneration.reproduceSegment({ projectId: projectOf(t)!, receiptId: seeded.receipt[own(t)], idempotencyKey: REPRODUCTION_KEY[own(t)] }),
  },
  {
    rpc: "RegenerationService/GetReproduction",
    role: "viewer",
    kind: "item-read",
    targets: ["own", "other"],
    call: (c, t) => c.regeneration.getReproduction({ jobId: seeded.reproduction[own(t)] }),
  },
  {
    rpc: "RegenerationService/ListReproductions",
    role: "viewer",
    kind: "named",
    targets: ["own", "other"],
    call: (c, t) => c.regeneration.listReproductions({ projectId: projectOf(t)! }),
  },
];

/** The REST routes of the contract, each standing for an RPC and decided as it is. */
interface RestOperation {
  route: string;
  role: Role;
  kind: Kind;
  targets: readonly Target[];
  request(t: Target): { path: string; init?: RequestInit };
}
const REST: RestOperation[] = [
  { route: "GET /api/segments/:id/provenance", role: "viewer", kind: "item-read", targets: ["own", "other"], request: (t) => ({ path: `/api/segments/${SEGMENT[own(t)]}/provenance` }) },
  { route: "GET /api/assets/:id/usage", role: "viewer", kind: "list", targets: ["own", "other", "shared"], request: (t) => ({ path: `/api/assets/${ASSET[t]}/usage` }) },
  { route: "GET /api/projects/:id/staleness-report", role: "viewer", kind: "named", targets: ["own", "other"], request: (t) => ({ path: `/api/projects/${projectOf(t)}/staleness-report` }) },
  {
    route: "POST /api/projects/:id/regenerate-stale",
    role: "creator",
    kind: "named",
    targets: ["own", "other"],
    request: (t) => ({
      path: `/api/projects/${projectOf(t)}/regenerate-stale`,
      init: { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ idempotency_key: BATCH_KEY[own(t)] }) },
    }),
  },
  {
    route: "GET /api/receipts/:left/compare/:right",
    role: "viewer",
    kind: "item-read",
    targets: ["own", "other"],
    request: (t) => ({ path: `/api/receipts/${seeded.receipt[own(t)]}/compare/${seeded.receipt[own(t)]}` }),
  },
  { route: "GET /api/coverage", role: "viewer", kind: "list", targets: ["shared"], request: () => ({ path: "/api/coverage" }) },
  { route: "GET /api/projects/:id/coverage", role: "viewer", kind: "named", targets: ["own", "other"], request: (t) => ({ path: `/api/projects/${projectOf(t)}/coverage` }) },
];

/** A stream's outcome: its error's code, or "ok" when it opened and stayed open (nothing pushed meanwhile). */
async function watchOpens(client: Client<typeof StalenessService>, projectId: string): Promise<"ok"> {
  const abort = new AbortController();
  const stream = client.watchStaleness({ projectId }, { signal: abort.signal });
  // Refusals come before the handler starts; a stream still open after this long was let through.
  const opened = new Promise<"ok">((resolve) => setTimeout(() => resolve("ok"), 800));
  const failed = (async () => {
    for await (const _ of stream) {
      // a change may arrive; the stream is open either way
    }
    return "ok" as const;
  })();
  try {
    return await Promise.race([opened, failed]);
  } finally {
    abort.abort();
    await failed.catch(() => undefined);
  }
}

function roleOf(p: Principal, project: string | null): Role | undefined {
  const all = p.roles?.all;
  const inA = project === A ? p.roles?.A : undefined;
  if (all && inA) return RANK[all] >= RANK[inA] ? all : inA;
  return all ?? inA;
}
const includes = (held: Role | undefined, needed: Role) => held !== undefined && RANK[held] >= RANK[needed];

/** What the contract answers `p` for a request of `kind` needing `role` on `t`. */
function expected(p: Principal, role: Role, kind: Kind, t: Target, sharedIsList = false): Code | "ok" {
  if (!p.roles) return Code.Unauthenticated;
  const project = projectOf(t);
  const holdsSomething = p.roles.A !== undefined || p.roles.all !== undefined;
  if (kind === "list" || (sharedIsList && t === "shared")) return holdsSomething ? "ok" : Code.PermissionDenied;
  // Viewing an item of no project needs a grant on some project; changing it, the role on "*".
  const may = project === null && role === "viewer" ? holdsSomething : includes(roleOf(p, project), role);
  if (may) return "ok";
  return kind === "item-read" ? Code.NotFound : Code.PermissionDenied;
}

async function outcome(call: () => Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call();
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

const HTTP: Record<string, number> = { ok: 200, [Code.Unauthenticated]: 401, [Code.PermissionDenied]: 403, [Code.NotFound]: 404 };

async function authorization(p: Principal): Promise<Record<string, string>> {
  const c = await p.credentials();
  if (c === null) return {};
  return { authorization: `Bearer ${"token" in c ? c.token : await env.token(c)}` };
}

function clientsOf(credentials: TestCredentials | undefined, protocol: TestProtocol): Clients {
  return {
    receipts: env.client(ReceiptService, urls.receipts, credentials, protocol),
    assets: env.client(AssetService, urls.staleness, credentials, protocol),
    staleness: env.client(StalenessService, urls.staleness, credentials, protocol),
    regeneration: env.client(RegenerationService, urls.regeneration, credentials, protocol),
  };
}

/** Everything the services could write, counted and summed up: rows, what changed in them, outboxes, streams. */
async function written(): Promise<unknown> {
  const { rows } = await env.sql.query(`
    SELECT (SELECT count(*) FROM receipts.segments)::int AS segments,
           (SELECT count(*) FROM receipts.generation_receipts)::int AS receipts,
           (SELECT count(*) FROM receipts.receipt_inputs)::int AS inputs,
           (SELECT md5(string_agg(concat_ws('|', receipt_id, status, generation_completed_at, completed_by, recorded_by), ',' ORDER BY receipt_id))
              FROM receipts.generation_receipts) AS receipts_md5,
           (SELECT md5(string_agg(concat_ws('|', segment_id, superseded_by_segment_id), ',' ORDER BY segment_id)) FROM receipts.segments) AS segments_md5,
           (SELECT count(*) FROM staleness.assets)::int AS assets,
           (SELECT md5(string_agg(concat_ws('|', asset_id, version, is_current, uploaded_by), ',' ORDER BY asset_id, version))
              FROM staleness.asset_versions) AS versions_md5,
           (SELECT count(*) FROM staleness.detection_tasks)::int AS detection_tasks,
           (SELECT md5(string_agg(concat_ws('|', pin_id, unpinned_at, unpinned_by), ',' ORDER BY pin_id)) FROM staleness.pins) AS pins_md5,
           (SELECT count(*) FROM staleness.pin_segments)::int AS pin_segments,
           (SELECT count(*) FROM regeneration.batches)::int AS batches,
           (SELECT md5(string_agg(concat_ws('|', job_id, status), ',' ORDER BY job_id)) FROM regeneration.jobs) AS jobs_md5,
           (SELECT count(*) FROM regeneration.reproductions)::int AS reproductions,
           coalesce(pg_sequence_last_value('receipts.outbox_seq_seq'), 0)::int AS receipts_outbox,
           coalesce(pg_sequence_last_value('staleness.outbox_seq_seq'), 0)::int AS staleness_outbox,
           coalesce(pg_sequence_last_value('regeneration.outbox_seq_seq'), 0)::int AS regeneration_outbox`);
  const streams = await Promise.all(
    (["PROVENANCE", "GENERATION"] as const).map(async (kind) => (await env.nats.jsm.streams.info(streamName(env.nats.namespace, kind))).state.messages),
  );
  return { ...rows[0], streams };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function settled(): Promise<boolean> {
  const { rows } = await env.sql.query(
    `SELECT (SELECT count(*) FROM receipts.outbox) + (SELECT count(*) FROM staleness.outbox) + (SELECT count(*) FROM regeneration.outbox) AS n`,
  );
  return Number(rows[0].n) === 0;
}

/** One generation of `segmentId` in `projectId`: the shared model and the project's LoRA at v1. */
function receiptRequest(projectId: string, segmentId: string, lora: string): CreateReceiptRequest {
  return create(CreateReceiptRequestSchema, {
    segmentId,
    sceneId: `${projectId}-scene-1`,
    projectId,
    characterName: "mira",
    sequenceIndex: 0,
    sourceImage: { assetId: `${projectId}-src`, contentHash: sha(`${projectId} src`) },
    workflow: { assetId: "m-shared-wf", contentHash: sha("shared wf") },
    model: { assetId: ASSET.shared, contentHash: sha(`${ASSET.shared} v1`), version: 1 },
    loras: [{ asset: { assetId: lora, contentHash: sha(`${lora} v1`), version: 1 }, weight: 0.7 }],
    workflowVersion: "i2v-3",
    promptText: `mira on the pier, ${projectId}`,
    cfgScale: 6,
    seed: 11n,
    steps: 20,
    sampler: "euler",
    resolutionWidth: 640,
    resolutionHeight: 360,
    generationStartedAt: timestampFromDate(new Date("2026-12-01T10:00:00Z")),
    idempotencyKey: `matrix-${segmentId}`,
  });
}

let admin: Clients;

beforeAll(async () => {
  // The services' own subjects hold no grant here: whatever they read for a caller, they must read with its token.
  env = await createTestEnvironment({ name: "access_matrix", grants: [{ subject: TEST_ADMIN, project: "*", role: "admin" }, ...GRANTS] });
  const running = await env.startServices({ staleness: startStaleness, receipts: startReceipts, regeneration: startRegeneration });
  urls = { receipts: running.receipts.url, staleness: running.staleness.url, regeneration: running.regeneration.url };
  admin = clientsOf(undefined, "grpc");

  await admin.assets.registerAsset({ assetId: ASSET.own, kind: AssetKind.LORA, name: ASSET.own, projectId: A });
  await admin.assets.registerAsset({ assetId: ASSET.other, kind: AssetKind.LORA, name: ASSET.other, projectId: B });
  await admin.assets.registerAsset({ assetId: ASSET.shared, kind: AssetKind.MODEL, name: ASSET.shared });
  for (const assetId of Object.values(ASSET)) await admin.assets.publishVersion({ assetId, contentHash: sha(`${assetId} v1`) });

  for (const t of ["own", "other"] as const) {
    const req = receiptRequest(projectOf(t)!, SEGMENT[t], ASSET[t]);
    const { receipt } = await admin.receipts.createReceipt(req);
    const complete = create(CompleteReceiptRequestSchema, {
      receiptId: receipt!.receiptId,
      status: ReceiptStatus.SUCCEEDED,
      generationCompletedAt: timestampFromDate(new Date("2026-12-01T10:01:00Z")),
      outputHash: sha(`output ${SEGMENT[t]}`),
    });
    await admin.receipts.completeReceipt(complete);
    Object.assign(seeded, {
      create: { ...seeded.create, [t]: req },
      complete: { ...seeded.complete, [t]: complete },
      receipt: { ...seeded.receipt, [t]: receipt!.receiptId },
      inputsHash: { ...seeded.inputsHash, [t]: receipt!.inputsHash },
    });
  }
  await until("the projection to see both segments", async () => (await admin.staleness.getStalenessReport({})).totalActiveSegments === 2);
  for (const t of ["own", "other"] as const) await admin.assets.publishVersion({ assetId: ASSET[t], contentHash: sha(`${ASSET[t]} v2`) });
  await until("both segments to be stale", async () => (await admin.staleness.getStalenessReport({})).totalStaleSegments === 2);
  for (const t of ["own", "other"] as const) {
    const { batch } = await admin.regeneration.submitRegeneration({ projectId: projectOf(t)!, idempotencyKey: BATCH_KEY[t] });
    seeded.batch = { ...seeded.batch, [t]: batch!.batchId };
    const { reproduction } = await admin.regeneration.reproduceSegment({ projectId: projectOf(t)!, receiptId: seeded.receipt[t], idempotencyKey: REPRODUCTION_KEY[t] });
    seeded.reproduction = { ...seeded.reproduction, [t]: reproduction!.jobId };
  }
  // Pins of an asset no segment uses, so the world's staleness stays as it is.
  for (const t of ["own", "other"] as const) {
    await admin.assets.registerAsset({ assetId: PIN_ASSET[t], kind: AssetKind.LORA, name: PIN_ASSET[t], projectId: projectOf(t)! });
    for (const v of ["v1", "v2"]) await admin.assets.publishVersion({ assetId: PIN_ASSET[t], contentHash: sha(`${PIN_ASSET[t]} ${v}`) });
    const pin = create(PinSegmentsRequestSchema, { projectId: projectOf(t)!, sceneId: `${projectOf(t)}-scene-1`, assetId: PIN_ASSET[t], version: 1, reason: "matrix pin" });
    await admin.staleness.pinSegments(pin);
    const { pin: ended } = await admin.staleness.pinSegments({ ...pin, reason: "matrix unpinned" });
    await admin.staleness.unpinSegments({ projectId: projectOf(t)!, pinId: ended!.pinId });
    seeded.pin = { ...seeded.pin, [t]: pin };
    seeded.unpinned = { ...seeded.unpinned, [t]: ended!.pinId };
  }
  // A legacy segment per project (never stale nor fresh, so the world's staleness stays as it is).
  for (const t of ["own", "other"] as const) {
    const legacy = create(ImportLegacySegmentsRequestSchema, {
      segments: [
        {
          segmentId: `${SEGMENT[t]}-legacy`,
          sceneId: `${projectOf(t)}-scene-1`,
          projectId: projectOf(t)!,
          model: { assetId: "m-legacy-model", contentHash: "" },
          generatedAt: timestampFromDate(new Date("2024-01-01T00:00:00Z")),
        },
      ],
    });
    await admin.receipts.importLegacySegments(legacy);
    seeded.legacy = { ...seeded.legacy, [t]: legacy };
  }
  await until("the receipt log to take every receipt event", async () => (await env.sql.query(`SELECT count(*)::int AS n FROM receipts.receipt_log_queue`)).rows[0].n === 0);
  await until("every outbox to be relayed", settled);
});
afterAll(async () => {
  await env?.close();
});

describe("the matrix", () => {
  let before: unknown;
  beforeAll(async () => {
    before = await written();
  });

  it("covers every RPC of the four services", () => {
    const services: DescService[] = [ReceiptService, AssetService, StalenessService, RegenerationService];
    const all = services.flatMap((s) => s.methods.map((m) => `${s.name}/${m.name}`)).sort();
    expect(OPERATIONS.map((o) => o.rpc).sort()).toEqual(all);
  });

  const PROTOCOLS: TestProtocol[] = ["grpc", "connect", "connect-json"];
  it.each(PRINCIPALS.map((p, i) => [p.name, p, PROTOCOLS[i % PROTOCOLS.length]!] as const))(
    "%s: every RPC × own / other / shared answers as the contract says",
    async (_name, p, protocol) => {
      const clients = clientsOf(await p.credentials(), protocol);
      const cases = OPERATIONS.flatMap((op) => op.targets.map((t) => ({ op, t })));
      // Unary calls all at once; the streams after them, so their refusals are not slowed by the rest.
      const streaming = (rpc: string) => rpc.endsWith("/WatchStaleness");
      const got = new Array<Code | "ok">(cases.length);
      for (const stream of [false, true]) {
        const batch = cases.map((c, i) => ({ ...c, i })).filter(({ op }) => streaming(op.rpc) === stream);
        const answers = await Promise.all(batch.map(({ op, t }) => outcome(() => op.call(clients, t))));
        batch.forEach(({ i }, k) => (got[i] = answers[k]!));
      }
      const answers = Object.fromEntries(cases.map(({ op, t }, i) => [`${op.rpc} ${t}`, got[i] === "ok" ? "ok" : Code[got[i] as Code]]));
      const wanted = Object.fromEntries(
        cases.map(({ op, t }) => {
          const e = expected(p, op.role, op.kind, t, op.sharedIsList);
          return [`${op.rpc} ${t}`, e === "ok" ? "ok" : Code[e]];
        }),
      );
      expect(answers).toEqual(wanted);
    },
  );

  it.each(PRINCIPALS.map((p) => [p.name, p] as const))("%s: every REST route × own / other / shared answers as the contract says", async (_name, p) => {
    const auth = await authorization(p);
    const cases = REST.flatMap((r) => r.targets.map((t) => ({ r, t })));
    const got = await Promise.all(
      cases.map(async ({ r, t }) => {
        const { path, init } = r.request(t);
        const res = await fetch(`${urls[r.route.includes("regenerate") ? "regeneration" : r.route.includes("staleness") ? "staleness" : "receipts"]}${path}`, {
          ...init,
          headers: { ...(init?.headers as Record<string, string> | undefined), ...auth },
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );
    const answers = Object.fromEntries(cases.map(({ r, t }, i) => [`${r.route} ${t}`, got[i]]));
    const wanted = Object.fromEntries(cases.map(({ r, t }) => [`${r.route} ${t}`, HTTP[String(expected(p, r.role, r.kind, t))]]));
    expect(answers).toEqual(wanted);
  });

  it("wrote nothing: no row, no change, no outbox entry, no message", async () => {
    await until("every outbox to be relayed", settled);
    expect(await written()).toEqual(before);
  });
});

describe("what a caller sees", () => {
  let viewer: Clients;
  beforeAll(() => {
    viewer = clientsOf({ subject: "viewer-a" }, "grpc");
  });

  it("a hidden item is NOT_FOUND worded exactly as a missing one", async () => {
    const message = async (call: () => Promise<unknown>) => {
      try {
        await call();
      } catch (err) {
        const ce = ConnectError.from(err);
        return `${Code[ce.code]} ${ce.rawMessage}`;
      }
      return "ok";
    };
    const missingReceipt = "00000000-0000-7000-8000-00000000dead";
    const pairs: [() => Promise<unknown>, () => Promise<unknown>, string, string][] = [
      [() => viewer.receipts.getReceipt({ receiptId: seeded.receipt.other }), () => viewer.receipts.getReceipt({ receiptId: missingReceipt }), seeded.receipt.other, missingReceipt],
      [() => viewer.receipts.getSegmentProvenance({ segmentId: SEGMENT.other }), () => viewer.receipts.getSegmentProvenance({ segmentId: "no-such-seg" }), SEGMENT.other, "no-such-seg"],
      [() => viewer.assets.getAsset({ assetId: ASSET.other }), () => viewer.assets.getAsset({ assetId: "no-such-asset" }), ASSET.other, "no-such-asset"],
      [() => viewer.assets.listVersions({ assetId: ASSET.other }), () => viewer.assets.listVersions({ assetId: "no-such-asset" }), ASSET.other, "no-such-asset"],
      [() => viewer.assets.getVersion({ assetId: ASSET.other, version: 1 }), () => viewer.assets.getVersion({ assetId: "no-such-asset", version: 1 }), ASSET.other, "no-such-asset"],
      [
        () => viewer.regeneration.getRegenerationBatch({ batchId: seeded.batch.other }),
        () => viewer.regeneration.getRegenerationBatch({ batchId: "no-such-batch" }),
        seeded.batch.other,
        "no-such-batch",
      ],
    ];
    for (const [hidden, missing, hiddenId, missingId] of pairs) {
      const h = await message(hidden);
      expect(h).toMatch(/^NotFound /);
      expect(h.replace(hiddenId, missingId)).toBe(await message(missing));
    }
    const rest = async (id: string) => {
      const res = await fetch(`${urls.receipts}/api/segments/${id}/provenance`, { headers: await authorization({ name: "viewer", credentials: async () => ({ subject: "viewer-a" }) }) });
      return `${res.status} ${JSON.stringify(await res.json())}`;
    };
    expect((await rest(SEGMENT.other)).replace(SEGMENT.other, "no-such-seg")).toBe(await rest("no-such-seg"));
  });

  it("lists, reports and usage of a shared model show only the caller's projects", async () => {
    expect((await viewer.receipts.listProjects({})).projects.map((p) => p.projectId)).toEqual([A]);
    expect((await admin.receipts.listProjects({})).projects.map((p) => p.projectId)).toEqual([A, B]);
    expect((await viewer.assets.listAssets({})).assets.map((a) => a.assetId).sort()).toEqual([ASSET.own, ASSET.shared, PIN_ASSET.own].sort());
    expect((await viewer.receipts.findReceiptsByInputsHash({ inputsHash: seeded.inputsHash.other })).receipts).toEqual([]);
    const current = async (c: Clients) => (await c.receipts.batchGetCurrentReceipts({ segmentIds: [SEGMENT.other, SEGMENT.own, "no-such-seg"] })).segments;
    expect((await current(viewer)).map((s) => [s.segment!.segmentId, s.currentReceipt!.receiptId])).toEqual([[SEGMENT.own, seeded.receipt.own]]);
    expect((await current(admin)).map((s) => s.segment!.segmentId)).toEqual([SEGMENT.other, SEGMENT.own]);
    expect((await viewer.receipts.getAssetUsage({ assetId: ASSET.shared })).usages.map((u) => u.projectId)).toEqual([A]);
    expect((await admin.receipts.getAssetUsage({ assetId: ASSET.shared })).usages.map((u) => u.projectId).sort()).toEqual([A, B]);
    expect((await viewer.receipts.getAssetUsage({ assetId: ASSET.other })).usages).toEqual([]);
    // A version filter is resolved in AssetService with the caller's own token: another project's asset is not found.
    expect((await viewer.receipts.getAssetUsage({ assetId: ASSET.own, version: 1 })).usages.map((u) => u.segmentId)).toEqual([SEGMENT.own]);
    const hiddenVersion = await failureOf(viewer.receipts.getAssetUsage({ assetId: ASSET.other, version: 1 }));
    expect(`${Code[hiddenVersion.code]} ${hiddenVersion.rawMessage}`).toBe(`NotFound asset version "${ASSET.other} v1" not found`);
    expect((await admin.receipts.getAssetUsage({ assetId: ASSET.other, version: 1 })).usages.map((u) => u.segmentId)).toEqual([SEGMENT.other]);
    const report = await viewer.staleness.getStalenessReport({});
    expect({ active: report.totalActiveSegments, stale: report.totalStaleSegments, projects: report.byAsset.map((g) => g.projectId) }).toEqual({
      active: 1,
      stale: 1,
      projects: [A],
    });
    expect((await viewer.staleness.listStaleSegments({})).segments.map((s) => s.segmentId)).toEqual([SEGMENT.own]);
    expect((await viewer.staleness.listStaleSegments({ assetId: ASSET.other })).segments).toEqual([]);
    expect((await viewer.regeneration.listRegenerationJobs({ batchId: seeded.batch.other })).jobs).toEqual([]);
    expect((await admin.regeneration.listRegenerationJobs({ batchId: seeded.batch.other })).jobs).toHaveLength(1);
    const usageCounts = async (c: Clients) => (await c.assets.listVersions({ assetId: ASSET.shared })).versions.map((v) => v.usageCount);
    expect(await usageCounts(viewer)).toEqual([1]);
    expect(await usageCounts(admin)).toEqual([2]);
    const rest = await fetch(`${urls.receipts}/api/assets/${ASSET.shared}/usage`, { headers: { authorization: `Bearer ${await env.token({ subject: "viewer-a" })}` } });
    expect(((await rest.json()) as { usages: { projectId: string }[] }).usages.map((u) => u.projectId)).toEqual([A]);
  });

  it("a receipt cannot supersede a segment of another project, whoever records it; nothing is written", async () => {
    const before = await written();
    for (const who of ["pipeline-a", "admin-all"]) {
      const c = clientsOf({ subject: who }, "grpc");
      const req = create(CreateReceiptRequestSchema, {
        ...receiptRequest(A, `ma-regen-by-${who}`, ASSET.own),
        supersedesSegmentId: SEGMENT.other,
        idempotencyKey: `matrix-supersede-${who}`,
      });
      const err = await failureOf(c.receipts.createReceipt(req));
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.rawMessage).toBe(`supersedes_segment_id: segment "${SEGMENT.other}" cannot be superseded from this project`);
    }
    expect(await written()).toEqual(before);
  });

  it("WatchStaleness without a project streams only the caller's projects' changes", async () => {
    const collect = (c: Clients) => {
      const abort = new AbortController();
      const seen: string[] = [];
      const done = (async () => {
        for await (const res of c.staleness.watchStaleness({}, { signal: abort.signal })) seen.push(res.change!.projectId);
      })().catch(() => undefined);
      return { seen, stop: async () => (abort.abort(), await done) };
    };
    const watchers = { viewer: collect(viewer), group: collect(clientsOf({ subject: "someone-in-team-a", groups: ["team-a"] }, "connect")), admin: collect(admin) };
    await new Promise((r) => setTimeout(r, 500));
    await admin.assets.publishVersion({ assetId: ASSET.other, contentHash: sha(`${ASSET.other} v3`) });
    await admin.assets.publishVersion({ assetId: ASSET.own, contentHash: sha(`${ASSET.own} v3`) });
    await until("the admin to see both changes", async () => watchers.admin.seen.length >= 2);
    await until("the viewer to see its project's change", async () => watchers.viewer.seen.length >= 1 && watchers.group.seen.length >= 1);
    // B's change was published first: had it reached the viewer, it would be there by now.
    for (const w of Object.values(watchers)) await w.stop();
    expect(watchers.admin.seen.sort()).toEqual([A, B]);
    expect(watchers.viewer.seen).toEqual([A]);
    expect(watchers.group.seen).toEqual([A]);
  });
});
