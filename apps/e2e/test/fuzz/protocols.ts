/**
 * The wire protocols the services speak, from the outside: how a case's payload goes on the wire for each (Connect
 * JSON and binary, POST and GET, gRPC, gRPC-Web) and how an answer is read back — and judged: an answer is either a
 * well-formed success or error of its protocol (a parseable status, a known code, messages that decode as the RPC's
 * output) or it is malformed, and the property says why.
 */
import * as zlib from "node:zlib";
import { fromBinary, fromJson, type DescMethod, type JsonValue } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { envelope, frames, type RawBody, type RawRequest, type RawResponse, type ReadTimes } from "./wire.js";

/** Longest Connect GET path sent over HTTP/2 (below the 64 KiB header list Node's HTTP/2 server takes). */
export const H2_MAX_GET_PATH = 60_000;

/** How a request is sent. Connect GET only for NO_SIDE_EFFECTS unary RPCs. */
export type Protocol = "connect-json" | "connect-proto" | "connect-get-json" | "connect-get-proto" | "grpc" | "grpc-web";

/** Every protocol. */
export const PROTOCOLS: readonly Protocol[] = ["connect-json", "connect-proto", "connect-get-json", "connect-get-proto", "grpc", "grpc-web"];

/** Whether `protocol` carries JSON (else protobuf binary). */
export function isJson(protocol: Protocol): boolean {
  return protocol === "connect-json" || protocol === "connect-get-json";
}

/** Whether `protocol` is a Connect GET. */
export function isGet(protocol: Protocol): boolean {
  return protocol === "connect-get-json" || protocol === "connect-get-proto";
}

/** What goes in the request besides the payload. */
export interface Framing {
  /** `authorization` header value, or none. */
  authorization?: string;
  /** Compress the message (gzip), or send it flagged as compressed with a name the server does not know. */
  compression?: "gzip" | "br" | "bogus" | "flagged-without-encoding";
  /** Replace the content type (garbage content types). */
  contentType?: string;
  /** Extra headers (timeouts, protocol versions), set last. */
  headers?: Record<string, string>;
  /** For enveloped protocols: how the envelope is wrong, if it is. */
  envelope?: "two-messages" | "none" | "length-too-long" | "length-too-short" | "trailer-flag" | "junk-after";
  http?: "1.1" | "2";
  /** Send the body as a stream of chunks (no content-length). */
  chunked?: boolean;
  /** Another HTTP method than the protocol's (e.g. PUT, or GET of an RPC that allows only POST). */
  httpMethod?: "GET" | "PUT";
}

/** A payload: JSON text (for JSON protocols) or bytes (binary ones), or a lazily produced huge body. */
export type Payload = { json: string } | { binary: Uint8Array } | { stream: () => AsyncIterable<Uint8Array>; kind: "json" | "binary"; length: number };

function compress(bytes: Uint8Array, how: Framing["compression"]): Uint8Array {
  if (how === "gzip") return zlib.gzipSync(bytes);
  if (how === "br") return zlib.brotliCompressSync(bytes);
  return bytes;
}

function payloadBytes(payload: Payload): Uint8Array | undefined {
  if ("json" in payload) return Buffer.from(payload.json, "utf8");
  if ("binary" in payload) return payload.binary;
  return undefined;
}

function envelopeBody(message: Uint8Array, framing: Framing): Uint8Array {
  const flags = framing.compression !== undefined ? 1 : 0;
  const one = envelope(message, flags);
  switch (framing.envelope) {
    case "two-messages":
      return Buffer.concat([one, one]);
    case "none":
      return new Uint8Array(0);
    case "length-too-long": {
      const b = Buffer.from(one);
      b.writeUInt32BE(message.byteLength + 17, 1);
      return b;
    }
    case "length-too-short": {
      const b = Buffer.from(one);
      b.writeUInt32BE(Math.max(0, message.byteLength - 3), 1);
      return b;
    }
    case "trailer-flag":
      return envelope(message, 0x80 | flags);
    case "junk-after":
      return Buffer.concat([one, Buffer.from([0x00, 0x00])]);
    default:
      return one;
  }
}

function compressionHeaders(protocol: Protocol, framing: Framing, enveloped: boolean): Record<string, string> {
  const c = framing.compression;
  if (c === undefined || c === "flagged-without-encoding") return {};
  const name = c === "bogus" ? "zstd-nope" : c;
  if (protocol === "grpc" || protocol === "grpc-web") return { "grpc-encoding": name };
  return enveloped ? { "connect-content-encoding": name } : { "content-encoding": name };
}

/** Whether the RPC's requests are enveloped on this protocol (gRPC, gRPC-Web, Connect streaming). */
function envelopedOn(protocol: Protocol, method: DescMethod): boolean {
  return protocol === "grpc" || protocol === "grpc-web" || method.methodKind !== "unary";
}

