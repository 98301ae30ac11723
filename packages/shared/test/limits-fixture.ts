/**
 * A test service on the shared bootstrap (createServiceServer + commonServerOptions) with the real ReceiptService,
 * AssetService and StalenessService descriptors and handlers that touch no database, plus raw clients for each wire
 * protocol, so the hostile-input tests send exactly the bytes they mean to.
 */
import { EventEmitter } from "node:events";
import * as http2 from "node:http2";
import * as net from "node:net";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import type { ServerLimits } from "../src/config/index.js";
import {
  AssetService,
  CreateReceiptRequestSchema,
  CreateReceiptResponseSchema,
  CreateReceiptsRequestSchema,
  CreateReceiptsResponseSchema,
  GetReceiptResponseSchema,
  PublishVersionResponseSchema,
  ReceiptService,
  StalenessService,
  WatchStalenessResponseSchema,
} from "../src/index.js";
import { commonServerOptions, createServiceServer, type ServiceServer } from "../src/server/index.js";
import { parseRestBody } from "../src/server/rest-routes.js";
import { defineRules, each, id, message, struct, text, validate, type RuleTable } from "../src/validation/index.js";

const logger = pino({ level: "silent" });

const createTable = defineRules(CreateReceiptRequestSchema, {
  segment_id: id(),
  // Looser than the request limits on purpose: a table cannot loosen them.
  prompt_text: text({ max: 1_000_000 }),
  additional_params: struct({ maxBytes: 1_000_000 }),
  loras: each(message({}), { max: 1000 }),
  // Tighter than the request limits: a table can tighten them.
  character_name: text({ max: 10 }),
});

/** The rule tables of the test service. */
export const fixtureRules: readonly RuleTable[] = [
  createTable,
  defineRules(CreateReceiptsRequestSchema, { receipts: each(message(createTable), { max: 5000 }) }),
];

/** A running test service: its URL, port, what its handlers saw, and a way to push to WatchStaleness streams. */
export interface FixtureService {
  server: ServiceServer;
  url: string;
  port: number;
  /** Requests that reached a handler, by method name. */
  calls: Map<string, number>;
  /** Sends one WatchStaleness message (project_id = `projectId`) to every open stream. */
  push(projectId: string): void;
  close(): Promise<void>;
}

/** Starts the test service on port 0 with `limits` (what is not given comes from the environment). */
export async function startFixture(limits?: Partial<ServerLimits>): Promise<FixtureService> {
  const calls = new Map<string, number>();
  const seen = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  const pushes = new EventEmitter();
  pushes.setMaxListeners(0);
  const server = createServiceServer({
    name: "limits-fixture",
    services: [ReceiptService.typeName, AssetService.typeName, StalenessService.typeName],
    routes: (router) => {
      router.service(ReceiptService, {
        async createReceipt(req) {
          seen("createReceipt");
          return create(CreateReceiptResponseSchema, { receipt: { receiptId: "r-1", segmentId: req.segmentId }, created: true });
        },
        async createReceipts(req) {
          seen("createReceipts");
          return create(CreateReceiptsResponseSchema, { results: req.receipts.map(() => ({ created: true })) });
        },
        async getReceipt(req) {
          seen("getReceipt");
          return create(GetReceiptResponseSchema, { receipt: { receiptId: req.receiptId } });
        },
      });
      router.service(AssetService, {
        async publishVersion(req) {
          seen("publishVersion");
          return create(PublishVersionResponseSchema, { version: { assetId: req.assetId, version: 1 }, created: true });
        },
      });
      router.service(StalenessService, {
        async *watchStaleness(req, ctx) {
          seen("watchStaleness");
          yield create(WatchStalenessResponseSchema, {});
          const queue: string[] = [];
          let wake: (() => void) | undefined;
          const onPush = (projectId: string) => {
            queue.push(projectId);
            wake?.();
          };
          pushes.on("push", onPush);
          ctx.signal.addEventListener("abort", () => wake?.());
          try {
            while (!ctx.signal.aborted) {
              const next = queue.shift();
              if (next !== undefined) {
                yield create(WatchStalenessResponseSchema, { change: { projectId: next } } as never);
                continue;
              }
              await new Promise<void>((resolve) => (wake = resolve));
            }
          } finally {
            pushes.off("push", onPush);
          }
        },
      });
    },
    ...commonServerOptions({ logger, limits: limits as ServerLimits | undefined }, fixtureRules),
    rest: [
      {
        method: "POST",
        path: "/api/segments/:id/receipt",
        handler: async ({ params, body }) => {
          const req = parseRestBody(CreateReceiptRequestSchema, body, { segment_id: params.id! });
          validate(CreateReceiptRequestSchema, req, fixtureRules);
          seen("restCreateReceipt");
          return { receiptId: "r-1" };
        },
      },
    ],
  });
  const { url, port } = await server.listen(0, "127.0.0.1");
  return { server, url, port, calls, push: (p) => pushes.emit("push", p), close: () => server.close(500) };
}

