/**
 * One test environment for every integration test: a fresh database (the owner's URL for migrations, each service's
 * login role for the service), a JetStream namespace, a local issuer in a temp dir with a policy the test can edit,
 * tokens for any principal, the env and config of any service, and the services themselves — started from the start
 * functions the test passes in (shared knows no service) on port 0 — with clients that carry a token.
 */
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DescService } from "@bufbuild/protobuf";
import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { SignJWT, generateKeyPair, importJWK, type JWK, type JWTPayload } from "jose";
import pg from "pg";
import type { Logger } from "pino";
import {
  LOCAL_ISSUER_FILES,
  createOutboundAuthInterceptor,
  ensureLocalIssuer,
  type Grant,
  type LocalIssuer,
  type MintOptions,
  type TokenSource,
} from "../auth/index.js";
import { loadConfig, SERVICE_DATABASE_ROLES, type ServiceConfig, type ServiceName } from "../config/index.js";
import { databaseUrlAs } from "../db/index.js";
import { createLogger, forwardRequestId } from "../logging/index.js";
import { createTestDatabase, type TestDatabase } from "./test-database.js";
import { createTestNats, type TestNats } from "./test-nats.js";

/** The subject of the token clients carry by default: admin on every project. */
export const TEST_ADMIN = "test:admin";

/** The subject of the pipeline simulator's token (SERVICE_TOKEN_FILE): pipeline on every project. */
export const TEST_PIPELINE = "test:pipeline";

/** The subject of a service's own token (its SERVICE_TOKEN_FILE): `test:service:receipts`, … */
export function testServiceSubject(service: ServiceName): string {
  return `test:service:${service}`;
}

/** What the policy holds unless a test says otherwise: the admin, the pipeline and each service on every project. */
export const DEFAULT_TEST_GRANTS: readonly Grant[] = Object.freeze([
  { subject: TEST_ADMIN, project: "*", role: "admin" },
  { subject: TEST_PIPELINE, project: "*", role: "pipeline" },
  ...(["receipts", "staleness", "regeneration"] as const).map((s): Grant => ({ subject: testServiceSubject(s), project: "*", role: "viewer" })),
]);

/**
 * Tokens the services must refuse (UNAUTHENTICATED), each otherwise valid for {@link TEST_ADMIN}: past its `exp`
 * (beyond the clock tolerance), for another audience, from another issuer, signed by a key the JWKS does not hold,
 * and unsigned (`alg: none`).
 */
export type InvalidTokenKind = "expired" | "wrong_audience" | "wrong_issuer" | "unknown_key" | "alg_none";

/** The wire protocols a test client may speak. */
export type TestProtocol = "grpc" | "connect" | "connect-json" | "grpc-web";

/** Which token a client presents: a principal's (minted), a fixed string (e.g. a forged one), or none at all. */
export type TestCredentials = MintOptions | { token: string } | null;

/** How {@link createTestEnvironment} sets things up. */
export interface TestEnvironmentOptions {
  /** Prefix of the database name (default `prov_test`). */
  name?: string;
  /** The grants the policy starts with (default {@link DEFAULT_TEST_GRANTS}). */
  grants?: readonly Grant[];
  /** Level of the services' loggers (default TEST_LOG_LEVEL, else silent). */
  logLevel?: string;
}

/** A service start function as every service exports it (`startReceipts`, `startStaleness`, `startRegeneration`). */
export type StartService<R> = (config: ServiceConfig, logger: Logger) => Promise<R>;

/** The services a test runs, by name, each with its start function (`{ staleness: startStaleness, receipts: startReceipts }`). */
export type ServiceStarts = { readonly [K in ServiceName]?: StartService<{ readonly url: string } & Stoppable> };

/** What {@link TestEnvironment.startServices} resolves to: each service given, running. */
export type StartedServices<S extends ServiceStarts> = { [K in keyof S]: S[K] extends StartService<infer R> ? R : never };

/** The order services start in: each after those it calls (receipts resolves versions in staleness; regeneration plans from both). */
const START_ORDER: readonly ServiceName[] = ["staleness", "receipts", "regeneration"];

