/**
 * Issue 15, findings 3 and 4: a client's malformed request is INVALID_ARGUMENT, never INTERNAL, on every protocol —
 * Connect (JSON and binary, POST and GET), gRPC and gRPC-Web — and unknown JSON fields are rejected by name, on the
 * RPC paths and the REST bodies. Hand-made bytes against a real server on port 0; the handlers never run.
 */
import * as net from "node:net";
import * as zlib from "node:zlib";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReceiptService } from "../src/index.js";
import { envelope, frames, h2Request, rawConnect, rawGrpc, rawGrpcWeb, rawGrpcWebH2, startFixture, type FixtureService } from "./limits-fixture.js";

const GET_RECEIPT = "/provenance.v1.ReceiptService/GetReceipt";
const CREATE = "/provenance.v1.ReceiptService/CreateReceipt";
const WATCH = "/provenance.v1.StalenessService/WatchStaleness";
/** Field 1, length 16, then one byte: the message ends inside the field. */
const TRUNCATED = new Uint8Array([0x0a, 0x10, 0x61]);
/** Field 1 (a string) holding bytes that are not UTF-8. */
const NOT_UTF8 = new Uint8Array([0x0a, 0x02, 0xff, 0xfe]);
/** Field 1 with wire type 7, which does not exist. */
const BAD_WIRE_TYPE = new Uint8Array([0x0f, 0x00]);

let s: FixtureService;
beforeAll(async () => {
  s = await startFixture();
});
afterAll(async () => {
  await s.close();
});

function handlerCalls(): number {
  return [...s.calls.values()].reduce((a, b) => a + b, 0);
}

