/**
 * How the shared bootstrap wires identity and access into every service: loadConfig requires the auth variables (no
 * setting turns checking off), commonServerOptions puts the decision inside the error mapping and before validation,
 * and a REST route is decided by the rule of the RPC it stands for.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboundAuthInterceptor, createServiceAuth, ensureLocalIssuer, loadAuthConfig, staticTokenSource, type LocalIssuer, type ServiceAuth } from "../src/auth/index.js";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { GetReceiptRequestSchema, GetReceiptResponseSchema, GetSegmentProvenanceRequestSchema, ReceiptService } from "../src/index.js";
import { commonServerOptions, createServiceServer, decidedRestRoute, type ServiceServer } from "../src/server/index.js";
import { defineRules, id, validate } from "../src/validation/index.js";

const logger = pino({ level: "silent" });
const rules = [defineRules(GetReceiptRequestSchema, { receipt_id: id({ max: 40 }) }), defineRules(GetSegmentProvenanceRequestSchema, { segment_id: id({ max: 40 }) })];
const SEGMENTS = new Map([["s-a", "A"], ["s-b", "B"]]);

let dir: string;
let issuer: LocalIssuer;
let auth: ServiceAuth;
let server: ServiceServer;
let url: string;
const reached: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auth-wiring-"));
  issuer = await ensureLocalIssuer(join(dir, "auth"), { subject: "admin" });
  await writeFile(
    issuer.policyFile,
    JSON.stringify({ grants: [{ subject: "admin", project: "*", role: "admin" }, { subject: "viewer-a", project: "A", role: "viewer" }] }),
  );
  auth = await createServiceAuth(loadAuthConfig(issuer.env()), {
    logger,
    resolvers: {
      segment: async (ids) => new Map(ids.filter((i) => SEGMENTS.has(i)).map((i) => [i, SEGMENTS.get(i)!])),
      receipt: async () => new Map(),
    },
  });
  server = createServiceServer({
    name: "wiring-test",
    services: [ReceiptService.typeName],
    routes: (router) =>
      router.service(ReceiptService, {
        async getReceipt(req) {
          reached.push(`rpc ${req.receiptId}`);
          return create(GetReceiptResponseSchema, { receipt: { receiptId: req.receiptId } });
        },
      }),
    ...commonServerOptions({ logger, auth }, rules),
    rest: [
      decidedRestRoute(auth, {
        method: "GET",
        path: "/api/segments/:id/provenance",
        request: ({ params, query }) => {
          if (query.has("bad")) throw new ConnectError("bad: must not be given", Code.InvalidArgument);
          return create(GetSegmentProvenanceRequestSchema, { segmentId: params.id });
        },
        handle: async (req, caller) => {
          validate(GetSegmentProvenanceRequestSchema, req, rules);
          reached.push(`rest ${req.segmentId} ${caller.principal.subject}`);
          if (!SEGMENTS.has(req.segmentId)) throw new ConnectError(`segment "${req.segmentId}" not found`, Code.NotFound);
          return { segmentId: req.segmentId, by: caller.principal.subject };
        },
      }),
    ],
  });
  ({ url } = await server.listen(0, "127.0.0.1"));
});
afterAll(async () => {
  await server?.close(100);
  await rm(dir, { recursive: true, force: true });
});

describe("loadConfig", () => {
  const base = { AUTH_JWKS: "/etc/provenance/jwks.json", AUTH_ISSUER: "https://issuer.example", AUTH_POLICY: "/etc/provenance/policy.yaml" };

  it("reads the identity variables into config.auth", () => {
    expect(loadConfig("staleness", { ...base, SERVICE_TOKEN_FILE: "/run/token" }).auth).toEqual({
      jwks: { kind: "file", path: "/etc/provenance/jwks.json" },
      issuer: "https://issuer.example",
      audience: "provenance",
      policyFile: "/etc/provenance/policy.yaml",
      serviceTokenFile: "/run/token",
    });
  });

  it.each(["AUTH_JWKS", "AUTH_ISSUER", "AUTH_POLICY"])("requires %s, naming it; no variable turns checking off", (name) => {
    const env: Record<string, string> = { ...base, AUTH_DISABLED: "true", AUTH_MODE: "off", AUTH: "none" };
    delete env[name];
    expect(() => loadConfig("receipts", env)).toThrow(ConfigError);
    expect(() => loadConfig("receipts", env)).toThrow(new RegExp(`^${name}: is required`));
  });
});

describe("the RPC chain", () => {
  const client = (token?: string) =>
    createClient(
      ReceiptService,
      createGrpcTransport({ baseUrl: url, interceptors: token ? [createOutboundAuthInterceptor({ serviceToken: staticTokenSource(token) })] : [] }),
    );

  it("decides before validation: an anonymous caller learns nothing, not even which field is wrong", async () => {
    const failure = (p: Promise<unknown>) => p.then(() => new ConnectError("expected a refusal", Code.Unknown), (e: unknown) => ConnectError.from(e));
    const anonymous = await failure(client().getReceipt({ receiptId: "" }));
    expect(anonymous.code).toBe(Code.Unauthenticated);
    const signedIn = await failure(client(await issuer.mintToken({ subject: "admin" })).getReceipt({ receiptId: "" }));
    expect(signedIn.code).toBe(Code.InvalidArgument);
    expect(signedIn.rawMessage).toContain("receipt_id");
    expect(reached).not.toContain("rpc ");
  });

  it("lets a caller with a grant through", async () => {
    const res = await client(await issuer.mintToken({ subject: "admin" })).getReceipt({ receiptId: "r-1" });
    expect(res.receipt!.receiptId).toBe("r-1");
    expect(reached).toContain("rpc r-1");
  });
});

describe("a decided REST route", () => {
  const get = async (path: string, subject?: string) => {
    const headers: Record<string, string> = subject ? { authorization: `Bearer ${await issuer.mintToken({ subject })}` } : {};
    const res = await fetch(`${url}${path}`, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("authenticates before it reads the request: 401 even for a malformed one", async () => {
    const before = reached.length;
    expect(await get("/api/segments/s-a/provenance")).toMatchObject({ status: 401, body: { code: "unauthenticated" } });
    expect(await get("/api/segments/s-a/provenance?bad=1")).toMatchObject({ status: 401 });
    expect(await get("/api/segments/s-a/provenance?bad=1", "admin")).toMatchObject({ status: 400 });
    expect(reached.length).toBe(before);
  });

  it("decides like the RPC it stands for: a hidden segment is 404 worded like a missing one", async () => {
    expect(await get("/api/segments/s-a/provenance", "viewer-a")).toEqual({ status: 200, body: { segmentId: "s-a", by: "viewer-a" } });
    const hidden = await get("/api/segments/s-b/provenance", "viewer-a");
    const missing = await get("/api/segments/s-x/provenance", "viewer-a");
    expect(hidden).toEqual({ status: 404, body: { code: "not_found", message: 'segment "s-b" not found' } });
    expect(missing).toEqual({ status: 404, body: { code: "not_found", message: 'segment "s-x" not found' } });
    expect(reached).not.toContain("rest s-b viewer-a");
  });

  it("cannot be built for a path that stands for no RPC", () => {
    expect(() => decidedRestRoute(auth, { method: "GET", path: "/api/unguarded", request: () => create(GetReceiptRequestSchema), handle: async () => ({}) })).toThrow(
      /REST route GET \/api\/unguarded is not in REST_ROUTE_PROCEDURES/,
    );
  });
});
