import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/index.js";
import { GetReceiptResponseSchema, ReceiptService } from "../src/index.js";
import { createServiceServer, type ServiceServer } from "../src/server/index.js";

const logger = pino({ level: "silent" });
/** A response of ~200 KB: a receipt with a long prompt. */
const LONG_PROMPT = "a slow dolly-in at golden hour, ".repeat(6_000);

const servers: ServiceServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close(0)));
});

async function start(compressMinBytes?: number): Promise<string> {
  const server = createServiceServer({
    name: "compression-test",
    logger,
    services: [ReceiptService.typeName],
    routes: (router) =>
      router.service(ReceiptService, {
        getReceipt: async (req) => create(GetReceiptResponseSchema, { receipt: { receiptId: req.receiptId, promptText: LONG_PROMPT } }),
      }),
    compressMinBytes,
  });
  servers.push(server);
  return (await server.listen(0, "127.0.0.1")).url;
}

/** A Connect unary call from a client that accepts gzip; the response's content encoding and decoded body. */
async function getReceipt(url: string): Promise<{ encoding: string | null; prompt: string }> {
  const res = await fetch(`${url}/provenance.v1.ReceiptService/GetReceipt`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1", "accept-encoding": "gzip" },
    body: JSON.stringify({ receiptId: "r-1" }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { receipt: { promptText: string } };
  return { encoding: res.headers.get("content-encoding"), prompt: body.receipt.promptText };
}

describe("response compression", () => {
  it("is off by default, even for large responses to clients that accept gzip", async () => {
    const { encoding, prompt } = await getReceipt(await start());
    expect(encoding).toBeNull();
    expect(prompt).toBe(LONG_PROMPT);
  });

  it("compresses responses from the configured size on", async () => {
    const { encoding, prompt } = await getReceipt(await start(64 * 1024));
    expect(encoding).toBe("gzip");
    expect(prompt).toBe(LONG_PROMPT);
  });

  it("reads RPC_COMPRESS_MIN_BYTES: bytes, or off (the default); anything else names the variable", () => {
    // The identity variables every service needs; their files are read only by createServiceAuth.
    const auth = { AUTH_JWKS: "/etc/provenance/jwks.json", AUTH_ISSUER: "https://issuer.example", AUTH_POLICY: "/etc/provenance/policy.yaml" };
    expect(loadConfig("receipts", auth).compressMinBytes).toBe(Number.POSITIVE_INFINITY);
    expect(loadConfig("receipts", { ...auth, RPC_COMPRESS_MIN_BYTES: "off" }).compressMinBytes).toBe(Number.POSITIVE_INFINITY);
    expect(loadConfig("receipts", { ...auth, RPC_COMPRESS_MIN_BYTES: "65536" }).compressMinBytes).toBe(65536);
    expect(() => loadConfig("receipts", { ...auth, RPC_COMPRESS_MIN_BYTES: "64k" })).toThrow(ConfigError);
    expect(() => loadConfig("receipts", { ...auth, RPC_COMPRESS_MIN_BYTES: "-1" })).toThrow(/RPC_COMPRESS_MIN_BYTES/);
  });
});
