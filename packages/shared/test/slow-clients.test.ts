/**
 * Issue 15, finding 2: slow clients are timed out. Raw sockets trickle bytes at a real server on port 0 with short
 * bounds; each connection is closed within its bound, while long-lived response streams (WatchStaleness,
 * Health.Watch) outlive every bound.
 */
import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_SERVER_LIMITS, loadConfig, readServerLimits } from "../src/config/index.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../src/gen/grpc/health/v1/health_pb.js";
import { ReceiptService, StalenessService } from "../src/index.js";
import { envelope, rawSocket, startFixture, trickle, type FixtureService } from "./limits-fixture.js";

const LIMITS = { headersTimeoutMs: 600, requestTimeoutMs: 1200, idleTimeoutMs: 1500 };
/** What Node's check interval and the machine add on top of a bound. */
const SLACK_MS = 700;
const H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("slow clients", () => {
  let s: FixtureService;
  beforeAll(async () => {
    s = await startFixture(LIMITS);
  });
  afterAll(async () => {
    await s.close();
  });

  it("closes an HTTP/1.1 connection whose headers trickle in, within the headers bound", async () => {
    const { socket, closed } = rawSocket(s.port);
    void trickle(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200), 100);
    const { afterMs, received } = await closed;
    expect(afterMs).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes an HTTP/1.1 connection whose body trickles in, within the request bound", async () => {
    const { socket, closed } = rawSocket(s.port);
    const head = "POST /provenance.v1.ReceiptService/GetReceipt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
    socket.write(head);
    void trickle(socket, "{".padEnd(1000, " "), 100);
    const { afterMs, received } = await closed;
    expect(afterMs).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
    expect(afterMs).toBeLessThan(LIMITS.requestTimeoutMs + SLACK_MS);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(s.calls.get("getReceipt")).toBeUndefined();
  });

  it("closes an idle HTTP/1.1 keep-alive connection after the idle bound", async () => {
    const { socket, closed } = rawSocket(s.port);
    socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const { afterMs, received } = await closed;
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(afterMs).toBeGreaterThanOrEqual(LIMITS.idleTimeoutMs - 50);
    expect(afterMs).toBeLessThan(LIMITS.idleTimeoutMs + SLACK_MS);
  });

  it("closes a connection that trickles the HTTP/2 preface, within the headers bound", async () => {
    const { socket, closed } = rawSocket(s.port);
    void trickle(socket, H2_PREFACE, 100); // 24 bytes: 2.4 s if nobody stopped it
    const { afterMs } = await closed;
    expect(afterMs).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
  });

  it("closes an HTTP/2 session that sends the preface and then no request, within the headers bound", async () => {
    const { socket, closed } = rawSocket(s.port);
    socket.write(H2_PREFACE);
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // an empty SETTINGS frame, then silence
    const { afterMs } = await closed;
    expect(afterMs).toBeLessThan(LIMITS.headersTimeoutMs + SLACK_MS);
  });

  it("resets an HTTP/2 stream that sends no data, within the request bound, then closes the idle session", async () => {
    const started = Date.now();
    const session = http2.connect(s.url);
    session.on("error", () => undefined);
    const sessionClosed = new Promise<number>((resolve) => session.once("close", () => resolve(Date.now() - started)));
    const stream = session.request({ ":method": "POST", ":path": "/provenance.v1.ReceiptService/GetReceipt", "content-type": "application/grpc", te: "trailers" });
    stream.on("error", () => undefined);
    const reset = await new Promise<{ afterMs: number; code: number }>((resolve) =>
      stream.once("close", () => resolve({ afterMs: Date.now() - started, code: stream.rstCode ?? -1 })),
    );
    expect(reset.code).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(reset.afterMs).toBeGreaterThanOrEqual(LIMITS.requestTimeoutMs - 50);
    expect(reset.afterMs).toBeLessThan(LIMITS.requestTimeoutMs + SLACK_MS);
    expect(await sessionClosed).toBeLessThan(LIMITS.requestTimeoutMs + LIMITS.idleTimeoutMs + SLACK_MS);
  });

  it("keeps a session that finishes its requests, and serves requests sent in time", async () => {
    const client = createClient(ReceiptService, createGrpcTransport({ baseUrl: s.url }));
    for (let i = 0; i < 3; i++) {
      await sleep(LIMITS.idleTimeoutMs / 3);
      expect((await client.getReceipt({ receiptId: `r${i}` })).receipt?.receiptId).toBe(`r${i}`);
    }
  });

  it.each([
    ["gRPC over HTTP/2", () => createGrpcTransport({ baseUrl: s.url })],
    ["Connect over HTTP/1.1", () => createConnectTransport({ baseUrl: s.url, httpVersion: "1.1" })],
    ["Connect over HTTP/2", () => createConnectTransport({ baseUrl: s.url, httpVersion: "2" })],
  ])("keeps a quiet WatchStaleness stream open past every bound (%s) and still pushes to it", async (_, transport) => {
    const watcher = createClient(StalenessService, transport());
    const abort = new AbortController();
    const received: string[] = [];
    const pushed = new Promise<void>((resolve, reject) => {
      (async () => {
        for await (const m of watcher.watchStaleness({}, { signal: abort.signal })) {
          received.push(m.change?.projectId ?? "");
          if (received.length === 2) resolve();
        }
      })().catch(reject);
    });
    const quietMs = LIMITS.idleTimeoutMs + LIMITS.requestTimeoutMs + SLACK_MS;
    await sleep(quietMs);
    s.push("p-after-quiet");
    await pushed;
    expect(received).toEqual(["", "p-after-quiet"]);
    abort.abort();
  });

  it("keeps a Health.Watch stream open past every bound", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: s.url }));
    const abort = new AbortController();
    const statuses: ServingStatus[] = [];
    const watching = (async () => {
      try {
        for await (const r of health.watch({ service: "" }, { signal: abort.signal })) statuses.push(r.status);
      } catch (err) {
        if (ConnectError.from(err).code !== Code.Canceled) throw err;
      }
    })();
    await sleep(LIMITS.idleTimeoutMs + LIMITS.requestTimeoutMs + SLACK_MS);
    expect(statuses).toEqual([ServingStatus.SERVING]);
    abort.abort();
    await watching;
  });

  it("still serves a gRPC request whose body arrives in time", async () => {
    const session = http2.connect(s.url);
    const stream = session.request({ ":method": "POST", ":path": "/provenance.v1.ReceiptService/GetReceipt", "content-type": "application/grpc", te: "trailers" });
    const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("trailers", resolve));
    stream.resume();
    await sleep(LIMITS.requestTimeoutMs / 2);
    stream.end(envelope(new Uint8Array([0x0a, 0x02, 0x72, 0x31])));
    expect((await trailers)["grpc-status"]).toBe("0");
    session.close();
  });
});