/** A gRPC / Connect envelope: flags, 4-byte big-endian length, payload. */
export function envelope(payload: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + payload.byteLength);
  out[0] = flags;
  out.writeUInt32BE(payload.byteLength, 1);
  out.set(payload, 5);
  return out;
}

/** The frames of an enveloped body. */
export function frames(body: Uint8Array): { flags: number; data: Buffer }[] {
  const buf = Buffer.from(body);
  const out: { flags: number; data: Buffer }[] = [];
  for (let i = 0; i + 5 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 1);
    out.push({ flags: buf[i]!, data: buf.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}

/** A status as a gRPC or gRPC-Web client reads it. */
export interface GrpcStatus {
  code: number;
  message: string;
  field?: string;
  /** Bytes of the whole answer (headers aside). */
  bytes: number;
}

/** One raw HTTP/2 request; resolves with the status, headers, trailers and body. */
export function h2Request(
  url: string,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array | undefined,
): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    // Node's client counts a large upload it has queued against its own session memory (10 MB by default) and
    // resets the stream itself; allow it, so what is seen is the server's answer.
    const session = http2.connect(url, { maxSessionMemory: 1024 });
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", ...headers });
    let head: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => (head = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      resolve({ headers: head, trailers, body: Buffer.concat(chunks) });
    });
    stream.end(body);
  });
}

function statusFrom(h: Record<string, unknown>, bytes: number): GrpcStatus {
  const message = String(h["grpc-message"] ?? "");
  return {
    code: Number(h["grpc-status"]),
    message: decodeURIComponent(message),
    field: h["x-error-field"] === undefined ? undefined : String(h["x-error-field"]),
    bytes,
  };
}

/** A gRPC call over HTTP/2 with a hand-made body; the status from the trailers (or a trailers-only answer). */
export async function rawGrpc(url: string, path: string, body: Uint8Array, headers: http2.OutgoingHttpHeaders = {}): Promise<GrpcStatus> {
  const res = await h2Request(url, { ":path": path, "content-type": "application/grpc", te: "trailers", ...headers }, body);
  const h = res.trailers["grpc-status"] !== undefined ? res.trailers : res.headers;
  return statusFrom(h, res.body.length);
}

/** A gRPC-Web call over HTTP/1.1 (fetch) with a hand-made body; the status from the trailer frame. */
export async function rawGrpcWeb(url: string, path: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<GrpcStatus> {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...headers },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const trailer = frames(bytes).find((f) => (f.flags & 0x80) === 0x80);
  const h: Record<string, string> = {};
  for (const line of (trailer?.data.toString("utf8") ?? "").split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  if (h["grpc-status"] === undefined) res.headers.forEach((v, k) => (h[k] = v));
  return statusFrom(h, bytes.length);
}

/** A gRPC-Web call over HTTP/2. */
export async function rawGrpcWebH2(url: string, path: string, body: Uint8Array): Promise<GrpcStatus> {
  const res = await h2Request(url, { ":path": path, "content-type": "application/grpc-web+proto", "x-grpc-web": "1" }, body);
  const trailer = frames(res.body).find((f) => (f.flags & 0x80) === 0x80);
  const h: Record<string, string> = {};
  for (const line of (trailer?.data.toString("utf8") ?? "").split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0) h[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return statusFrom(h, res.body.length);
}

/** A Connect unary answer: HTTP status, the error JSON (if any), its size and the field header. */
export interface ConnectAnswer {
  status: number;
  code?: string;
  message?: string;
  field: string | null;
  bytes: number;
}

/** A Connect unary call over HTTP/1.1 (fetch). */
export async function rawConnect(url: string, path: string, init: RequestInit): Promise<ConnectAnswer> {
  const res = await fetch(`${url}${path}`, init);
  const text = await res.text();
  let parsed: { code?: string; message?: string } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // a binary success
  }
  return { status: res.status, code: parsed.code, message: parsed.message, field: res.headers.get("x-error-field"), bytes: text.length };
}

/** Opens a raw TCP connection; `closed` resolves with the time it took the server to close it and what it sent. */
export function rawSocket(port: number): { socket: net.Socket; closed: Promise<{ afterMs: number; received: string }> } {
  const started = Date.now();
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
  socket.on("error", () => undefined);
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
    socket.once("close", () => resolve({ afterMs: Date.now() - started, received })),
  );
  return { socket, closed };
}

/** Writes `text` one byte every `everyMs` until the socket closes; resolves with how many bytes went out. */
export async function trickle(socket: net.Socket, text: string | Buffer, everyMs: number): Promise<number> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1");
  let sent = 0;
  while (sent < bytes.length && !socket.destroyed) {
    socket.write(bytes.subarray(sent, sent + 1));
    sent++;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return sent;
}
