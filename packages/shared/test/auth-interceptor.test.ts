/**
 * The access decision through a real server on port 0: the generated provenance services with stub handlers behind
 * createServiceServer, the auth interceptor, real tokens (EdDSA, a JWKS file) and a real policy file. A matrix of
 * principals × operations asserts the code of every answer and that a refused call never reached its handler.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type CallOptions, type Client, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ACCESS_TABLE,
  REST_ROUTE_PROCEDURES,
  bearerHeader,
  callerOf,
  createAccessControl,
  createAuthInterceptor,
  createServiceAuth,
  loadAuthConfig,
  loadPolicyFile,
  createTokenVerifier,
  type ProjectRef,
  type ServiceAuth,
} from "../src/auth/index.js";
import { errorInterceptor, notFound } from "../src/errors/index.js";
import { Health, HealthCheckResponse_ServingStatus } from "../src/gen/grpc/health/v1/health_pb.js";
import {
  AssetService,
  GetAssetResponseSchema,
  GetReceiptResponseSchema,
  GetSegmentProvenanceRequestSchema,
  ListProjectsResponseSchema,
  ReceiptService,
  RegenerationService,
  StalenessService,
  WatchStalenessResponseSchema,
} from "../src/index.js";
import { createServiceServer, type ServiceServer } from "../src/server/index.js";
import { validationInterceptor } from "../src/validation/index.js";

const logger = pino({ level: "silent" });
const ISSUER = "https://issuer.test";

/** What exists, and in which project (null: no project). */
const RECEIPTS = new Map<string, string>([["r-a", "A"], ["r-b", "B"]]);
const SEGMENTS = new Map<string, string>([["s-a", "A"], ["s-b", "B"]]);
const ASSETS = new Map<string, ProjectRef>([["asset-a", "A"], ["asset-b", "B"], ["model-shared", null]]);
const BATCHES = new Map<string, string>([["batch-a", "A"], ["batch-b", "B"]]);

const known = <V>(map: Map<string, V>) => async (ids: readonly string[]) => new Map(ids.filter((id) => map.has(id)).map((id) => [id, map.get(id)!]));

/** Every handler call that got through, as "Method subject". */
const calls: string[] = [];
const record = (method: string, ctx: HandlerContext) => {
  const caller = callerOf(ctx);
  calls.push(`${method} ${caller.principal.subject}`);
  return caller;
};

let dir: string;
let signingKey: CryptoKey;
let auth: ServiceAuth;
let server: ServiceServer;
let baseUrl: string;