describe("malformed protobuf is INVALID_ARGUMENT on every protocol", () => {
  it.each([
    ["truncated", TRUNCATED, "premature EOF"],
    ["not UTF-8", NOT_UTF8, "utf-8"],
    ["an unknown wire type", BAD_WIRE_TYPE, "wire type"],
  ])("Connect binary POST (%s)", async (_, bytes, detail) => {
    const res = await rawConnect(s.url, GET_RECEIPT, { method: "POST", headers: { "content-type": "application/proto" }, body: bytes });
    expect(res.status).toBe(400);
    expect(res.code).toBe("invalid_argument");
    expect(res.message).toContain("malformed protobuf: the request is not a valid provenance.v1.GetReceiptRequest in binary form");
    expect(res.message?.toLowerCase()).toContain(detail.toLowerCase());
  });

  it("Connect GET with a message that is not base64 (encoding=proto&base64=1&message=!!!!)", async () => {
    const res = await rawConnect(s.url, `${GET_RECEIPT}?encoding=proto&base64=1&message=!!!!`, { method: "GET" });
    expect(res.status).toBe(400);
    expect(res.code).toBe("invalid_argument");
    expect(res.field).toBe("message");
    expect(res.message).toContain("message: is not base64");
  });

  it("Connect GET with base64 of a truncated message", async () => {
    const message = Buffer.from(TRUNCATED).toString("base64url");
    const res = await rawConnect(s.url, `${GET_RECEIPT}?encoding=proto&base64=1&message=${message}`, { method: "GET" });
    expect(res.status).toBe(400);
    expect(res.message).toContain("malformed protobuf");
  });

  it("Connect GET with JSON that is not JSON", async () => {
    const res = await rawConnect(s.url, `${GET_RECEIPT}?encoding=json&message=${encodeURIComponent("{nope")}`, { method: "GET" });
    expect(res.status).toBe(400);
    expect(res.code).toBe("invalid_argument");
  });

  it.each([
    ["truncated", TRUNCATED],
    ["not UTF-8", NOT_UTF8],
  ])("gRPC over HTTP/2 (%s)", async (_, bytes) => {
    const status = await rawGrpc(s.url, GET_RECEIPT, envelope(bytes));
    expect(status.code).toBe(Code.InvalidArgument);
    expect(status.message).toContain("malformed protobuf");
  });

  it("gRPC-Web over HTTP/1.1 and HTTP/2", async () => {
    const h1 = await rawGrpcWeb(s.url, GET_RECEIPT, envelope(TRUNCATED));
    expect(h1.code).toBe(Code.InvalidArgument);
    expect(h1.message).toContain("malformed protobuf");
    const h2 = await rawGrpcWebH2(s.url, GET_RECEIPT, envelope(TRUNCATED));
    expect(h2.code).toBe(Code.InvalidArgument);
  });

  it("a server stream's request (WatchStaleness) over gRPC and over Connect streaming", async () => {
    const grpc = await rawGrpc(s.url, WATCH, envelope(TRUNCATED));
    expect(grpc.code).toBe(Code.InvalidArgument);
    expect(grpc.message).toContain("malformed protobuf");
    const connect = await h2Request(s.url, { ":path": WATCH, "content-type": "application/connect+proto" }, envelope(TRUNCATED));
    const end = frames(connect.body).find((f) => (f.flags & 0x02) === 0x02);
    expect(JSON.parse(end!.data.toString()).error).toMatchObject({ code: "invalid_argument" });
  });

  it("a message flagged compressed without a compression, and a body that is not gzip", async () => {
    const flagged = await rawGrpc(s.url, GET_RECEIPT, envelope(new Uint8Array([0x0a, 0x01, 0x61]), 1));
    expect(flagged.code).toBe(Code.InvalidArgument);
    expect(flagged.message).toContain("flagged as compressed");
    const notGzip = await rawGrpc(s.url, GET_RECEIPT, envelope(Buffer.from("not gzip"), 1), { "grpc-encoding": "gzip" });
    expect(notGzip.code).toBe(Code.InvalidArgument);
    const truncatedGzip = zlib.gzipSync(Buffer.from([0x0a, 0x01, 0x61])).subarray(0, 12);
    const connect = await rawConnect(s.url, GET_RECEIPT, { method: "POST", headers: { "content-type": "application/proto", "content-encoding": "gzip" }, body: truncatedGzip });
    expect(connect.code).toBe("invalid_argument");
    expect(connect.message).toContain("is not valid gzip data");
  });

  it("a request without a Host header (HTTP/1.0)", async () => {
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(s.port, "127.0.0.1", () => {
        socket.end(`POST ${GET_RECEIPT} HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`);
      });
      let text = "";
      socket.on("data", (d: Buffer) => (text += d.toString()));
      socket.on("close", () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.[01] 400/);
    expect(answer).toContain('"code":"invalid_argument"');
  });

  it("reached no handler", () => {
    expect(handlerCalls()).toBe(0);
  });
});

describe("NUL and lone surrogates are INVALID_ARGUMENT naming the field", () => {
  const json = (body: string) => rawConnect(s.url, CREATE, { method: "POST", headers: { "content-type": "application/json" }, body });

  it.each([
    ["a NUL in a Struct value", '{"segment_id":"s","additional_params":{"seed":"a\\u0000b"}}', "additional_params.seed", "NUL"],
    ["a NUL in a Struct key", '{"segment_id":"s","additional_params":{"a\\u0000b":1}}', "additional_params", "NUL"],
    ["a lone surrogate in a nested Struct value", '{"segment_id":"s","additional_params":{"x":{"y":["ok","\\ud800"]}}}', "additional_params.x.y[1]", "lone surrogate (U+D800)"],
    ["a lone surrogate in a Struct key", '{"segment_id":"s","additional_params":{"\\udc00":1}}', "additional_params", "lone surrogate"],
    // protobuf-es itself refuses a lone surrogate in a proto3 string field; the field is still named.
    ["a lone surrogate in a string field", '{"segment_id":"s","prompt_text":"a\\udbffz"}', "prompt_text", "invalid UTF8"],
    ["a NUL in a string no rule names", '{"segment_id":"s","sampler":"eu\\u0000ler"}', "sampler", "NUL"],
  ])("%s", async (_, body, field, what) => {
    const res = await json(body);
    expect(res.status).toBe(400);
    expect(res.code).toBe("invalid_argument");
    expect(res.field).toBe(field);
    expect(res.message).toContain(`${field}: `);
    expect(res.message).toContain(what);
  });

  it("a NUL in a binary string field over gRPC", async () => {
    const client = createClient(ReceiptService, createGrpcTransport({ baseUrl: s.url }));
    const err = await client.createReceipt({ segmentId: "s", workflowVersion: "v\u00001" }).then(
      () => undefined,
      (e) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.InvalidArgument);
    expect(err?.metadata.get("x-error-field")).toBe("workflow_version");
  });

  it("reached no handler", () => {
    expect(s.calls.get("createReceipt")).toBeUndefined();
  });
});

