/**
 * Issue 15, finding 1: one huge request must not take a service down. Real servers on port 0, real clients:
 * bodies are bounded by MAX_REQUEST_BYTES (after decompression, a gzip bomb included), every string field by its
 * bytes, lists, Structs and batches by the request limits, and error answers stay small.
 */
import * as zlib from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AssetService, CreateReceiptRequestSchema, ReceiptService } from "../src/index.js";
import { envelope, h2Request, rawConnect, rawGrpc, startFixture, type FixtureService } from "./limits-fixture.js";

const MiB = 1024 * 1024;
const CREATE = "/provenance.v1.ReceiptService/CreateReceipt";

function failure(p: Promise<unknown>): Promise<ConnectError> {
  return p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e) => ConnectError.from(e),
  );
}

/** A gzip body of ~1 MB that inflates to 1 GiB: 1024 gzip members of 1 MiB of zeros each. */
function gzipBomb(): Buffer {
  const member = zlib.gzipSync(Buffer.alloc(MiB));
  return Buffer.concat(Array.from({ length: 1024 }, () => member));
}

describe("request size", () => {
  let s: FixtureService;
  beforeAll(async () => {
    s = await startFixture({ maxRequestBytes: 8 * MiB });
  });
  afterAll(async () => {
    await s.close();
  });

  it("refuses a 100 MB string field with RESOURCE_EXHAUSTED naming MAX_REQUEST_BYTES, and keeps serving", async () => {
    const body = Buffer.from(JSON.stringify({ segment_id: "s", prompt_text: "x".repeat(100 * 1000 * 1000) }));
    const h2 = await h2Request(s.url, { ":path": CREATE, "content-type": "application/json" }, body);
    expect(h2.headers[":status"]).toBe(429);
    expect(JSON.parse(h2.body.toString())).toEqual({
      code: "resource_exhausted",
      message: "request too large: MAX_REQUEST_BYTES allows 8388608 bytes per message, this one is larger",
    });
    // fetch sends a Content-Length: the body is refused from it, before a byte of it is read.
    const h1 = await rawConnect(s.url, CREATE, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(h1.code).toBe("resource_exhausted");
    expect(h1.message).toBe("request too large: MAX_REQUEST_BYTES allows 8388608 bytes per message, this one is 100000035 bytes");
    expect(s.calls.get("createReceipt")).toBeUndefined();
    const client = createClient(ReceiptService, createConnectTransport({ baseUrl: s.url, httpVersion: "2" }));
    expect((await client.getReceipt({ receiptId: "still-alive" })).receipt?.receiptId).toBe("still-alive");
  });

  it("refuses a message over the limit on gRPC from its length prefix", async () => {
    const client = createClient(ReceiptService, createGrpcTransport({ baseUrl: s.url }));
    const err = await failure(client.createReceipt({ segmentId: "s", promptText: "x".repeat(9 * MiB) }));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.rawMessage).toContain("MAX_REQUEST_BYTES");
  });

  it("refuses a 1 MB gzip body that inflates to 1 GiB without inflating it (Connect)", async () => {
    const bomb = gzipBomb();
    expect(bomb.length).toBeLessThan(1.2 * MiB);
    const rss = process.memoryUsage().rss;
    const started = Date.now();
    const res = await rawConnect(s.url, CREATE, {
      method: "POST",
      headers: { "content-type": "application/proto", "content-encoding": "gzip" },
      body: bomb,
    });
    const tookMs = Date.now() - started;
    expect(res.code).toBe("resource_exhausted");
    expect(res.message).toContain("MAX_REQUEST_BYTES allows 8388608 bytes per message, this one is larger once decompressed");
    // Inflating all of it takes ~8 s and 1 GiB here; stopping at the limit takes milliseconds and ~8 MiB.
    expect(tookMs).toBeLessThan(3000);
    expect(process.memoryUsage().rss - rss).toBeLessThan(256 * MiB);
  });

  it("refuses the same bomb as a compressed gRPC message", async () => {
    const started = Date.now();
    const status = await rawGrpc(s.url, CREATE, envelope(gzipBomb(), 1), { "grpc-encoding": "gzip" });
    expect(status.code).toBe(Code.ResourceExhausted);
    expect(status.message).toContain("MAX_REQUEST_BYTES");
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("bounds REST bodies by the same limit, from the Content-Length before reading", async () => {
    const big = JSON.stringify({ prompt_text: "x".repeat(9 * MiB) });
    const res = await fetch(`${s.url}/api/segments/s-1/receipt`, { method: "POST", headers: { "content-type": "application/json" }, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ code: "resource_exhausted", message: "body: at most 8388608 bytes are accepted (MAX_REQUEST_BYTES)" });
    expect(s.calls.get("restCreateReceipt")).toBeUndefined();
  });
});

describe("field limits, from the descriptor", () => {
  let s: FixtureService;
  let client: ReturnType<typeof createClient<typeof ReceiptService>>;
  beforeAll(async () => {
    s = await startFixture();
    client = createClient(ReceiptService, createConnectTransport({ baseUrl: s.url, httpVersion: "1.1" }));
  });
  afterAll(async () => {
    await s.close();
  });

  const cases: [string, Parameters<typeof client.createReceipt>[0], string, string][] = [
    ["a prompt over 64 KiB although the table allows 1,000,000 characters", { segmentId: "s", promptText: "x".repeat(70_000) }, "prompt_text", "prompt_text: is 70000 bytes long (UTF-8); at most 65536 are allowed"],
    ["a negative prompt over 64 KiB", { segmentId: "s", negativePrompt: "é".repeat(40_000) }, "negative_prompt", "negative_prompt: is 80000 bytes long (UTF-8); at most 65536 are allowed"],
    ["an id over 512 bytes", { segmentId: "s".repeat(513) }, "segment_id", "segment_id: is 513 bytes long (UTF-8); at most 512 are allowed"],
    ["a string field no table names (sampler)", { segmentId: "s", sampler: "k".repeat(600) }, "sampler", "sampler: is 600 bytes long"],
    ["a nested string (loras[1].asset.asset_id)", { segmentId: "s", loras: [{}, { asset: { assetId: "a".repeat(600) } }] }, "loras[1].asset.asset_id", "loras[1].asset.asset_id: is 600 bytes"],
    ["65 LoRAs although the table allows 1000", { segmentId: "s", loras: Array.from({ length: 65 }, () => ({})) }, "loras", "loras: has 65 entries; at most 64 are allowed"],
    ["additional_params over 64 KiB although the table allows 1,000,000 bytes", { segmentId: "s", additionalParams: { blob: "x".repeat(66_000) } }, "additional_params", "additional_params: is at least 66012 bytes as JSON; at most 65536 are allowed"],
    ["a character name the table holds tighter (10 characters)", { segmentId: "s", characterName: "x".repeat(11) }, "character_name", "character_name: is 11 characters long; at most 10 are allowed"],
  ];
  it.each(cases)("rejects %s with INVALID_ARGUMENT naming the field", async (_, req, field, message) => {
    const before = s.calls.get("createReceipt") ?? 0;
    const err = await failure(client.createReceipt(req));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.metadata.get("x-error-field")).toBe(field);
    expect(err.rawMessage).toContain(message);
    expect(s.calls.get("createReceipt") ?? 0).toBe(before);
  });

  it("rejects additional_params nested deeper than 32 levels", async () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const err = await failure(client.createReceipt({ segmentId: "s", additionalParams: deep as never }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.metadata.get("x-error-field")).toMatch(/^additional_params(\.d){32}$/);
    expect(err.rawMessage).toContain("nests deeper than 32 levels");
  });

  it("rejects a batch of 1,001 entries although the table allows 5,000", async () => {
    const err = await failure(client.createReceipts({ receipts: Array.from({ length: 1001 }, () => ({ segmentId: "s" })) }));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe("receipts: has 1001 entries; at most 1000 are allowed");
    expect(s.calls.get("createReceipts")).toBeUndefined();
  });

  it("names the entry of a batch: receipts[7].prompt_text", async () => {
    const receipts = Array.from({ length: 10 }, (_, i) => ({ segmentId: `s${i}`, promptText: i === 7 ? "x".repeat(65_537) : "ok" }));
    const err = await failure(client.createReceipts({ receipts }));
    expect(err.metadata.get("x-error-field")).toBe("receipts[7].prompt_text");
  });

  it("gives note 8 KiB (a service can pass another bound per field)", async () => {
    const assets = createClient(AssetService, createConnectTransport({ baseUrl: s.url, httpVersion: "1.1" }));
    await expect(assets.publishVersion({ assetId: "a", note: "n".repeat(8192) })).resolves.toBeDefined();
    const err = await failure(assets.publishVersion({ assetId: "a", note: "n".repeat(8193) }));
    expect(err.rawMessage).toContain("note: is 8193 bytes long (UTF-8); at most 8192 are allowed");
  });

  it("accepts a request at the bounds", async () => {
    await expect(
      client.createReceipt({
        segmentId: "s",
        sampler: "k".repeat(512),
        promptText: "x".repeat(65_536),
        loras: Array.from({ length: 64 }, () => ({})),
        additionalParams: { blob: "x".repeat(60_000) },
      }),
    ).resolves.toMatchObject({ created: true });
  });

  it("never echoes a huge value back: an unknown 1 MB JSON key is named in at most 1 KiB", async () => {
    const key = "k".repeat(MiB);
    const res = await rawConnect(s.url, CREATE, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"segment_id":"s",${JSON.stringify(key)}:1}`,
    });
    expect(res.code).toBe("invalid_argument");
    expect(res.bytes).toBeLessThan(1200);
  });

  it("bounds a binary request's strings the same way (gRPC)", async () => {
    const bytes = toBinary(CreateReceiptRequestSchema, create(CreateReceiptRequestSchema, { segmentId: "s", workflowVersion: "v".repeat(1000) }));
    const status = await rawGrpc(s.url, CREATE, envelope(bytes));
    expect(status.code).toBe(Code.InvalidArgument);
    expect(status.field).toBe("workflow_version");
  });
});