async function token(sub: string | undefined, extra: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: JWTPayload = { iss: ISSUER, aud: "provenance", exp: now + 600, ...extra };
  if (sub !== undefined) claims.sub = sub;
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid: "test-key" }).sign(signingKey);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-interceptor-"));
  const { privateKey, publicKey } = await generateKeyPair("EdDSA");
  signingKey = privateKey;
  await writeFile(join(dir, "jwks.json"), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "test-key", alg: "EdDSA" }] }));
  await writeFile(
    join(dir, "policy.yaml"),
    [
      "grants:",
      "  - { subject: viewer-a, project: A, role: viewer }",
      "  - { subject: pipeline-a, project: A, role: pipeline }",
      "  - { subject: creator-a, project: A, role: creator }",
      "  - { subject: admin-a, project: A, role: admin }",
      '  - { subject: admin-all, project: "*", role: admin }',
      "  - { group: team-a, project: A, role: creator }",
      "",
    ].join("\n"),
  );
  const config = loadAuthConfig({ AUTH_JWKS: join(dir, "jwks.json"), AUTH_ISSUER: ISSUER, AUTH_POLICY: join(dir, "policy.yaml") });
  auth = await createServiceAuth(config, {
    logger,
    resolvers: { receipt: known(RECEIPTS), segment: known(SEGMENTS), asset: known(ASSETS), batch: known(BATCHES) },
  });

  server = createServiceServer({
    name: "auth-test",
    logger,
    services: [ReceiptService.typeName, AssetService.typeName, StalenessService.typeName, RegenerationService.typeName],
    interceptors: [errorInterceptor(logger), auth.interceptor, validationInterceptor([])],
    routes(router) {
      router.service(ReceiptService, {
        async getReceipt(req, ctx) {
          const caller = record("GetReceipt", ctx);
          if (!RECEIPTS.has(req.receiptId)) throw notFound("receipt", req.receiptId);
          return create(GetReceiptResponseSchema, { receipt: { receiptId: req.receiptId, projectId: RECEIPTS.get(req.receiptId), segmentId: caller.principal.subject } });
        },
        async createReceipt(req, ctx) {
          const caller = record("CreateReceipt", ctx);
          return { receipt: { projectId: req.projectId, segmentId: caller.principal.subject }, created: true };
        },
        async createReceipts(req, ctx) {
          record("CreateReceipts", ctx);
          return { results: req.receipts.map(() => ({ created: true })) };
        },
        async completeReceipt(req, ctx) {
          record("CompleteReceipt", ctx);
          if (!RECEIPTS.has(req.receiptId)) throw notFound("receipt", req.receiptId);
          return { receipt: { receiptId: req.receiptId } };
        },
        async listProjects(_req, ctx) {
          const caller = record("ListProjects", ctx);
          const all = ["A", "B", "C"];
          return create(ListProjectsResponseSchema, { projects: all.filter((p) => caller.canView(p)).map((projectId) => ({ projectId })) });
        },
        async listSegments(req, ctx) {
          record("ListSegments", ctx);
          return { segments: [...SEGMENTS].filter(([, p]) => p === req.projectId).map(([segmentId]) => ({ segment: { segmentId } })) };
        },
      });
      router.service(AssetService, {
        async registerAsset(req, ctx) {
          record("RegisterAsset", ctx);
          return { asset: { assetId: "new", projectId: req.projectId }, created: true };
        },
        async publishVersion(req, ctx) {
          const caller = record("PublishVersion", ctx);
          if (!ASSETS.has(req.assetId)) throw notFound("asset", req.assetId);
          return { version: { assetId: req.assetId, uploadedBy: caller.principal.subject }, created: true };
        },
        async getAsset(req, ctx) {
          record("GetAsset", ctx);
          if (!ASSETS.has(req.assetId)) throw notFound("asset", req.assetId);
          return create(GetAssetResponseSchema, { asset: { assetId: req.assetId, projectId: ASSETS.get(req.assetId) ?? "" } });
        },
        async getVersion(req, ctx) {
          record("GetVersion", ctx);
          if (!ASSETS.has(req.assetId) || req.version !== 1) throw notFound("asset version", `${req.assetId} v${req.version}`);
          return { version: { assetId: req.assetId, version: 1 } };
        },
      });
      router.service(StalenessService, {
        async *watchStaleness(req, ctx) {
          const caller = record("WatchStaleness", ctx);
          for (const projectId of ["A", "B", "C"]) {
            if (req.projectId !== "" && req.projectId !== projectId) continue;
            if (caller.canView(projectId)) yield create(WatchStalenessResponseSchema, { change: { projectId, staleSegmentIds: [caller.principal.subject] } });
          }
        },
      });
      router.service(RegenerationService, {
        async submitRegeneration(req, ctx) {
          const caller = record("SubmitRegeneration", ctx);
          return { batch: { projectId: req.projectId, requestedBy: caller.principal.subject }, created: true };
        },
        async getRegenerationBatch(req, ctx) {
          record("GetRegenerationBatch", ctx);
          if (!BATCHES.has(req.batchId)) throw notFound("regeneration batch", req.batchId);
          return { batch: { batchId: req.batchId } };
        },
      });
    },
    rest: [
      {
        method: "GET",
        path: "/api/segments/:id/provenance",
        handler: async ({ params, headers }) => {
          const message = create(GetSegmentProvenanceRequestSchema, { segmentId: params.id });
          const caller = await auth.decide({ procedure: REST_ROUTE_PROCEDURES["GET /api/segments/:id/provenance"]!, headers, message });
          if (!SEGMENTS.has(params.id!)) throw notFound("segment", params.id!);
          return { segment_id: params.id, viewer: caller.principal.subject };
        },
      },
    ],
  });
  ({ url: baseUrl } = await server.listen(0, "127.0.0.1"));
});

