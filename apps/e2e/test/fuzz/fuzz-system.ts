/**
 * The system the fuzz suite attacks: receipts, staleness and regeneration started from their start functions in one
 * test environment (own database, JetStream namespace and issuer), every RPC of every provenance.v1 service found by
 * walking the generated descriptors, the tokens a case may carry, and what the properties look at — row counts of
 * every table of the three schemas and the messages on both streams, health, memory.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import * as shared from "@provenance/shared";
import { TEST_ADMIN, createTestEnvironment, type TestEnvironment } from "@provenance/shared/testing";
import { startReceipts, type RunningReceipts } from "@provenance/receipts/start";
import { startRegeneration, type RunningRegeneration } from "@provenance/regeneration/start";
import { startStaleness, type RunningStaleness } from "@provenance/staleness/start";
import { send } from "./wire.js";

/** The schemas the services own: every base table in them is counted. */
const SCHEMAS = ["receipts", "staleness", "regeneration"] as const;

/** One RPC with the server that serves it. */
export interface FuzzedRpc {
  service: DescService;
  method: DescMethod;
  /** `/provenance.v1.ReceiptService/CreateReceipt` */
  path: string;
  /** Base URL of the service that serves it. */
  url: string;
  /** Whether the RPC may change state (no NO_SIDE_EFFECTS option): what "a rejected write" is. */
  writes: boolean;
  /** Whether Connect GET is allowed (NO_SIDE_EFFECTS). */
  get: boolean;
}

/** Row counts of every table and message counts of every stream, keyed `schema.table` / `stream:NAME`. */
export type Snapshot = ReadonlyMap<string, number>;

/** The tokens a case can present, from the right one to garbage. */
export interface FuzzTokens {
  /** Admin on `*`: requests get past authentication to the parser and the handlers. */
  admin: string;
  /** Tokens that must be refused (UNAUTHENTICATED), as `authorization` header values (or none at all). */
  refused: readonly { name: string; header: string | undefined }[];
}

/** The running system and the views of it the properties need. */
export interface FuzzSystem {
  env: TestEnvironment;
  receipts: RunningReceipts;
  staleness: RunningStaleness;
  regeneration: RunningRegeneration;
  /** Every RPC of every provenance.v1 service, in descriptor order. */
  rpcs: readonly FuzzedRpc[];
  tokens: FuzzTokens;
  /** The three services' base URLs. */
  urls: readonly string[];
  /** Row and message counts, read in one statement per side. */
  snapshot(): Promise<Snapshot>;
  /** Waits until every outbox is relayed, every consumer and detection is done, and the counts hold still. */
  settle(timeoutMs?: number): Promise<Snapshot>;
  /** Throws unless every service answers /healthz and grpc.health.v1 Check SERVING over gRPC. */
  assertHealthy(): Promise<void>;
  close(): Promise<void>;
}

/** Every provenance.v1 service of the generated code, found by walking `@provenance/shared`'s exports. */
export function provenanceServices(): DescService[] {
  const found = new Map<string, DescService>();
  for (const value of Object.values(shared) as unknown[]) {
    const desc = value as Partial<DescService> | null;
    if (typeof desc === "object" && desc !== null && desc.kind === "service" && desc.typeName?.startsWith("provenance.v1.")) {
      found.set(desc.typeName, desc as DescService);
    }
  }
  return [...found.values()].sort((a, b) => a.typeName.localeCompare(b.typeName));
}

/** Which of `urls` serves `service`: the one that does not answer an anonymous call of its first method with 404. */
async function serverOf(service: DescService, urls: readonly string[]): Promise<string> {
  const method = service.methods[0]!;
  const path = `/${service.typeName}/${method.name}`;
  const kind = method.methodKind === "unary" ? "application/json" : "application/connect+json";
  for (const url of urls) {
    const res = await send(url, { method: "POST", path, headers: { "content-type": kind }, body: Buffer.from(kind === "application/json" ? "{}" : "\0\0\0\0\x02{}"), http: "1.1" });
    if (res.status !== 404) return url;
  }
  throw new Error(`no service serves ${service.typeName}: add it to the services the fuzz suite starts`);
}

