import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary, toBinary, toJson, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorInterceptor, notFound } from "../src/errors/index.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../src/gen/grpc/health/v1/health_pb.js";
import {
  ServerReflectionRequestSchema,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "../src/gen/grpc/reflection/v1/reflection_pb.js";
import {
  GetReceiptRequestSchema,
  GetReceiptResponseSchema,
  ReceiptService,
  StalenessService,
  WatchStalenessResponseSchema,
  type GetReceiptRequest,
} from "../src/index.js";
import { createServiceServer, requestIdKey, type ServiceServer } from "../src/server/index.js";
import { defineRules, id, validate, validationInterceptor } from "../src/validation/index.js";

const exec = promisify(execFile);
const protoDir = fileURLToPath(new URL("../../../proto", import.meta.url));
const logger = pino({ level: "silent" });
const rules = [defineRules(GetReceiptRequestSchema, { receipt_id: id({ max: 40 }) })];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fake ReceiptService: the receipt id chooses the behaviour; the segment id echoes the request id. */
async function getReceipt(req: GetReceiptRequest, ctx?: HandlerContext) {
  if (req.receiptId === "missing") throw notFound("receipt", req.receiptId);
  if (req.receiptId === "boom") throw new Error("relation \"receipts.generation_receipts\" does not exist: SELECT *");
  if (req.receiptId.startsWith("slow")) await sleep(Number(req.receiptId.slice(4)) || 300);
  return create(GetReceiptResponseSchema, { receipt: { receiptId: req.receiptId, segmentId: ctx?.values.get(requestIdKey) ?? "" } });
}

interface Started {
  server: ServiceServer;
  url: string;
  port: number;
  ready: { value: boolean };
}

async function start(extra: { interceptors?: Interceptor[] } = {}): Promise<Started> {
  const ready = { value: true };
  const server = createServiceServer({
    name: "test",
    logger,
    services: [ReceiptService.typeName, StalenessService.typeName],
    routes: (router) => {
      router.service(ReceiptService, { getReceipt });
      router.service(StalenessService, {
        async *watchStaleness(_req, ctx) {
          yield create(WatchStalenessResponseSchema, {});
          await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
        },
      });
    },
    interceptors: extra.interceptors ?? [errorInterceptor(logger), validationInterceptor(rules)],
    readiness: async () => ready.value,
    rest: [
      {
        method: "GET",
        path: "/api/receipts/:id",
        handler: async ({ params, headers }) => {
          const req = create(GetReceiptRequestSchema, { receiptId: params.id });
          validate(GetReceiptRequestSchema, req, rules);
          const res = await getReceipt(req);
          return { ...(toJson(GetReceiptResponseSchema, res) as object), requestId: headers["x-request-id"] };
        },
      },
      { method: "POST", path: "/api/echo/:name", handler: async ({ params, body, query }) => ({ name: params.name, body, q: query.get("q") }) },
    ],
  });
  const { url, port } = await server.listen(0, "127.0.0.1");
  return { server, url, port, ready };
}

function grpcJs<T = any>(port: number, file: string, pkgPath: string[]): T {
  const def = protoLoader.loadSync(file, { includeDirs: [protoDir], keepCase: true, longs: String, enums: String, defaults: true });
  let node: any = grpc.loadPackageDefinition(def);
  for (const p of pkgPath) node = node[p];
  return new node(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as T;
}

function unary<T>(client: any, method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

describe("one port, every protocol", () => {
  let s: Started;
  beforeAll(async () => {
    s = await start();
  });
  afterAll(async () => {
    await s.server.close(1000);
  });

  it("serves Connect JSON over HTTP/1.1 to a plain fetch, with a request id", async () => {
    const res = await fetch(`${s.url}/provenance.v1.ReceiptService/GetReceipt`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-abc" },
      body: JSON.stringify({ receipt_id: "r1" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-abc");
    expect(await res.json()).toEqual({ receipt: { receiptId: "r1", segmentId: "req-abc" } });

    const generated = await fetch(`${s.url}/provenance.v1.ReceiptService/GetReceipt`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "has spaces, not accepted" },
      body: "{}",
    });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.status).toBe(400);
    expect(((await generated.json()) as { message: string }).message).toContain("receipt_id: is required");
  });

  it.each([
    ["gRPC over h2", () => createGrpcTransport({ baseUrl: s.url })],
    ["gRPC-Web over h2", () => createGrpcWebTransport({ baseUrl: s.url, httpVersion: "2" })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: s.url, httpVersion: "1.1" })],
    ["Connect binary over h2", () => createConnectTransport({ baseUrl: s.url, httpVersion: "2" })],
    ["Connect JSON over HTTP/1.1", () => createConnectTransport({ baseUrl: s.url, httpVersion: "1.1", useBinaryFormat: false })],
  ])("serves %s, mapping errors", async (_, transport) => {
    const client = createClient(ReceiptService, transport());
    const res = await client.getReceipt({ receiptId: "r2" }, { headers: { "x-request-id": "rid-2" } });
    expect(res.receipt?.receiptId).toBe("r2");
    expect(res.receipt?.segmentId).toBe("rid-2");

    const codeOf = (p: Promise<unknown>) => p.then(() => undefined, (e) => ConnectError.from(e));
    const invalid = await codeOf(client.getReceipt({ receiptId: "has space" }));
    expect(invalid?.code).toBe(Code.InvalidArgument);
    expect(invalid?.rawMessage).toMatch(/^receipt_id: must not contain whitespace/);
    expect((await codeOf(client.getReceipt({ receiptId: "x".repeat(41) })))?.rawMessage).toBe("receipt_id: is 41 characters long; an id has at most 40");
    expect((await codeOf(client.getReceipt({ receiptId: "missing" })))?.code).toBe(Code.NotFound);
    const internal = await codeOf(client.getReceipt({ receiptId: "boom" }));
    expect(internal?.code).toBe(Code.Internal);
    expect(internal?.rawMessage).toBe("internal error");
    expect((await codeOf(client.createReceipt({})))?.code).toBe(Code.Unimplemented);
  });

  it("serves an independent @grpc/grpc-js client, health included", async () => {
    const receipts = grpcJs(s.port, "provenance/v1/receipts.proto", ["provenance", "v1", "ReceiptService"]);
    const health = grpcJs(s.port, "grpc/health/v1/health.proto", ["grpc", "health", "v1", "Health"]);
    try {
      const got = await unary<any>(receipts, "GetReceipt", { receipt_id: "r3" });
      expect(got.receipt.receipt_id).toBe("r3");
      const bad = await unary(receipts, "GetReceipt", { receipt_id: "" }).catch((e: grpc.ServiceError) => e);
      expect((bad as grpc.ServiceError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((bad as grpc.ServiceError).details).toContain("receipt_id");
      expect((bad as grpc.ServiceError).metadata.get("x-error-field")).toEqual(["receipt_id"]);

      expect(await unary(health, "Check", { service: "" })).toEqual({ status: "SERVING" });
      expect(await unary(health, "Check", { service: "provenance.v1.ReceiptService" })).toEqual({ status: "SERVING" });
      const unknown = await unary(health, "Check", { service: "nope.v1.Nope" }).catch((e: grpc.ServiceError) => e);
      expect((unknown as grpc.ServiceError).code).toBe(grpc.status.NOT_FOUND);
    } finally {
      receipts.close();
      health.close();
    }
  });

  it("answers /healthz and /readyz over HTTP/1.1 and h2, following readiness", async () => {
    const h1 = await exec("curl", ["-sS", "--http1.1", "-w", "\n%{http_code} %{http_version}", `${s.url}/healthz`]);
    expect(h1.stdout.split("\n").at(-1)).toBe("200 1.1");
    const h2 = await exec("curl", ["-sS", "--http2-prior-knowledge", "-w", "\n%{http_code} %{http_version}", `${s.url}/readyz`]);
    expect(h2.stdout.split("\n").at(-1)).toBe("200 2");

    const health = createClient(Health, createGrpcTransport({ baseUrl: s.url }));
    s.ready.value = false;
    try {
      expect((await fetch(`${s.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
      expect((await health.check({ service: "" })).status).toBe(ServingStatus.NOT_SERVING);
      // Liveness leaves dependencies out: an outage is no reason to restart the pod.
      expect((await health.check({ service: "liveness" })).status).toBe(ServingStatus.SERVING);
    } finally {
      s.ready.value = true;
    }
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    expect((await health.check({ service: StalenessService.typeName })).status).toBe(ServingStatus.SERVING);
  });

  it("serves REST routes with JSON errors", async () => {
    const ok = await fetch(`${s.url}/api/receipts/r4`, { headers: { "x-request-id": "rest-1" } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-request-id")).toBe("rest-1");
    expect(await ok.json()).toEqual({ receipt: { receiptId: "r4" }, requestId: "rest-1" });

    const missing = await fetch(`${s.url}/api/receipts/missing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: "not_found", message: 'receipt "missing" not found' });

    const invalid = await fetch(`${s.url}/api/receipts/a%20b`);
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ code: "invalid_argument", field: "receipt_id" });

    const boom = await fetch(`${s.url}/api/receipts/boom`);
    expect(boom.status).toBe(500);
    const boomText = await boom.text();
    expect(JSON.parse(boomText)).toEqual({ code: "internal", message: "internal error" });
    expect(boomText).not.toContain("SELECT");

    expect((await fetch(`${s.url}/api/receipts/r4`, { method: "POST" })).status).toBe(405);
    const unknown = await fetch(`${s.url}/api/nothing/here`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe("not_found");

    const json = { "content-type": "application/json" };
    const echo = await fetch(`${s.url}/api/echo/x%2Fy?q=1`, { method: "POST", headers: json, body: JSON.stringify({ a: 1 }) });
    expect(await echo.json()).toEqual({ name: "x/y", body: { a: 1 }, q: "1" });
    const notJson = await fetch(`${s.url}/api/echo/x`, { method: "POST", headers: json, body: "{" });
    expect(notJson.status).toBe(400);

    const h2 = await exec("curl", ["-sS", "--http2-prior-knowledge", "-w", "\n%{http_code}", `${s.url}/api/receipts/missing`]);
    expect(h2.stdout.split("\n").at(-1)).toBe("404");
  });

  it("serves reflection so buf curl needs no schema", async () => {
    const buf = fileURLToPath(new URL("../../../node_modules/.bin/buf", import.meta.url));
    const list = await exec(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-services", s.url]);
    expect(list.stdout.split("\n").filter(Boolean).sort()).toEqual(
      ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "provenance.v1.ReceiptService", "provenance.v1.StalenessService"],
    );
    const call = await exec(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "-d", '{"receipt_id":"via-buf"}', `${s.url}/provenance.v1.ReceiptService/GetReceipt`]);
    expect(JSON.parse(call.stdout).receipt.receiptId).toBe("via-buf");
    const methods = await exec(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--list-methods", s.url]);
    expect(methods.stdout).toContain("provenance.v1.ReceiptService/CreateReceipt");
  });

  it("answers v1alpha reflection, and NOT_FOUND for unknown symbols", async () => {
    const client = new grpc.Client(`127.0.0.1:${s.port}`, grpc.credentials.createInsecure());
    try {
      const ask = (request: MessageInitShape<typeof ServerReflectionRequestSchema>) =>
        new Promise<ServerReflectionResponse>((resolve, reject) => {
          const call = client.makeBidiStreamRequest(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            (m: ServerReflectionRequest) => Buffer.from(toBinary(ServerReflectionRequestSchema, m)),
            (b: Buffer) => fromBinary(ServerReflectionResponseSchema, b),
          );
          call.on("data", (r: ServerReflectionResponse) => {
            resolve(r);
            call.end();
          });
          call.on("error", reject);
          call.write(create(ServerReflectionRequestSchema, request));
        });
      const bySymbol = await ask({ messageRequest: { case: "fileContainingSymbol", value: "provenance.v1.LoraInput.weight" } });
      expect(bySymbol.messageResponse.case).toBe("fileDescriptorResponse");
      const names = (bySymbol.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.map(
        (b) => fromBinary(FileDescriptorProtoSchema, b).name,
      );
      expect(names[0]).toBe("provenance/v1/common.proto");
      expect(names).toContain("google/protobuf/struct.proto");
      const missing = await ask({ messageRequest: { case: "fileByFilename", value: "nope.proto" } });
      expect(missing.messageResponse).toMatchObject({ case: "errorResponse", value: { errorCode: 5 } });
    } finally {
      client.close();
    }
  });

  it("serves /metrics with rpc durations", async () => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    expect(text).toMatch(/rpc_duration_seconds_count\{service="provenance.v1.ReceiptService",method="GetReceipt",code="ok"\} \d+/);
    expect(text).toContain('code="invalid_argument"');
  });
});

describe("graceful close", () => {
  it("finishes in-flight requests, ends streams, reports NOT_SERVING and refuses new connections", async () => {
    const s = await start();
    const client = createClient(ReceiptService, createGrpcTransport({ baseUrl: s.url }));
    const h1client = createClient(ReceiptService, createConnectTransport({ baseUrl: s.url, httpVersion: "1.1" }));
    const health = createClient(Health, createGrpcTransport({ baseUrl: s.url }));
    const staleness = createClient(StalenessService, createGrpcTransport({ baseUrl: s.url }));

    const statuses: ServingStatus[] = [];
    const watching = (async () => {
      for await (const r of health.watch({ service: ReceiptService.typeName })) statuses.push(r.status);
    })();
    const stream = staleness.watchStaleness({ projectId: "p" });
    const streamDone = (async () => {
      let n = 0;
      for await (const _ of stream) n++;
      return n;
    })();
    await sleep(100);
    expect(statuses).toEqual([ServingStatus.SERVING]);

    const slow = client.getReceipt({ receiptId: "slow400" });
    const slowH1 = h1client.getReceipt({ receiptId: "slow400" });
    await sleep(50);
    const started = Date.now();
    const closed = s.server.close(5000);
    await expect(slow).resolves.toMatchObject({ receipt: { receiptId: "slow400" } });
    await expect(slowH1).resolves.toMatchObject({ receipt: { receiptId: "slow400" } });
    expect(await streamDone).toBe(1);
    await watching;
    expect(statuses).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    await closed;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(s.server.httpServer.listening).toBe(false);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it("aborts what is still running when the grace period is over", async () => {
    const s = await start();
    const client = createClient(ReceiptService, createGrpcTransport({ baseUrl: s.url }));
    const slow = client.getReceipt({ receiptId: "slow5000" }).then(() => "finished", () => "failed");
    await sleep(50);
    const started = Date.now();
    await s.server.close(200);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await slow).toBe("failed");
  });
});
