/**
 * The local issuer of npm start, SERVICE_TOKEN_FILE and outbound tokens: real key files, a real server on port 0 that
 * checks tokens from the issuer, and a client that presents its own token or forwards its caller's.
 */
import { create } from "@bufbuild/protobuf";
import { mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, type HandlerContext } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/index.js";
import {
  LOCAL_ISSUER,
  LOCAL_ISSUER_FILES,
  LOCAL_TOKEN_TTL_SECONDS,
  actingFor,
  bearerHeader,
  callerOf,
  createOutboundAuthInterceptor,
  createServiceAuth,
  ensureLocalIssuer,
  loadAuthConfig,
  openLocalIssuer,
  parsePolicy,
  readServiceTokenFile,
  roleIn,
  type LocalIssuer,
  type ServiceAuth,
} from "../src/auth/index.js";
import { errorInterceptor } from "../src/errors/index.js";
import { AssetService, ReceiptService } from "../src/index.js";
import { createServiceServer, type ServiceServer } from "../src/server/index.js";

const logger = pino({ level: "silent" });

/** A RegisterAsset request for a shared asset (no project): needs admin on "*". */
const sharedAssetRegistration = () => create(AssetService.method.registerAsset.input, { name: "base-model" });
let root: string;
let issuer: LocalIssuer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "auth-local-"));
  issuer = await ensureLocalIssuer(join(root, ".data", "auth"), { subject: "local:tester" });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("the local issuer", () => {
  it("makes a key pair once: private key 0600 in a 0700 directory whose parent stays open", async () => {
    const dir = join(root, ".data", "auth");
    expect((await stat(join(dir, LOCAL_ISSUER_FILES.signingKey))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(root, ".data"))).mode & 0o077).not.toBe(0);
    const jwks = JSON.parse(await readFile(issuer.jwksFile, "utf8")) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(jwks.keys[0]!.d).toBeUndefined();
    const again = await ensureLocalIssuer(dir, { subject: "someone-else" });
    expect(await readFile(again.jwksFile, "utf8")).toBe(await readFile(issuer.jwksFile, "utf8"));
    expect(again.subject).toBe("local:tester");
  });

  it("grants the local user admin on * in its policy file, and keeps the file once edited", async () => {
    const policy = parsePolicy(await readFile(issuer.policyFile, "utf8"));
    expect(policy.grants).toEqual([{ subject: "local:tester", project: "*", role: "admin" }]);
    expect(roleIn(policy, { subject: "local:tester", groups: [] }, null)).toBe("admin");
    const other = await ensureLocalIssuer(join(root, "edited"));
    await writeFile(other.policyFile, "grants: []\n");
    await ensureLocalIssuer(join(root, "edited"));
    expect(await readFile(other.policyFile, "utf8")).toBe("grants: []\n");
  });

  it("mints EdDSA tokens: sub, groups, aud, iss, 12 h exp", async () => {
    const t = await issuer.mintToken({ groups: ["team-a"] });
    expect(decodeProtectedHeader(t)).toMatchObject({ alg: "EdDSA", typ: "JWT" });
    const claims = decodeJwt(t);
    expect(claims).toMatchObject({ sub: "local:tester", groups: ["team-a"], aud: "provenance", iss: LOCAL_ISSUER });
    expect(claims.exp! - claims.iat!).toBe(LOCAL_TOKEN_TTL_SECONDS);
    expect(LOCAL_TOKEN_TTL_SECONDS).toBe(12 * 3600);
    expect(decodeJwt(await issuer.mintToken({ subject: "bob", ttlSeconds: 60 })).sub).toBe("bob");
  });

  it("points a service at itself through the AUTH_* variables", async () => {
    const env = issuer.env();
    expect(env).toEqual({ AUTH_JWKS: issuer.jwksFile, AUTH_ISSUER: LOCAL_ISSUER, AUTH_AUDIENCE: "provenance", AUTH_POLICY: issuer.policyFile });
    const auth = await createServiceAuth(loadAuthConfig(env), { logger });
    const headers = { authorization: bearerHeader(await issuer.mintToken()) };
    const caller = await auth.decide({ procedure: "provenance.v1.AssetService/RegisterAsset", headers, message: sharedAssetRegistration() });
    expect(caller.principal.subject).toBe("local:tester");
    const stranger = { authorization: bearerHeader(await issuer.mintToken({ subject: "bob" })) };
    await expect(auth.decide({ procedure: "provenance.v1.AssetService/RegisterAsset", headers: stranger, message: sharedAssetRegistration() })).rejects.toMatchObject({
      code: Code.PermissionDenied,
    });
  });

  it("opens only what exists", async () => {
    await expect(openLocalIssuer(join(root, "nothing-here"))).rejects.toThrow(/no local issuer in .*nothing-here/);
    const opened = await openLocalIssuer(issuer.dir);
    const auth = await createServiceAuth(loadAuthConfig(issuer.env()), { logger });
    expect((await auth.authenticate({ authorization: bearerHeader(await opened.mintToken()) })).subject).toBe("local:tester");
  });
});