/** Builds the request for `payload` on `protocol` (the payload's kind must match {@link isJson}). */
export function buildRequest(path: string, method: DescMethod, protocol: Protocol, payload: Payload, framing: Framing = {}): RawRequest {
  const headers: Record<string, string> = {};
  if (framing.authorization !== undefined) headers.authorization = framing.authorization;
  const bytes = payloadBytes(payload);
  const enveloped = envelopedOn(protocol, method);
  let body: RawBody | undefined;
  let reqPath = path;
  let httpVersion: "1.1" | "2" = framing.http ?? (protocol === "grpc" ? "2" : "1.1");
  if (protocol === "grpc") httpVersion = "2";

  if (isGet(protocol)) {
    const q = new URLSearchParams({ connect: "v1", encoding: protocol === "connect-get-json" ? "json" : "proto" });
    let message = bytes ?? new Uint8Array(0);
    if (framing.compression === "gzip" || framing.compression === "br") {
      message = compress(message, framing.compression);
      q.set("compression", framing.compression);
    } else if (framing.compression === "bogus") q.set("compression", "zstd-nope");
    if (protocol === "connect-get-proto" || framing.compression !== undefined) {
      q.set("base64", "1");
      q.set("message", Buffer.from(message).toString("base64url"));
    } else q.set("message", Buffer.from(message).toString("utf8"));
    reqPath = `${path}?${q.toString()}`;
    Object.assign(headers, framing.headers);
    // HTTP/2 refuses a header list past the SETTINGS_MAX_HEADER_LIST_SIZE the server announced (64 KiB) with
    // RST_STREAM before any request exists — the justified exception, see gets-too-long in findings.test.ts; over
    // HTTP/1.1 the same GET is answered 431 with a Connect error.
    if (reqPath.length > H2_MAX_GET_PATH) httpVersion = "1.1";
    return { method: "GET", path: reqPath, headers, http: httpVersion };
  }

  if (protocol === "connect-json" || protocol === "connect-proto") {
    const json = protocol === "connect-json";
    if (enveloped) headers["content-type"] = json ? "application/connect+json" : "application/connect+proto";
    else headers["content-type"] = json ? "application/json" : "application/proto";
    headers["connect-protocol-version"] = "1";
  } else if (protocol === "grpc") {
    headers["content-type"] = "application/grpc";
    headers.te = "trailers";
  } else {
    headers["content-type"] = "application/grpc-web+proto";
    headers["x-grpc-web"] = "1";
  }
  Object.assign(headers, compressionHeaders(protocol, framing, enveloped));
  if (framing.contentType !== undefined) {
    if (framing.contentType === "") delete headers["content-type"];
    else headers["content-type"] = framing.contentType;
  }
  Object.assign(headers, framing.headers);

  if (bytes === undefined) {
    const { stream, length } = payload as Extract<Payload, { stream: unknown }>;
    // A huge body, made as it is sent: enveloped behind a length prefix that says what follows, or raw.
    body = enveloped
      ? async function* () {
          const head = Buffer.alloc(5);
          head.writeUInt32BE(length, 1);
          yield head;
          yield* stream();
        }
      : stream;
  } else {
    const message = compress(bytes, framing.compression);
    const full = enveloped ? envelopeBody(message, framing) : message;
    body = framing.chunked
      ? async function* () {
          for (let i = 0; i < full.byteLength; i += 16 * 1024) yield full.subarray(i, i + 16 * 1024);
        }
      : full;
  }
  return { method: framing.httpMethod ?? "POST", path: reqPath, headers, body, http: httpVersion };
}

/** How long a response stream may stay silent before it counts as open and accepted (refusals take milliseconds). */
export const STREAM_OPEN_AFTER_MS = 250;

/** How long to read an answer: a response stream (WatchStaleness) is read until its first message or its end. */
export function readTimesFor(method: DescMethod): ReadTimes {
  if (method.methodKind === "unary") return {};
  return {
    // A valid WatchStaleness sends nothing until a change; a refusal comes at once.
    openAfterMs: STREAM_OPEN_AFTER_MS,
    bodyMs: 1500,
    // One whole frame is enough to judge an open stream.
    enoughBytes: (body) => frames(body).frames.length > 0,
  };
}

/** An answer as a client of its protocol reads it. */
export interface Answer {
  /** undefined: the call succeeded (or a stream is open and well-formed so far). */
  code?: Code;
  message?: string;
  /** The `x-error-field` the answer names, if any. */
  field?: string;
  /** How many response messages came and decoded. */
  messages: number;
  /** Why this is not a well-formed answer of its protocol, or undefined when it is. */
  malformed?: string;
  httpStatus: number;
}