/** Something started that {@link TestEnvironment.close} stops. */
interface Stoppable {
  stop(): Promise<void>;
}

/** The environment of one test file. Everything is torn down by {@link close}. */
export interface TestEnvironment {
  /** The test database; `db.url` logs in as its owner (the superuser tests run as). */
  readonly db: TestDatabase;
  /** The JetStream namespace (streams made) and a connection to it. */
  readonly nats: TestNats;
  /** An owner connection to the test database, to look at (or tamper with) rows directly. */
  readonly sql: pg.Client;
  /** The local issuer: its JWKS and policy files are what the services check tokens and grants against. */
  readonly issuer: LocalIssuer;
  /** The temp directory holding the issuer and token files. */
  readonly dir: string;
  /** Where the services started so far listen (each start records its URL; used in the next service's env). */
  readonly urls: Partial<Record<ServiceName, string>>;
  /** The grants in force (the last {@link setGrants}). */
  readonly grants: readonly Grant[];
  /** DATABASE_URL of `service`: the test database as the service's own login role. */
  databaseUrl(service: ServiceName): string;
  /**
   * The environment `service` is configured with: DATABASE_URL (its login role), MIGRATION_DATABASE_URL (the owner),
   * NATS_URL, EVENT_NAMESPACE, PORT 0, HOST 127.0.0.1, LOG_LEVEL, AUTH_JWKS / AUTH_ISSUER / AUTH_AUDIENCE / AUTH_POLICY
   * of the issuer, its own SERVICE_TOKEN_FILE, and the URLs of the services started so far; `extra` overrides any.
   */
  env(service: ServiceName, extra?: Readonly<Record<string, string>>): Record<string, string>;
  /** `loadConfig(service, env(service, extra))`. */
  config(service: ServiceName, extra?: Readonly<Record<string, string>>): ServiceConfig;
  /** A logger at the environment's level. */
  logger(name: string): Logger;
  /** Starts `service` with `start` on port 0, with {@link config} and a {@link logger}; records its URL. */
  start<R extends { readonly url: string } & Stoppable>(service: ServiceName, start: StartService<R>, extra?: Readonly<Record<string, string>>): Promise<R>;
  /**
   * Starts the services given — staleness, then receipts, then regeneration, each pointed at those started before —
   * with {@link start}; resolves with each one running.
   */
  startServices<S extends ServiceStarts>(starts: S): Promise<StartedServices<S>>;
  /** Registers something else to stop on {@link close} (a simulator, a second instance), before the services. */
  onClose(stop: () => Promise<void>): void;
  /** A token from the issuer (default: {@link TEST_ADMIN}'s, valid 1 h). */
  token(opts?: MintOptions): Promise<string>;
  /** A token the services must refuse, of `kind` (see {@link InvalidTokenKind}); `subject` default {@link TEST_ADMIN}. */
  invalidToken(kind: InvalidTokenKind, subject?: string): Promise<string>;
  /** A token source minting a token for `opts` once and again before it expires, e.g. for the pipeline simulator. */
  tokenSource(opts?: MintOptions): TokenSource;
  /** Writes a token for `opts` to a new file in {@link dir} (mode 0600) and returns its path (a SERVICE_TOKEN_FILE). */
  tokenFile(opts?: MintOptions): Promise<string>;
  /**
   * Replaces the policy's grants and, unless `settle` is false, waits until every service has re-read it (they
   * compare the file once a second).
   */
  setGrants(grants: readonly Grant[], opts?: { settle?: boolean }): Promise<void>;
  /** A transport to `baseUrl` whose calls carry `as` (default the admin's token; `null` = no token). */
  transport(baseUrl: string, as?: TestCredentials, protocol?: TestProtocol): Transport;
  /** A client of `service` at `baseUrl` over {@link transport}. */
  client<S extends DescService>(service: S, baseUrl: string, as?: TestCredentials, protocol?: TestProtocol): Client<S>;
  /** Stops everything started (in reverse order), drops the database and the streams, removes the temp dir. */
  close(): Promise<void>;
}