afterAll(async () => {
  await server?.close(500);
  await rm(dir, { recursive: true, force: true });
});

const transport = () => createConnectTransport({ baseUrl, httpVersion: "1.1" });
const clients = () => ({
  receipts: createClient(ReceiptService, transport()),
  assets: createClient(AssetService, transport()),
  staleness: createClient(StalenessService, transport()),
  regeneration: createClient(RegenerationService, transport()),
});
type Clients = ReturnType<typeof clients>;

const as = (t: string | undefined): CallOptions => (t === undefined ? {} : { headers: { authorization: bearerHeader(t) } });

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

async function errorOf(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}

/** The operations of the matrix: reads and writes, own project, another project, shared assets. */
const OPERATIONS: Record<string, (c: Clients, o: CallOptions) => Promise<unknown>> = {
  "GetReceipt own": (c, o) => c.receipts.getReceipt({ receiptId: "r-a" }, o),
  "GetReceipt other": (c, o) => c.receipts.getReceipt({ receiptId: "r-b" }, o),
  "GetReceipt missing": (c, o) => c.receipts.getReceipt({ receiptId: "r-zz" }, o),
  "CompleteReceipt missing": (c, o) => c.receipts.completeReceipt({ receiptId: "r-zz" }, o),
  "CreateReceipt own": (c, o) => c.receipts.createReceipt({ projectId: "A", segmentId: "s-new" }, o),
  "CreateReceipt other": (c, o) => c.receipts.createReceipt({ projectId: "B", segmentId: "s-new" }, o),
  "CompleteReceipt other": (c, o) => c.receipts.completeReceipt({ receiptId: "r-b" }, o),
  "PublishVersion own": (c, o) => c.assets.publishVersion({ assetId: "asset-a" }, o),
  "PublishVersion shared": (c, o) => c.assets.publishVersion({ assetId: "model-shared" }, o),
  "GetAsset shared": (c, o) => c.assets.getAsset({ assetId: "model-shared" }, o),
  "RegisterAsset shared": (c, o) => c.assets.registerAsset({ projectId: "" }, o),
  "RegisterAsset own": (c, o) => c.assets.registerAsset({ projectId: "A" }, o),
  "ListSegments other": (c, o) => c.receipts.listSegments({ projectId: "B" }, o),
  ListProjects: (c, o) => c.receipts.listProjects({}, o),
  "SubmitRegeneration own": (c, o) => c.regeneration.submitRegeneration({ projectId: "A" }, o),
  "GetRegenerationBatch other": (c, o) => c.regeneration.getRegenerationBatch({ batchId: "batch-b" }, o),
};

const U = Code.Unauthenticated;
const D = Code.PermissionDenied;
const N = Code.NotFound;
const ok = "ok" as const;
type Expect = Code | "ok";

/** Expected answer per principal, in the order of OPERATIONS. */
const EXPECTED: Record<string, Expect[]> = {
  "no token": [U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U],
  expired: [U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U],
  "wrong audience": [U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U],
  "viewer of A": [ok, N, N, D, D, D, D, D, D, ok, D, D, D, ok, D, N],
  "pipeline of A": [ok, N, N, N, ok, D, D, D, D, ok, D, D, D, ok, D, N],
  "creator of A": [ok, N, N, N, ok, D, D, ok, D, ok, D, D, D, ok, ok, N],
  "admin of A": [ok, N, N, N, ok, D, D, ok, D, ok, D, ok, D, ok, ok, N],
  "admin of *": [ok, ok, N, N, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok, ok],
  "creator of A by group": [ok, N, N, N, ok, D, D, ok, D, ok, D, D, D, ok, ok, N],
  "no grant": [N, N, N, D, D, D, D, D, D, N, D, D, D, D, D, N],
};

async function tokenOf(principal: string): Promise<string | undefined> {
  switch (principal) {
    case "no token":
      return undefined;
    case "expired":
      return token("admin-all", { exp: Math.floor(Date.now() / 1000) - 3600 });
    case "wrong audience":
      return token("admin-all", { aud: "another-system" });
    case "viewer of A":
      return token("viewer-a");
    case "pipeline of A":
      return token("pipeline-a");
    case "creator of A":
      return token("creator-a");
    case "admin of A":
      return token("admin-a");
    case "admin of *":
      return token("admin-all");
    case "creator of A by group":
      return token("member", { groups: ["team-a"] });
    case "no grant":
      return token("stranger", { groups: ["nobody"] });
    default:
      throw new Error(principal);
  }
}