const CODE_BY_NAME = new Map<string, Code>(
  Object.entries(Code)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [k.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase(), v as Code]),
);

/** The snake_case wire name of a code. */
export function codeName(code: Code | undefined): string {
  if (code === undefined) return "ok";
  for (const [k, v] of CODE_BY_NAME) if (v === code) return k;
  return `code ${code}`;
}

/** Non-200 answers that carry no Connect error body but are what the protocol prescribes, with the code a client reads. */
const PLAIN_HTTP_ANSWERS: ReadonlyMap<number, Code> = new Map();

function connectError(res: RawResponse): Answer {
  const type = res.headers["content-type"] ?? "";
  const base = { httpStatus: res.status, messages: 0, field: res.headers["x-error-field"] };
  if (!type.startsWith("application/json")) {
    const plain = PLAIN_HTTP_ANSWERS.get(res.status);
    if (plain !== undefined && res.body.length === 0) return { ...base, code: plain };
    return { ...base, code: Code.Unknown, malformed: `HTTP ${res.status} with content-type "${type}" and no Connect error body (${res.body.subarray(0, 80).toString()})` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body.toString("utf8"));
  } catch {
    return { ...base, code: Code.Unknown, malformed: `HTTP ${res.status}: the error body is not JSON` };
  }
  const p = parsed as { code?: unknown; message?: unknown };
  const code = typeof p.code === "string" ? CODE_BY_NAME.get(p.code) : undefined;
  if (code === undefined) return { ...base, code: Code.Unknown, malformed: `HTTP ${res.status}: the error body has no known code (${res.body.subarray(0, 120).toString()})` };
  if (p.message !== undefined && typeof p.message !== "string") return { ...base, code, malformed: "the error message is not a string" };
  const message = p.message as string | undefined;
  if (codeToHttpStatus(code) !== res.status && !allowedStatus(res.status, code)) {
    return { ...base, code, message, malformed: `HTTP ${res.status} does not go with code ${codeName(code)} (${codeToHttpStatus(code)})` };
  }
  return { ...base, code, message };
}

/** Statuses the protocols prescribe for refusals before any RPC is chosen, with the code in their Connect error body. */
const REFUSAL_STATUSES: ReadonlyMap<number, Code> = new Map([
  [405, Code.Unimplemented], // an HTTP method the RPC does not take (with Allow)
  [408, Code.DeadlineExceeded], // a request not sent in time
  [413, Code.ResourceExhausted],
  [415, Code.InvalidArgument], // a content type no protocol speaks
  [431, Code.ResourceExhausted], // a request line and headers past what the server reads (a Connect GET too long)
]);

function allowedStatus(status: number, code: Code): boolean {
  return REFUSAL_STATUSES.get(status) === code;
}

function decodes(method: DescMethod, data: Uint8Array, json: boolean): string | undefined {
  try {
    if (json) fromJson(method.output, JSON.parse(Buffer.from(data).toString("utf8")) as JsonValue, { ignoreUnknownFields: false });
    else fromBinary(method.output, data);
    return undefined;
  } catch (err) {
    return `a response message does not decode as ${method.output.typeName}: ${(err as Error).message}`;
  }
}

function connectUnary(method: DescMethod, res: RawResponse, json: boolean): Answer {
  if (res.status !== 200) return connectError(res);
  const type = res.headers["content-type"] ?? "";
  const want = json ? "application/json" : "application/proto";
  if (!type.startsWith(want)) return { httpStatus: 200, messages: 0, malformed: `HTTP 200 with content-type "${type}", not ${want}` };
  if (res.headers["content-encoding"] && res.headers["content-encoding"] !== "identity") return { httpStatus: 200, messages: 0, malformed: "a compressed answer to a request that accepts none" };
  const bad = decodes(method, res.body, json);
  return bad ? { httpStatus: 200, messages: 0, malformed: bad } : { httpStatus: 200, messages: 1 };
}

