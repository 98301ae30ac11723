import * as http2 from "node:http2";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { GetReceiptResponseSchema, ReceiptService } from "../src/index.js";
import { commonServerOptions, createServiceServer, type CorsOptions, type ServiceServer } from "../src/server/index.js";

const logger = pino({ level: "silent" });
/** The identity variables every service needs (their files are read only by createServiceAuth, not by loadConfig). */
const AUTH = { AUTH_JWKS: "/etc/provenance/jwks.json", AUTH_ISSUER: "https://issuer.example", AUTH_POLICY: "/etc/provenance/policy.yaml" };
const CONSOLE = "http://console.example:7100";

async function start(cors: CorsOptions | undefined): Promise<{ server: ServiceServer; url: string }> {
  const server = createServiceServer({
    name: "cors-test",
    logger,
    services: [ReceiptService.typeName],
    routes: (router) => router.service(ReceiptService, { getReceipt: async (req) => create(GetReceiptResponseSchema, { receipt: { receiptId: req.receiptId } }) }),
    rest: [{ method: "GET", path: "/api/ping", handler: async () => ({ pong: true }) }],
    cors,
  });
  const { url } = await server.listen(0, "127.0.0.1");
  return { server, url };
}

function preflight(url: string, origin: string): Promise<Response> {
  return fetch(`${url}/provenance.v1.ReceiptService/GetReceipt`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,connect-protocol-version" },
  });
}

function connectCall(url: string, origin: string): Promise<Response> {
  return fetch(`${url}/provenance.v1.ReceiptService/GetReceipt`, {
    method: "POST",
    headers: { origin, "content-type": "application/json", "connect-protocol-version": "1" },
    body: JSON.stringify({ receiptId: "r-1" }),
  });
}