describe("the matrix: principals × operations", () => {
  for (const [principal, expected] of Object.entries(EXPECTED)) {
    it(principal, async () => {
      const c = clients();
      const o = as(await tokenOf(principal));
      const names = Object.keys(OPERATIONS);
      expect(expected).toHaveLength(names.length);
      const got: Record<string, Expect> = {};
      for (const name of names) {
        const before = calls.length;
        got[name] = await codeOf(OPERATIONS[name]!(c, o));
        // A refused call never reaches the handler, so it can have written nothing (a missing item is the handler's).
        if (got[name] !== "ok" && !name.endsWith("missing")) expect(calls.length, `${name} reached its handler`).toBe(before);
      }
      expect(got).toEqual(Object.fromEntries(names.map((n, i) => [n, expected[i]])));
    });
  }
});

describe("answers", () => {
  it("UNAUTHENTICATED names the reason and nothing else", async () => {
    const c = clients();
    expect((await errorOf(c.receipts.getReceipt({ receiptId: "r-a" }))).rawMessage).toBe("missing bearer token (authorization: Bearer <JWT>)");
    const expired = await errorOf(c.receipts.getReceipt({ receiptId: "r-a" }, as(await tokenOf("expired"))));
    expect(expired.rawMessage).toBe("token expired");
    const garbage = await errorOf(c.receipts.getReceipt({ receiptId: "r-a" }, { headers: { authorization: "Bearer not.a.jwt" } }));
    expect(garbage.code).toBe(Code.Unauthenticated);
    const basic = await errorOf(c.receipts.getReceipt({ receiptId: "r-a" }, { headers: { authorization: "Basic YWRtaW46YWRtaW4=" } }));
    expect(basic.code).toBe(Code.Unauthenticated);
    expect((await errorOf(c.receipts.getReceipt({ receiptId: "r-a" }, as(await token(undefined))))).rawMessage).toBe("malformed token: no sub claim");
  });

  it("a hidden item reads exactly like a missing one", async () => {
    const c = clients();
    const viewer = as(await token("viewer-a"));
    const hidden = await errorOf(c.receipts.getReceipt({ receiptId: "r-b" }, viewer));
    const missing = await errorOf(c.receipts.getReceipt({ receiptId: "r-zz" }, viewer));
    expect(hidden.code).toBe(Code.NotFound);
    expect(missing.code).toBe(Code.NotFound);
    expect(hidden.rawMessage).toBe('receipt "r-b" not found');
    expect(missing.rawMessage).toBe('receipt "r-zz" not found');
    expect([...hidden.metadata.keys()]).toEqual([...missing.metadata.keys()]);
    const hiddenVersion = await errorOf(c.assets.getVersion({ assetId: "asset-b", version: 1 }, viewer));
    expect(hiddenVersion.rawMessage).toBe('asset version "asset-b v1" not found');
    expect((await errorOf(c.assets.getVersion({ assetId: "asset-zz", version: 1 }, viewer))).rawMessage).toBe('asset version "asset-zz v1" not found');
    expect((await errorOf(c.regeneration.getRegenerationBatch({ batchId: "batch-b" }, viewer))).rawMessage).toBe('regeneration batch "batch-b" not found');
  });

  it("a write the caller may not make says what is missing, without naming a project it cannot see", async () => {
    const c = clients();
    const pipeline = as(await token("pipeline-a"));
    const named = await errorOf(c.receipts.createReceipt({ projectId: "B" }, pipeline));
    expect(named.rawMessage).toBe('permission denied: needs the pipeline role in project "B" (project_id)');
    const looked = await errorOf(c.receipts.completeReceipt({ receiptId: "r-b" }, pipeline));
    expect(looked.code).toBe(Code.PermissionDenied);
    expect(looked.rawMessage).not.toContain("B");
    const shared = await errorOf(c.assets.publishVersion({ assetId: "model-shared" }, as(await token("admin-a"))));
    expect(shared.rawMessage).toMatch(/on every project \("\*"\)/);
  });

  it("a write to an unknown item is the handler's NOT_FOUND", async () => {
    const c = clients();
    const e = await errorOf(c.receipts.completeReceipt({ receiptId: "r-zz" }, as(await token("pipeline-a"))));
    expect(e.code).toBe(Code.NotFound);
    expect(e.rawMessage).toBe('receipt "r-zz" not found');
  });

  it("a batch is refused when any entry names a project the caller may not write, naming the entry", async () => {
    const c = clients();
    const before = calls.length;
    const e = await errorOf(c.receipts.createReceipts({ receipts: [{ projectId: "A" }, { projectId: "B" }] }, as(await token("pipeline-a"))));
    expect(e.code).toBe(Code.PermissionDenied);
    expect(e.rawMessage).toContain("receipts[1].project_id");
    expect(calls.length).toBe(before);
    await expect(c.receipts.createReceipts({ receipts: [{ projectId: "A" }, { projectId: "A" }] }, as(await token("pipeline-a")))).resolves.toBeDefined();
  });

  it("an empty required project is INVALID_ARGUMENT naming the field", async () => {
    const c = clients();
    const e = await errorOf(c.receipts.createReceipts({ receipts: [{ projectId: "A" }, { projectId: "" }] }, as(await token("admin-all"))));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.rawMessage).toBe("receipts[1].project_id: is required: send a non-empty id");
    expect(e.metadata.get("x-error-field")).toBe("receipts[1].project_id");
  });

  it("the handler gets the caller: its subject to record and its viewable projects to filter by", async () => {
    const c = clients();
    const res = await c.receipts.createReceipt({ projectId: "A" }, as(await token("pipeline-a")));
    expect(res.receipt?.segmentId).toBe("pipeline-a");
    const listed = await c.receipts.listProjects({}, as(await token("member", { groups: ["team-a"] })));
    expect(listed.projects.map((p) => p.projectId)).toEqual(["A"]);
    const all = await c.receipts.listProjects({}, as(await token("admin-all")));
    expect(all.projects.map((p) => p.projectId)).toEqual(["A", "B", "C"]);
    const version = await c.assets.publishVersion({ assetId: "asset-a", uploadedBy: "someone-else" }, as(await token("creator-a")));
    expect(version.version?.uploadedBy).toBe("creator-a");
  });

  it("health needs no token", async () => {
    const health = createClient(Health, transport());
    expect((await health.check({})).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  it("gRPC callers send the token as metadata", async () => {
    const c = createClient(ReceiptService, createGrpcTransport({ baseUrl }));
    expect((await c.getReceipt({ receiptId: "r-a" }, as(await token("viewer-a")))).receipt?.segmentId).toBe("viewer-a");
    expect(await codeOf(c.getReceipt({ receiptId: "r-a" }))).toBe(Code.Unauthenticated);
    expect(await codeOf(c.getReceipt({ receiptId: "r-b" }, as(await token("viewer-a"))))).toBe(Code.NotFound);
  });
});

describe("WatchStaleness goes through the same decision", () => {
  const collect = async (projectId: string, o: CallOptions, grpc = false) => {
    const c: Client<typeof StalenessService> = createClient(StalenessService, grpc ? createGrpcTransport({ baseUrl }) : transport());
    const out: string[] = [];
    for await (const m of c.watchStaleness({ projectId }, o)) out.push(`${m.change?.projectId}:${m.change?.staleSegmentIds[0]}`);
    return out;
  };

  it("without a token: UNAUTHENTICATED, the stream never starts", async () => {
    const before = calls.length;
    expect(await codeOf(collect("", {}))).toBe(Code.Unauthenticated);
    expect(await codeOf(collect("", {}, true))).toBe(Code.Unauthenticated);
    expect(calls.length).toBe(before);
  });

  it("naming a project the caller cannot view: PERMISSION_DENIED", async () => {
    expect(await codeOf(collect("B", as(await token("viewer-a"))))).toBe(Code.PermissionDenied);
  });

  it("without a project: only the projects the caller can view", async () => {
    expect(await collect("", as(await token("viewer-a")))).toEqual(["A:viewer-a"]);
    expect(await collect("", as(await token("admin-all")), true)).toEqual(["A:admin-all", "B:admin-all", "C:admin-all"]);
    expect(await collect("A", as(await token("member", { groups: ["team-a"] })))).toEqual(["A:member"]);
  });

  it("a caller with no grant at all is refused", async () => {
    expect(await codeOf(collect("", as(await token("stranger"))))).toBe(Code.PermissionDenied);
  });
});

describe("REST routes use the same decision", () => {
  const get = async (path: string, t?: string) => {
    const res = await fetch(`${baseUrl}${path}`, { headers: t === undefined ? {} : { authorization: bearerHeader(t) } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("401 without a token, 404 for a hidden segment (like a missing one), 200 for a viewable one", async () => {
    expect((await get("/api/segments/s-a/provenance")).status).toBe(401);
    const viewer = await token("viewer-a");
    const hidden = await get("/api/segments/s-b/provenance", viewer);
    const missing = await get("/api/segments/s-zz/provenance", viewer);
    expect(hidden).toEqual({ status: 404, body: { code: "not_found", message: 'segment "s-b" not found' } });
    expect(missing).toEqual({ status: 404, body: { code: "not_found", message: 'segment "s-zz" not found' } });
    expect(await get("/api/segments/s-a/provenance", viewer)).toEqual({ status: 200, body: { segment_id: "s-a", viewer: "viewer-a" } });
    expect((await get("/api/segments/s-b/provenance", await token("admin-all"))).status).toBe(200);
  });
});

describe("fail closed", () => {
  it("a method missing from the table is PERMISSION_DENIED, even for an admin of *", async () => {
    const { [`provenance.v1.AssetService/GetAsset`]: _gone, ...table } = ACCESS_TABLE;
    const access = createAccessControl({
      verifier: await createTokenVerifier({ jwks: { kind: "file", path: join(dir, "jwks.json") }, issuer: ISSUER, audience: "provenance" }),
      policy: await loadPolicyFile(join(dir, "policy.yaml")),
      resolvers: { asset: known(ASSETS) },
      table,
    });
    const t = createRouterTransport(
      (router) => {
        router.service(AssetService, { getAsset: async () => ({ asset: { assetId: "x" } }), listVersions: async () => ({}) });
      },
      { router: { interceptors: [createAuthInterceptor(access)] } },
    );
    const c = createClient(AssetService, t);
    const admin = as(await token("admin-all"));
    const e = await errorOf(c.getAsset({ assetId: "asset-a" }, admin));
    expect(e.code).toBe(Code.PermissionDenied);
    expect(e.rawMessage).toBe("permission denied: provenance.v1.AssetService/GetAsset has no access rule");
    expect(await codeOf(c.getAsset({ assetId: "asset-a" }))).toBe(Code.Unauthenticated);
    expect(await codeOf(c.listVersions({ assetId: "asset-a" }, admin))).toBe("ok");
  });

  it("a rule whose resolver the service did not supply is PERMISSION_DENIED", async () => {
    const access = createAccessControl({
      verifier: await createTokenVerifier({ jwks: { kind: "file", path: join(dir, "jwks.json") }, issuer: ISSUER, audience: "provenance" }),
      policy: await loadPolicyFile(join(dir, "policy.yaml")),
    });
    const t = createRouterTransport((router) => router.service(AssetService, { getAsset: async () => ({}) }), {
      router: { interceptors: [createAuthInterceptor(access)] },
    });
    expect(await codeOf(createClient(AssetService, t).getAsset({ assetId: "asset-a" }, as(await token("admin-all"))))).toBe(Code.PermissionDenied);
  });

  it("callerOf in a handler without the interceptor is UNAUTHENTICATED", async () => {
    const t = createRouterTransport((router) =>
      router.service(AssetService, {
        getAsset: async (_req, ctx) => {
          callerOf(ctx);
          return {};
        },
      }),
    );
    expect(await codeOf(createClient(AssetService, t).getAsset({ assetId: "x" }))).toBe(Code.Unauthenticated);
  });
});