describe("unknown JSON fields are rejected by name", () => {
  it.each([
    ["Connect JSON over HTTP/1.1", { "content-type": "application/json" }],
    ["Connect JSON over HTTP/1.1 (charset)", { "content-type": "application/json; charset=utf-8" }],
  ])("a CreateReceipt with seedd (%s)", async (_, headers) => {
    const res = await rawConnect(s.url, CREATE, { method: "POST", headers, body: '{"segment_id":"s","seedd":42}' });
    expect(res.status).toBe(400);
    expect(res.code).toBe("invalid_argument");
    expect(res.field).toBe("seedd");
    expect(res.message).toBe("seedd: is not a field of provenance.v1.CreateReceiptRequest; unknown fields are rejected, check the spelling");
  });

  it("a misspelt field of a nested message (wieght in a LoRA)", async () => {
    const res = await rawConnect(s.url, CREATE, { method: "POST", headers: { "content-type": "application/json" }, body: '{"segment_id":"s","loras":[{"wieght":1}]}' });
    expect(res.code).toBe("invalid_argument");
    expect(res.field).toBe("wieght");
    expect(res.message).toContain("provenance.v1.LoraInput");
  });

  it("over a Connect GET, over HTTP/2 and over gRPC with JSON", async () => {
    const get = await rawConnect(s.url, `${GET_RECEIPT}?encoding=json&message=${encodeURIComponent('{"receipt_idd":"r"}')}`, { method: "GET" });
    expect(get.field).toBe("receipt_idd");
    const h2 = await h2Request(s.url, { ":path": CREATE, "content-type": "application/json" }, Buffer.from('{"seedd":1}'));
    expect(h2.headers[":status"]).toBe(400);
    expect(JSON.parse(h2.body.toString()).message).toContain("seedd: is not a field");
    const grpcJson = await rawGrpc(s.url, CREATE, envelope(Buffer.from('{"seedd":1}')), { "content-type": "application/grpc+json" });
    expect(grpcJson.code).toBe(Code.InvalidArgument);
    expect(grpcJson.field).toBe("seedd");
  });

  it("is still lenient about nothing else: a known field in either JSON spelling is accepted", async () => {
    const res = await rawConnect(s.url, CREATE, { method: "POST", headers: { "content-type": "application/json" }, body: '{"segment_id":"s","promptText":"p"}' });
    expect(res.status).toBe(200);
  });

  it("in a REST body", async () => {
    const res = await fetch(`${s.url}/api/segments/s-1/receipt`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt_text: "p", wieght: 1 }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: "invalid_argument",
      field: "wieght",
      message: "wieght: is not a field of provenance.v1.CreateReceiptRequest; unknown fields are rejected, check the spelling",
    });
    const taken = await fetch(`${s.url}/api/segments/s-1/receipt`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ segment_id: "other" }) });
    expect(await taken.json()).toMatchObject({ code: "invalid_argument", field: "segment_id" });
    const ok = await fetch(`${s.url}/api/segments/s-1/receipt`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt_text: "p" }) });
    expect(ok.status).toBe(200);
  });

  it("through the generated clients too (Connect, gRPC-Web): valid requests still pass", async () => {
    for (const transport of [createConnectTransport({ baseUrl: s.url, httpVersion: "1.1", useBinaryFormat: false }), createGrpcWebTransport({ baseUrl: s.url, httpVersion: "1.1" })]) {
      const client = createClient(ReceiptService, transport);
      expect((await client.getReceipt({ receiptId: "r-9" })).receipt?.receiptId).toBe("r-9");
    }
  });
});