/** One HTTP/2 (h2c) request; resolves with the response headers and body. */
function h2Request(url: string, headers: http2.OutgoingHttpHeaders, body?: string): Promise<{ headers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const req = session.request(headers);
    let text = "";
    let got: http2.IncomingHttpHeaders = {};
    req.on("response", (h) => (got = h));
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (text += chunk));
    req.on("end", () => {
      session.close();
      resolve({ headers: got, body: text });
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("CORS on the shared server, with a list of origins", () => {
  let s: { server: ServiceServer; url: string };
  beforeAll(async () => (s = await start({ allowedOrigins: [CONSOLE] })));
  afterAll(() => s.server.close(100));

  it("answers a preflight from an allowed origin with 204 and the Connect headers", async () => {
    const res = await preflight(s.url, CONSOLE);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(CONSOLE);
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase();
    for (const h of ["connect-protocol-version", "connect-timeout-ms", "content-type", "x-user-agent", "x-request-id", "grpc-timeout", "x-grpc-web"]) {
      expect(allowed).toContain(h);
    }
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("adds allow-origin and expose-headers to a Connect call and to REST and health paths over HTTP/1.1", async () => {
    const res = await connectCall(s.url, CONSOLE);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ receipt: { receiptId: "r-1" } });
    expect(res.headers.get("access-control-allow-origin")).toBe(CONSOLE);
    const exposed = res.headers.get("access-control-expose-headers")!.toLowerCase();
    for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"]) expect(exposed).toContain(h);
    for (const path of ["/api/ping", "/healthz"]) {
      const r = await fetch(`${s.url}${path}`, { headers: { origin: CONSOLE } });
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBe(CONSOLE);
    }
  });

  it("refuses a preflight from another origin with a message naming CORS_ORIGINS, and adds nothing to its calls", async () => {
    const res = await preflight(s.url, "http://evil.example");
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toContain("CORS_ORIGINS");
    const call = await connectCall(s.url, "http://evil.example");
    expect(call.status).toBe(200); // the browser, not the server, withholds the body
    expect(call.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("leaves requests without an Origin header alone", async () => {
    const res = await fetch(`${s.url}/api/ping`);
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds the headers on HTTP/2 too, for preflights and calls", async () => {
    const pre = await h2Request(s.url, {
      ":method": "OPTIONS",
      ":path": "/provenance.v1.ReceiptService/GetReceipt",
      origin: CONSOLE,
      "access-control-request-method": "POST",
    });
    expect(pre.headers[":status"]).toBe(204);
    expect(pre.headers["access-control-allow-origin"]).toBe(CONSOLE);
    const call = await h2Request(
      s.url,
      { ":method": "POST", ":path": "/provenance.v1.ReceiptService/GetReceipt", origin: CONSOLE, "content-type": "application/json", "connect-protocol-version": "1" },
      JSON.stringify({ receiptId: "r-2" }),
    );
    expect(call.headers[":status"]).toBe(200);
    expect(JSON.parse(call.body)).toEqual({ receipt: { receiptId: "r-2" } });
    expect(call.headers["access-control-allow-origin"]).toBe(CONSOLE);
    expect(String(call.headers["access-control-expose-headers"])).toContain("Grpc-Status");
  });
});

describe("CORS with any origin, and without the option", () => {
  it('answers any origin with "*" when allowedOrigins is "*"', async () => {
    const s = await start({ allowedOrigins: "*" });
    try {
      const res = await preflight(s.url, "http://anywhere.example:5173");
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect((await connectCall(s.url, "http://anywhere.example:5173")).headers.get("access-control-allow-origin")).toBe("*");
    } finally {
      await s.server.close(100);
    }
  });

  it("sends no CORS headers and does not answer preflights when cors is absent", async () => {
    const s = await start(undefined);
    try {
      const call = await connectCall(s.url, CONSOLE);
      expect(call.headers.get("access-control-allow-origin")).toBeNull();
      const res = await preflight(s.url, CONSOLE);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await s.server.close(100);
    }
  });
});

describe("CORS through the common server options", () => {
  const startCommon = async (corsOrigins: readonly string[] | "*" | undefined) => {
    const server = createServiceServer({
      name: "cors-common-test",
      services: [ReceiptService.typeName],
      routes: (router) => router.service(ReceiptService, { getReceipt: async (req) => create(GetReceiptResponseSchema, { receipt: { receiptId: req.receiptId } }) }),
      ...commonServerOptions({ logger, corsOrigins }, []),
    });
    const { url } = await server.listen(0, "127.0.0.1");
    return { server, url };
  };

  it("sends no CORS headers with the default (no origins), so no other site's page can read an answer", async () => {
    const s = await startCommon(loadConfig("receipts", AUTH).corsOrigins);
    try {
      const pre = await preflight(s.url, CONSOLE);
      expect(pre.headers.get("access-control-allow-origin")).toBeNull();
      expect(pre.headers.get("access-control-allow-methods")).toBeNull();
      const call = await connectCall(s.url, CONSOLE);
      expect(call.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await s.server.close(100);
    }
  });

  it("lets a configured origin send the bearer token (Authorization in the preflight answer)", async () => {
    const s = await startCommon(loadConfig("receipts", { ...AUTH, CORS_ORIGINS: CONSOLE }).corsOrigins);
    try {
      const pre = await preflight(s.url, CONSOLE);
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(CONSOLE);
      expect(pre.headers.get("access-control-allow-headers")!.toLowerCase()).toContain("authorization");
    } finally {
      await s.server.close(100);
    }
  });
});

describe("CORS_ORIGINS", () => {
  it('defaults to no origin at all, and reads "*" or a comma list of origins', () => {
    expect(loadConfig("receipts", AUTH).corsOrigins).toEqual([]);
    expect(loadConfig("receipts", { ...AUTH, CORS_ORIGINS: "*" }).corsOrigins).toBe("*");
    expect(loadConfig("receipts", { ...AUTH, CORS_ORIGINS: " http://localhost:7100, https://console.example.com " }).corsOrigins).toEqual([
      "http://localhost:7100",
      "https://console.example.com",
    ]);
  });

  it("rejects values that are not origins, naming the variable", () => {
    expect(() => loadConfig("receipts", { ...AUTH, CORS_ORIGINS: "localhost:7100" })).toThrow(ConfigError);
    expect(() => loadConfig("receipts", { ...AUTH, CORS_ORIGINS: "http://localhost:7100/console" })).toThrow(/CORS_ORIGINS/);
  });
});