describe("limits configuration", () => {
  const saved = process.env.HEADERS_TIMEOUT_MS;
  afterEach(() => {
    if (saved === undefined) delete process.env.HEADERS_TIMEOUT_MS;
    else process.env.HEADERS_TIMEOUT_MS = saved;
  });

  it("defaults to 8 MiB requests, 10 s for headers, 60 s for a request, 120 s idle", () => {
    expect(DEFAULT_SERVER_LIMITS).toEqual({ maxRequestBytes: 8 * 1024 * 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 60_000, idleTimeoutMs: 120_000 });
    expect(readServerLimits({})).toEqual(DEFAULT_SERVER_LIMITS);
    // loadConfig reads them too (a bad one fails the service at start, naming the variable).
    expect(() => loadConfig("receipts", { MAX_REQUEST_BYTES: "lots" })).toThrow(/^MAX_REQUEST_BYTES: /);
  });

  it("reads MAX_REQUEST_BYTES, HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS and IDLE_TIMEOUT_MS, naming a bad one", () => {
    expect(
      readServerLimits({ MAX_REQUEST_BYTES: "16MiB", HEADERS_TIMEOUT_MS: "5000", REQUEST_TIMEOUT_MS: "30000", IDLE_TIMEOUT_MS: "65000" }),
    ).toEqual({ maxRequestBytes: 16 * 1024 * 1024, headersTimeoutMs: 5000, requestTimeoutMs: 30_000, idleTimeoutMs: 65_000 });
    expect(readServerLimits({ MAX_REQUEST_BYTES: "1048576" }).maxRequestBytes).toBe(1048576);
    expect(() => readServerLimits({ MAX_REQUEST_BYTES: "8 megs" })).toThrow(ConfigError);
    expect(() => readServerLimits({ MAX_REQUEST_BYTES: "5GiB" })).toThrow(/MAX_REQUEST_BYTES/);
    expect(() => readServerLimits({ HEADERS_TIMEOUT_MS: "10s" })).toThrow(/HEADERS_TIMEOUT_MS/);
    expect(() => loadConfig("staleness", { IDLE_TIMEOUT_MS: "0" })).toThrow(/IDLE_TIMEOUT_MS/);
    expect(() => readServerLimits({ REQUEST_TIMEOUT_MS: "5000" })).toThrow(/REQUEST_TIMEOUT_MS: must not be shorter than HEADERS_TIMEOUT_MS/);
  });

  it("takes effect from the environment for a server created without limits (every service, no per-service code)", async () => {
    process.env.HEADERS_TIMEOUT_MS = "500";
    const s = await startFixture();
    try {
      const { socket, closed } = rawSocket(s.port);
      void trickle(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(200), 100);
      expect((await closed).afterMs).toBeLessThan(500 + SLACK_MS);
    } finally {
      await s.close();
    }
  });
});