/** A JWT with `alg: none`, claiming to be the admin. */
function unsignedToken(issuer: string, audience: string): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: "none", typ: "JWT" })}.${part({ iss: issuer, aud: audience, sub: TEST_ADMIN, iat: now, exp: now + 3600 })}.`;
}

/** Starts the three services (staleness first: receipts resolves versions in it; regeneration plans from both). */
export async function startFuzzSystem(extraEnv: Readonly<Record<string, string>> = {}): Promise<FuzzSystem> {
  const env = await createTestEnvironment({ name: "fuzz" });
  try {
    const staleness = await env.start("staleness", startStaleness, extraEnv);
    const receipts = await env.start("receipts", startReceipts, extraEnv);
    const regeneration = await env.start("regeneration", startRegeneration, extraEnv);
    const urls = [receipts.url, staleness.url, regeneration.url];

    const rpcs: FuzzedRpc[] = [];
    for (const service of provenanceServices()) {
      const url = await serverOf(service, urls);
      for (const method of service.methods) {
        const readOnly = method.idempotency === MethodOptions_IdempotencyLevel.NO_SIDE_EFFECTS;
        rpcs.push({ service, method, path: `/${service.typeName}/${method.name}`, url, writes: !readOnly, get: readOnly && method.methodKind === "unary" });
      }
    }

    const admin = await env.token();
    const issuer = env.issuer;
    const refused = [
      { name: "no token", header: undefined },
      { name: "not a bearer token", header: `Basic ${Buffer.from("admin:admin").toString("base64")}` },
      { name: "garbage", header: "Bearer not.a.jwt" },
      { name: "empty bearer", header: "Bearer " },
      { name: "another audience", header: `Bearer ${await env.token({ audience: "someone-else" })}` },
      { name: "alg none", header: `Bearer ${unsignedToken(issuer.issuer, issuer.audience)}` },
      { name: "tampered signature", header: `Bearer ${admin.slice(0, -4)}${admin.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}` },
    ];

    const tables = (
      await env.sql.query<{ name: string }>(
        `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
          WHERE table_schema = ANY($1) AND table_type = 'BASE TABLE' AND table_name <> 'migrations' ORDER BY 1`,
        [SCHEMAS],
      )
    ).rows.map((r) => r.name);
    if (!tables.includes("receipts.outbox") || !tables.includes("staleness.segments")) throw new Error(`unexpected tables: ${tables.join(", ")}`);
    const countAll = `SELECT ${tables.map((t, i) => `(SELECT count(*) FROM ${t})::int AS c${i}`).join(", ")}`;
    const streams = [shared.streamName(env.nats.namespace, "PROVENANCE"), shared.streamName(env.nats.namespace, "GENERATION")];

    const snapshot = async (): Promise<Snapshot> => {
      const row = (await env.sql.query<Record<string, number>>(countAll)).rows[0]!;
      const out = new Map<string, number>(tables.map((t, i) => [t, row[`c${i}`]!]));
      for (const s of streams) out.set(`stream:${s}`, (await env.nats.jsm.streams.info(s)).state.messages);
      return out;
    };

    const pending = `SELECT (SELECT count(*) FROM receipts.outbox) + (SELECT count(*) FROM staleness.outbox)
        + (SELECT count(*) FROM regeneration.outbox)
        + (SELECT count(*) FROM receipts.receipt_log_queue)
        + (SELECT count(*) FROM staleness.detection_tasks WHERE finished_at IS NULL) AS n`;
    const settle = async (timeoutMs = 20_000): Promise<Snapshot> => {
      const deadline = Date.now() + timeoutMs;
      let last: Snapshot | undefined;
      for (;;) {
        const n = Number((await env.sql.query<{ n: string }>(pending)).rows[0]!.n);
        const lags = n === 0 ? [await staleness.projectionLag(), await regeneration.lifecycleLag()] : [];
        if (n === 0 && lags.every((l) => l === 0)) {
          const now = await snapshot();
          if (last && sameCounts(last, now)) return now;
          last = now;
        } else last = undefined;
        if (Date.now() > deadline) throw new Error(`the system did not settle in ${timeoutMs} ms (${n} events or detections pending)`);
        await new Promise((r) => setTimeout(r, 15));
      }
    };

    const assertHealthy = async () => {
      for (const url of urls) {
        const live = await send(url, { method: "GET", path: "/healthz", headers: {}, http: "1.1" }, { headersMs: 5000 });
        if (live.status !== 200) throw new Error(`${url}/healthz answered ${live.status}`);
        // grpc.health.v1.Health/Check with an empty request, over gRPC: SERVING is field 1 = 1.
        const res = await send(url, { method: "POST", path: "/grpc.health.v1.Health/Check", headers: { "content-type": "application/grpc", te: "trailers" }, body: Buffer.alloc(5), http: "2" }, { headersMs: 5000 });
        const status = res.trailers["grpc-status"] ?? res.headers["grpc-status"];
        if (status !== "0" || !res.body.subarray(5).equals(Buffer.from([0x08, 0x01]))) throw new Error(`${url} health Check: grpc-status ${status}, body ${res.body.toString("hex")}`);
      }
    };

    return {
      env,
      receipts,
      staleness,
      regeneration,
      rpcs,
      tokens: { admin: `Bearer ${admin}`, refused },
      urls,
      snapshot,
      settle,
      assertHealthy,
      close: () => env.close(),
    };
  } catch (err) {
    await env.close();
    throw err;
  }
}

/** Whether two snapshots hold the same counts. */
export function sameCounts(a: Snapshot, b: Snapshot): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The counts that differ between two snapshots, as `table: before → after`. */
export function countChanges(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [k, v] of before) if (after.get(k) !== v) out.push(`${k}: ${v} → ${after.get(k)}`);
  return out;
}