/** How long a minted test token lives, and how long before its end a token source mints a new one. */
const TOKEN_TTL_SECONDS = 3600;
const RENEW_BEFORE_MS = 5 * 60_000;

/** How long a service may take to see a changed policy file: it compares the file at most once a second. */
const POLICY_SETTLE_MS = 1_200;

function mintKey(opts: MintOptions): string {
  return JSON.stringify([opts.subject ?? TEST_ADMIN, opts.groups ?? null, opts.audience ?? null, opts.ttlSeconds ?? null]);
}

function withDefaults(opts: MintOptions = {}): MintOptions {
  return { subject: TEST_ADMIN, ttlSeconds: TOKEN_TTL_SECONDS, ...opts };
}

function transportFor(baseUrl: string, interceptors: Interceptor[], protocol: TestProtocol): Transport {
  switch (protocol) {
    case "grpc":
      return createGrpcTransport({ baseUrl, interceptors });
    case "grpc-web":
      return createGrpcWebTransport({ baseUrl, httpVersion: "2", interceptors });
    case "connect":
      return createConnectTransport({ baseUrl, httpVersion: "2", interceptors });
    case "connect-json":
      return createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: false, interceptors });
  }
}

/** Creates the environment: database, namespace, issuer (policy {@link DEFAULT_TEST_GRANTS} unless given). */
export async function createTestEnvironment(opts: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const cleanups: (() => Promise<void>)[] = [];
  const runUndo = async () => {
    for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
  };
  try {
    const db = await createTestDatabase(opts.name ?? "prov_test");
    cleanups.push(() => db.drop());
    const nats = await createTestNats();
    cleanups.push(() => nats.cleanup());
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    cleanups.push(() => sql.end());
    const dir = await mkdtemp(join(tmpdir(), "provenance-test-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const issuer = await ensureLocalIssuer(join(dir, "auth"), { subject: TEST_ADMIN });
    return await environment({ db, nats, sql, dir, issuer, cleanups, runUndo, opts });
  } catch (err) {
    await runUndo();
    throw err;
  }
}

interface Parts {
  db: TestDatabase;
  nats: TestNats;
  sql: pg.Client;
  dir: string;
  issuer: LocalIssuer;
  cleanups: (() => Promise<void>)[];
  runUndo: () => Promise<void>;
  opts: TestEnvironmentOptions;
}

async function environment(p: Parts): Promise<TestEnvironment> {
  const { db, nats, sql, dir, issuer } = p;
  const level = p.opts.logLevel ?? process.env.TEST_LOG_LEVEL ?? "silent";
  const urls: Partial<Record<ServiceName, string>> = {};
  const stops: (() => Promise<void>)[] = [];
  let grants: readonly Grant[] = p.opts.grants ?? DEFAULT_TEST_GRANTS;
  let fileCount = 0;
  const tokens = new Map<string, { token: string; renewAt: number }>();

  const writePolicy = (list: readonly Grant[]) => writeFile(issuer.policyFile, `${JSON.stringify({ grants: list }, null, 2)}\n`);
  await writePolicy(grants);

  const token = (opts?: MintOptions) => issuer.mintToken(withDefaults(opts));
  const invalidToken = async (kind: InvalidTokenKind, subject = TEST_ADMIN): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const claims: JWTPayload = { iss: issuer.issuer, aud: issuer.audience, sub: subject, iat: now, exp: now + 600, jti: randomUUID() };
    if (kind === "wrong_audience") return issuer.mintToken({ subject, audience: "someone-else" });
    if (kind === "alg_none") {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
      return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
    }
    const own = JSON.parse(await readFile(join(issuer.dir, LOCAL_ISSUER_FILES.signingKey), "utf8")) as JWK;
    let key = await importJWK(own, "EdDSA");
    let kid = own.kid!;
    if (kind === "unknown_key") {
      key = (await generateKeyPair("EdDSA", { crv: "Ed25519" })).privateKey;
      kid = "not-in-the-jwks";
    }
    if (kind === "expired") Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
    if (kind === "wrong_issuer") claims.iss = "https://another-issuer.example";
    return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" }).sign(key);
  };
  const tokenSource = (opts?: MintOptions): TokenSource => {
    const full = withDefaults(opts);
    const key = mintKey(full);
    return {
      async token() {
        const cached = tokens.get(key);
        if (cached && Date.now() < cached.renewAt) return cached.token;
        const minted = await issuer.mintToken(full);
        tokens.set(key, { token: minted, renewAt: Date.now() + full.ttlSeconds! * 1000 - RENEW_BEFORE_MS });
        return minted;
      },
    };
  };
  const tokenFile = async (opts?: MintOptions) => {
    const path = join(dir, `token-${++fileCount}.jwt`);
    await issuer.writeTokenFile(path, withDefaults(opts));
    return path;
  };
  const serviceTokenFiles = new Map<ServiceName, string>();
  for (const service of ["receipts", "staleness", "regeneration"] as const) {
    serviceTokenFiles.set(service, await tokenFile({ subject: testServiceSubject(service) }));
  }

  // The receipt log's signing key (RECEIPT_LOG_SIGNING_KEY), a fresh Ed25519 key per environment.
  const receiptLogKeyFile = join(dir, "receipt-log-signing-key.pem");
  await writeFile(receiptLogKeyFile, generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 });

  const startOne = async <R extends { readonly url: string } & Stoppable>(service: ServiceName, start: StartService<R>, extra?: Readonly<Record<string, string>>) => {
    const running = await start(loadConfig(service, env(service, extra)), logger(service));
    urls[service] = running.url;
    stops.push(() => running.stop());
    return running;
  };
  const databaseUrl = (service: ServiceName) => databaseUrlAs(db.url, SERVICE_DATABASE_ROLES[service]);
  const env = (service: ServiceName, extra: Readonly<Record<string, string>> = {}): Record<string, string> => ({
    DATABASE_URL: databaseUrl(service),
    MIGRATION_DATABASE_URL: db.url,
    NATS_URL: nats.url,
    EVENT_NAMESPACE: nats.namespace,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: level,
    ...issuer.env(),
    SERVICE_TOKEN_FILE: serviceTokenFiles.get(service)!,
    ...(service === "receipts" ? { RECEIPT_LOG_SIGNING_KEY: receiptLogKeyFile } : {}),
    ...(urls.receipts ? { RECEIPTS_URL: urls.receipts } : {}),
    ...(urls.staleness ? { STALENESS_URL: urls.staleness } : {}),
    ...(urls.regeneration ? { REGENERATION_URL: urls.regeneration } : {}),
    ...extra,
  });
  const logger = (name: string) => createLogger(name, level);

  const credentials = (as: TestCredentials | undefined): Interceptor[] => {
    if (as === null) return [forwardRequestId];
    const source = as !== undefined && "token" in as ? { token: async () => as.token } : tokenSource(as);
    return [forwardRequestId, createOutboundAuthInterceptor({ serviceToken: source })];
  };
  const transport = (baseUrl: string, as?: TestCredentials, protocol: TestProtocol = "grpc") => transportFor(baseUrl, credentials(as), protocol);

  return {
    db,
    nats,
    sql,
    issuer,
    dir,
    urls,
    get grants() {
      return grants;
    },
    databaseUrl,
    env,
    config: (service, extra) => loadConfig(service, env(service, extra)),
    logger,
    start: startOne,
    async startServices<S extends ServiceStarts>(starts: S) {
      const started: Record<string, unknown> = {};
      for (const service of START_ORDER) {
        const start = starts[service];
        if (start) started[service] = await startOne(service, start);
      }
      return started as StartedServices<S>;
    },
    onClose: (stop) => void stops.push(stop),
    token,
    invalidToken,
    tokenSource,
    tokenFile,
    async setGrants(list, opts = {}) {
      grants = Object.freeze([...list]);
      await writePolicy(grants);
      if (opts.settle ?? true) await new Promise((r) => setTimeout(r, POLICY_SETTLE_MS));
    },
    transport,
    client: (service, baseUrl, as, protocol) => createClient(service, transport(baseUrl, as, protocol)),
    async close() {
      for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
      await p.runUndo();
    },
  };
}