describe("SERVICE_TOKEN_FILE", () => {
  it("is read, and re-read after Kubernetes swaps it", async () => {
    const file = join(root, "token");
    await writeFile(file, "first-token\n");
    const source = await readServiceTokenFile(file, { checkIntervalMs: 0 });
    expect(await source.token()).toBe("first-token");
    await writeFile(`${file}.new`, "second-token\n");
    await rename(`${file}.new`, file);
    expect(await source.token()).toBe("second-token");
  });

  it("keeps the last token while the file is briefly missing or empty", async () => {
    const file = join(root, "token-gap");
    await writeFile(file, "kept\n");
    const errors: unknown[] = [];
    const source = await readServiceTokenFile(file, { checkIntervalMs: 0, onReloadError: (e) => errors.push(e) });
    await writeFile(file, "");
    expect(await source.token()).toBe("kept");
    await rm(file);
    expect(await source.token()).toBe("kept");
    expect(errors).toHaveLength(2);
  });

  it("that is missing or empty at start is a ConfigError naming the variable", async () => {
    await expect(readServiceTokenFile(join(root, "absent"))).rejects.toThrow(ConfigError);
    await writeFile(join(root, "empty"), "\n");
    await expect(readServiceTokenFile(join(root, "empty"))).rejects.toThrow(/^SERVICE_TOKEN_FILE: cannot use .*empty is empty/);
  });
});

describe("outbound calls", () => {
  let auth: ServiceAuth;
  let server: ServiceServer;
  let baseUrl: string;

  beforeAll(async () => {
    // The callee: a receipts-like service that checks tokens from the local issuer and echoes its caller.
    const policyFile = join(root, "callee-policy.yaml");
    const viewers = ["system:serviceaccount:provenance:pipeline-simulator", "the-service", "explicit"];
    await writeFile(policyFile, ["grants:", '  - { subject: "local:tester", project: "*", role: admin }', ...viewers.map((v) => `  - { subject: "${v}", project: A, role: viewer }`), ""].join("\n"));
    auth = await createServiceAuth(loadAuthConfig({ ...issuer.env(), AUTH_POLICY: policyFile }), { logger, resolvers: { receipt: async (ids) => new Map(ids.map((id) => [id, "A"])) } });
    server = createServiceServer({
      name: "callee",
      logger,
      services: [ReceiptService.typeName],
      interceptors: [errorInterceptor(logger), auth.interceptor],
      routes: (router) =>
        router.service(ReceiptService, {
          getReceipt: async (req, ctx: HandlerContext) => ({ receipt: { receiptId: req.receiptId, segmentId: callerOf(ctx).principal.subject } }),
        }),
    });
    ({ url: baseUrl } = await server.listen(0, "127.0.0.1"));
  });

  afterAll(async () => {
    await server?.close(500);
  });

  it("present the service's own token, re-read when the file is rotated", async () => {
    const file = join(root, "service-token");
    await issuer.writeTokenFile(file, { subject: "system:serviceaccount:provenance:pipeline-simulator" });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const serviceToken = await readServiceTokenFile(file, { checkIntervalMs: 0 });
    const client = createClient(ReceiptService, createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [createOutboundAuthInterceptor({ serviceToken })] }));
    expect((await client.getReceipt({ receiptId: "r" })).receipt?.segmentId).toBe("system:serviceaccount:provenance:pipeline-simulator");
    await issuer.writeTokenFile(file, { subject: "local:tester" });
    expect((await client.getReceipt({ receiptId: "r" })).receipt?.segmentId).toBe("local:tester");
  });

  it("forward the caller's token when acting for it", async () => {
    const serviceToken = { token: async () => issuer.mintToken({ subject: "the-service" }) };
    const client = createClient(ReceiptService, createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [createOutboundAuthInterceptor({ serviceToken })] }));
    const caller = await auth.decide({
      procedure: "provenance.v1.ReceiptService/GetReceipt",
      headers: { authorization: bearerHeader(await issuer.mintToken()) },
      message: create(ReceiptService.method.getReceipt.input, { receiptId: "r" }),
    });
    expect((await client.getReceipt({ receiptId: "r" }, actingFor(caller))).receipt?.segmentId).toBe("local:tester");
    expect((await client.getReceipt({ receiptId: "r" }, actingFor(caller.principal))).receipt?.segmentId).toBe("local:tester");
    expect((await client.getReceipt({ receiptId: "r" })).receipt?.segmentId).toBe("the-service");
    const explicit = { headers: { authorization: bearerHeader(await issuer.mintToken({ subject: "explicit" })) } };
    expect((await client.getReceipt({ receiptId: "r" }, explicit)).receipt?.segmentId).toBe("explicit");
  });

  it("with no token to present fail before reaching the server", async () => {
    const client = createClient(ReceiptService, createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors: [createOutboundAuthInterceptor()] }));
    const err = await client.getReceipt({ receiptId: "r" }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).rawMessage).toMatch(/^no token to present/);
  });
});