function connectStream(method: DescMethod, res: RawResponse, json: boolean): Answer {
  if (res.status !== 200) return connectError(res);
  const type = res.headers["content-type"] ?? "";
  const want = json ? "application/connect+json" : "application/connect+proto";
  if (!type.startsWith(want)) return { httpStatus: 200, messages: 0, malformed: `HTTP 200 with content-type "${type}", not ${want}` };
  const { frames: list, rest } = frames(res.body);
  let messages = 0;
  for (const f of list) {
    if ((f.flags & 0x02) === 0x02) {
      let end: { error?: { code?: unknown; message?: unknown } };
      try {
        end = JSON.parse(f.data.toString("utf8")) as typeof end;
      } catch {
        return { httpStatus: 200, messages, malformed: "the end-of-stream frame is not JSON" };
      }
      if (end.error === undefined) return { httpStatus: 200, messages };
      const code = typeof end.error.code === "string" ? CODE_BY_NAME.get(end.error.code) : undefined;
      if (code === undefined) return { httpStatus: 200, messages, malformed: `the end-of-stream error has no known code` };
      return { httpStatus: 200, messages, code, message: typeof end.error.message === "string" ? end.error.message : undefined };
    }
    const bad = decodes(method, f.data, json);
    if (bad) return { httpStatus: 200, messages, malformed: bad };
    messages++;
  }
  if (!res.cut) return { httpStatus: 200, messages, malformed: `the stream ended without an end-of-stream frame${rest ? ` (${rest} stray bytes)` : ""}` };
  return { httpStatus: 200, messages };
}

function grpcStatus(h: Record<string, string>, messages: number, httpStatus: number): Answer {
  const raw = h["grpc-status"];
  if (raw === undefined || !/^\d{1,2}$/.test(raw) || Number(raw) > 16) return { httpStatus, messages, malformed: `grpc-status ${JSON.stringify(raw)} is not a status` };
  let message = h["grpc-message"];
  if (message !== undefined) {
    try {
      message = decodeURIComponent(message);
    } catch {
      return { httpStatus, messages, malformed: "grpc-message is not percent-encoded" };
    }
  }
  const code = Number(raw) === 0 ? undefined : (Number(raw) as Code);
  return { httpStatus, messages, code, message, field: h["x-error-field"] };
}

function grpc(method: DescMethod, res: RawResponse): Answer {
  if (res.status !== 200) return { ...connectError(res), malformed: `gRPC answered HTTP ${res.status}` };
  const type = res.headers["content-type"] ?? "";
  if (!type.startsWith("application/grpc")) return { httpStatus: 200, messages: 0, malformed: `content-type "${type}" is not gRPC` };
  const { frames: list, rest } = frames(res.body);
  let messages = 0;
  for (const f of list) {
    if (f.flags !== 0) return { httpStatus: 200, messages, malformed: `a response frame with flags ${f.flags}` };
    const bad = decodes(method, f.data, false);
    if (bad) return { httpStatus: 200, messages, malformed: bad };
    messages++;
  }
  if (res.cut) return { httpStatus: 200, messages };
  if (rest) return { httpStatus: 200, messages, malformed: `${rest} stray bytes after the last frame` };
  const trailers = res.trailers["grpc-status"] !== undefined ? res.trailers : res.headers;
  return grpcStatus(trailers, messages, 200);
}

function grpcWeb(method: DescMethod, res: RawResponse): Answer {
  if (res.status !== 200) return { ...connectError(res), malformed: `gRPC-Web answered HTTP ${res.status}` };
  const type = res.headers["content-type"] ?? "";
  if (!type.startsWith("application/grpc-web")) return { httpStatus: 200, messages: 0, malformed: `content-type "${type}" is not gRPC-Web` };
  if (res.headers["grpc-status"] !== undefined) return grpcStatus(res.headers, 0, 200);
  const { frames: list } = frames(res.body);
  let messages = 0;
  for (const f of list) {
    if ((f.flags & 0x80) === 0x80) {
      const h: Record<string, string> = {};
      for (const line of f.data.toString("utf8").split("\r\n")) {
        const i = line.indexOf(":");
        if (i > 0) h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      return grpcStatus(h, messages, 200);
    }
    const bad = decodes(method, f.data, false);
    if (bad) return { httpStatus: 200, messages, malformed: bad };
    messages++;
  }
  if (res.cut) return { httpStatus: 200, messages };
  return { httpStatus: 200, messages, malformed: "the body ended without a trailer frame" };
}

/**
 * Reads `res`, the answer to a request of `method` on `protocol`. A request the server cannot place in any protocol
 * (`refusedBeforeRpc`: a garbage content type, a wrong HTTP method) is answered before any protocol is chosen, so
 * it is judged as Connect judges a plain HTTP answer: a non-200 status with a Connect error body.
 */
export function readAnswer(method: DescMethod, protocol: Protocol, res: RawResponse, refusedBeforeRpc = false): Answer {
  if (res.status === 0 && res.cut) {
    return method.methodKind === "unary" ? { httpStatus: 0, messages: 0, malformed: "no answer" } : { httpStatus: 0, messages: 0 };
  }
  if (refusedBeforeRpc && res.status !== 200) return connectError(res);
  switch (protocol) {
    case "grpc":
      return grpc(method, res);
    case "grpc-web":
      return grpcWeb(method, res);
    default:
      return method.methodKind === "unary" ? connectUnary(method, res, isJson(protocol)) : connectStream(method, res, isJson(protocol));
  }
}
